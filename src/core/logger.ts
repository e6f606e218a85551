/** What pure code needs from a log; the extension passes its LogOutputChannel, the CLI stderr. */
export interface Logger {
	trace(message: string, ...args: unknown[]): void;
	debug(message: string, ...args: unknown[]): void;
	info(message: string, ...args: unknown[]): void;
	warn(message: string, ...args: unknown[]): void;
	error(message: string | Error, ...args: unknown[]): void;
}

export const nullLogger: Logger = {
	trace() {},
	debug() {},
	info() {},
	warn() {},
	error() {},
};

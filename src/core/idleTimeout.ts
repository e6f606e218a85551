/**
 * A watchdog for one request: when nothing arrives for `ms` (no response headers, no body bytes), its
 * signal aborts with an `IdleTimeoutError`. Node's fetch gives up only after 5 minutes of silence
 * and lets nobody shorten that (see httpErrors.ts), so a server that sends its headers and then hangs
 * would otherwise hold a candidate, and the whole run, that long. The clients call `touch()` as bytes
 * arrive and map the error with `transportError`, which names `bestOfN.requestIdleSeconds`.
 */

export class IdleTimeoutError extends Error {
	constructor(readonly ms: number) {
		super(`nothing arrived for ${ms} ms`);
		this.name = 'IdleTimeoutError';
	}
}

export class IdleTimer {
	/** Follows the caller's signal, and aborts on its own after `ms` of silence. */
	readonly signal: AbortSignal;
	private readonly controller = new AbortController();
	private timer: ReturnType<typeof setTimeout> | undefined;
	private stopped = false;

	/** `ms` ≤ 0 never fires. */
	constructor(
		readonly ms: number,
		parent: AbortSignal,
	) {
		this.signal = ms > 0 ? AbortSignal.any([parent, this.controller.signal]) : parent;
		this.touch();
	}

	/** Whether it fired: whatever the request threw after that is this timeout. */
	get fired(): boolean {
		return this.controller.signal.aborted;
	}

	/** The error to report once it fired. */
	get error(): IdleTimeoutError {
		return new IdleTimeoutError(this.ms);
	}

	/** Something arrived: the silence starts again from now. */
	touch(): void {
		if (this.ms <= 0 || this.stopped || this.fired) return;
		clearTimeout(this.timer);
		this.timer = setTimeout(() => this.controller.abort(new IdleTimeoutError(this.ms)), this.ms);
	}

	/** The request is over, whatever its outcome. */
	stop(): void {
		this.stopped = true;
		clearTimeout(this.timer);
	}
}

/** `ms` as people say it: "0.3 s", "120 s". */
export function formatSeconds(ms: number): string {
	return `${Number((ms / 1000).toFixed(3))} s`;
}

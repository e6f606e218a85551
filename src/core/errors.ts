/**
 * Errors a person can act on. Every layer converts what went wrong into a `BestOfNError` whose text
 * names the culprit and the way out, and whose `kind` lets a front end offer buttons (retry, pull the
 * model, open settings, show the log).
 *
 * Where the way out is a setting, the error carries it as data: its text holds `{field}` placeholders
 * (a `Settings` field, e.g. `{ollamaHost}`) and `setting` names the one to change. Each front end
 * renders them its own way with `describeError`: the extension as `bestOfN.ollama.host` (and an
 * "Open Settings" button on it), the CLI as `--host`. `message` is the extension's rendering, for logs.
 */
import { keyOf, SETTING_KEYS, type Settings } from './settings';

export type ErrorKind =
	/** Nothing answered at the host: the server is not running or the host setting is wrong. */
	| 'unreachable'
	/** The server refused the request's credentials (HTTP 401/403). */
	| 'unauthorized'
	/** The server answered that the generation model is not installed or not served. */
	| 'model-not-found'
	/** The server answered with an error of its own; the message carries its words. */
	| 'server'
	/** The connection ended before the response's final line. */
	| 'stream-cut'
	/** The user (or a new run) cancelled. Never shown as a failure. */
	| 'cancelled'
	/** The reward model could not be found (no such folder or Hub id, or no network to fetch it). */
	| 'reward-not-found'
	/** The reward model exists but has no ONNX export that transformers.js can load. */
	| 'reward-no-onnx'
	/** The reward model failed to load or score for another reason. */
	| 'reward-failed'
	/** The built-in generator's model failed to load or to generate for a reason other than a missing piece. */
	| 'builtin-failed'
	/** The reward worker crashed or exited. */
	| 'worker-crashed'
	/** The user's input was unusable (empty selection, empty instruction). */
	| 'bad-input';

export type SettingField = keyof Settings;

/** How a front end names a setting: `bestOfN.ollama.host` in the extension, `--host` in the CLI. */
export type SettingNamer = (field: SettingField) => string;

export interface BestOfNErrorOptions {
	readonly cause?: unknown;
	/** The setting whose change is the way out (the extension opens it, the CLI names its flag). */
	readonly setting?: SettingField;
}

/** The extension's names: `bestOfN.<key>` as in package.json, from the one table that maps them. */
export const settingName: SettingNamer = field => `bestOfN.${keyOf(field)}`;

export class BestOfNError extends Error {
	/** The text with `{field}` where a setting is named. */
	readonly template: string;
	readonly setting?: SettingField;

	constructor(
		readonly kind: ErrorKind,
		template: string,
		options: BestOfNErrorOptions = {},
	) {
		super(render(template, settingName), { cause: options.cause });
		this.name = 'BestOfNError';
		this.template = template;
		this.setting = options.setting;
	}

	/** This error's text with settings named by `name`. */
	describe(name: SettingNamer): string {
		return render(this.template, name);
	}
}

const FIELDS: ReadonlySet<string> = new Set(Object.values(SETTING_KEYS));

/** Only placeholders that are setting fields: a server's words quoted in the text may hold braces too. */
function render(template: string, name: SettingNamer): string {
	return template.replace(/\{([A-Za-z]+)\}/g, (whole, field: string) => (FIELDS.has(field) ? name(field as SettingField) : whole));
}

export function isCancelled(e: unknown): boolean {
	return (e instanceof BestOfNError && e.kind === 'cancelled') || (e instanceof Error && e.name === 'AbortError');
}

export function cancelledError(): BestOfNError {
	return new BestOfNError('cancelled', 'Cancelled.');
}

/** A message for anything thrown, preferring our own sentences, with settings named the extension's way. */
export function errorMessage(e: unknown): string {
	if (e instanceof Error) return e.message;
	return String(e);
}

/** A message for anything thrown, with settings named by `name` (the CLI passes its flags). */
export function describeError(e: unknown, name: SettingNamer = settingName): string {
	if (e instanceof BestOfNError) return e.describe(name);
	return errorMessage(e);
}

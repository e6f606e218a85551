/**
 * Messages between the extension (or CLI) and the built-in generator's worker thread, which runs a
 * small instruct model with transformers.js. Both sides import this file. Every request carries an
 * `id`; the worker answers each with exactly one `loaded`, `generated` or `error` of the same id, after
 * any number of `progress` (a load) or `delta` (a generation) messages. `cancel` is the exception: it
 * is not answered, it makes the generation of that id end at its next token.
 */
import type { ErrorKind, SettingField } from './errors';
import type { ChatMessage } from './generation';
import type { LoadProgress } from './reward';

import type { BuiltinDtype } from './settings';

export type { BuiltinDtype } from './settings';

/**
 * The worker's name, which Node (24 on) also gives its OS thread, and which the threads it starts
 * (onnxruntime's) inherit: top -H, profilers, /proc/PID/task/TID/comm. Linux keeps 15 characters of a
 * thread's name; this is 15.
 */
export const GENERATOR_THREAD = 'bestofn-builtin';

export interface BuiltinLoadRequest {
	/** A Hub id or an absolute folder. */
	readonly model: string;
	readonly dtype: BuiltinDtype;
	/** Where Hub downloads are cached (the extension's global storage). */
	readonly cacheDir: string;
	/** False forbids any network access: only local folders and the cache are used. */
	readonly allowRemote: boolean;
	/** Threads for onnxruntime; 0 lets it choose. */
	readonly threads: number;
}

export interface BuiltinModelInfo {
	/** What was configured (Hub id or folder). */
	readonly id: string;
	readonly source: 'local' | 'hub';
	/** The model's architecture as its config names it (`qwen2`). */
	readonly modelType: string;
	/** How long the load took, in ms. */
	readonly loadMs: number;
}

/** `rows` samples of one prompt, generated together. */
export interface BatchRequest {
	readonly messages: readonly ChatMessage[];
	readonly rows: number;
	readonly temperature: number;
	readonly topP: number;
	readonly maxTokens: number;
	/** Seeds transformers.js's sampler: the same seed, rows and options give the same texts. */
	readonly seed: number;
}

export interface RowResult {
	readonly text: string;
	/** Tokens generated for this row (up to and without its end token). */
	readonly tokens: number;
	/** `stop` at the end token, `length` at `maxTokens`, `cancelled` when its row was cancelled. */
	readonly doneReason: 'stop' | 'length' | 'cancelled';
}

export interface BatchResult {
	readonly rows: readonly RowResult[];
	/** Wall time of the generation (prompt and every step), in ms. */
	readonly ms: number;
}

/** Sent by the host. */
export type HostToBuiltinWorker =
	| { readonly type: 'load'; readonly id: number; readonly request: BuiltinLoadRequest }
	| { readonly type: 'generate'; readonly id: number; readonly batch: BatchRequest }
	/** Stops `rows` (all when absent) of generation `id` at the next token; unanswered. */
	| { readonly type: 'cancel'; readonly id: number; readonly rows?: readonly number[] };

/** Sent by the worker. */
export type BuiltinWorkerToHost =
	| { readonly type: 'progress'; readonly id: number; readonly progress: LoadProgress }
	| { readonly type: 'loaded'; readonly id: number; readonly info: BuiltinModelInfo }
	| { readonly type: 'delta'; readonly id: number; readonly row: number; readonly text: string }
	| { readonly type: 'generated'; readonly id: number; readonly result: BatchResult }
	/** `message` is the error's template: `{field}` where a setting is named, `setting` the one to change. */
	| { readonly type: 'error'; readonly id: number; readonly kind: ErrorKind; readonly message: string; readonly setting?: SettingField };

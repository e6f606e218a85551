/**
 * Messages between the extension (or CLI) and the reward worker (a process or a thread). Both sides
 * import this file; nothing is redeclared on the other side. Every request carries an `id`; the worker
 * answers each with exactly one `result` or `error` of the same id (plus any number of `progress`
 * before it).
 */
import type { ErrorKind, SettingField } from './errors';
import type { LoadProgress, RewardModelInfo, RewardPair } from './reward';
import type { RewardDtype } from './settings';

export interface LoadRequest {
	readonly model: string;
	readonly dtype: RewardDtype;
	/** Where Hub downloads are cached (the extension's global storage). */
	readonly cacheDir: string;
	/** False forbids any network access: only local folders and the cache are used. */
	readonly allowRemote: boolean;
	/** Threads for onnxruntime; 0 lets it choose. */
	readonly threads: number;
	/** One small forward pass right after the load (default true); the benchmarks turn it off to measure what it saves. */
	readonly warmUp?: boolean;
}

/** Sent by the host. */
export type HostToWorker =
	| { readonly type: 'load'; readonly id: number; readonly request: LoadRequest }
	| { readonly type: 'score'; readonly id: number; readonly pairs: readonly RewardPair[] }
	/**
	 * The host is done with a worker thread: it ends itself once the step in progress (a load, a score,
	 * a warm-up) has returned, at once if none is. Never answered; see WorkerConnection's `closeMessage`.
	 */
	| { readonly type: 'close'; readonly id: number };

/** Sent by the worker. */
export type WorkerToHost =
	| { readonly type: 'progress'; readonly id: number; readonly progress: LoadProgress }
	| { readonly type: 'loaded'; readonly id: number; readonly info: RewardModelInfo }
	| { readonly type: 'scores'; readonly id: number; readonly scores: number[] }
	/** `message` is the error's template (settings as `{field}`), rebuilt into a `BestOfNError` by the host. */
	| { readonly type: 'error'; readonly id: number; readonly kind: ErrorKind; readonly message: string; readonly setting?: SettingField };

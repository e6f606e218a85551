/**
 * The contract between a run and a reward model. `reward/` implements it with a worker (a process of
 * its own) running transformers.js; a run only sees `RewardScorer`.
 */

export interface RewardModelInfo {
	/** What the user configured (Hub id or folder), or the model id a reward server serves. */
	readonly id: string;
	/** The longest token sequence the model takes; longer pairs lose the prompt's head (0: the server's own limit). */
	readonly maxLength: number;
	readonly source: 'local' | 'hub' | 'server';
}

export interface LoadProgress {
	readonly file: string;
	/** 0–100 when known. */
	readonly percent?: number;
	/** Bytes of this file downloaded so far and in all, when the server says (`progress` only). */
	readonly loaded?: number;
	readonly total?: number;
	readonly status: 'initiate' | 'download' | 'progress' | 'done' | 'ready';
}

export interface RewardScorer {
	/**
	 * Loads the model (once; later calls return the same info). Rejects with a `BestOfNError` of kind
	 * `reward-not-found`, `reward-no-onnx`, `reward-failed` or `cancelled`.
	 */
	load(signal: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<RewardModelInfo>;
	/** Whether calls to `score` may overlap (a server batches them); otherwise a run sends one at a time. */
	readonly concurrent?: boolean;
	/** Scores (prompt, response) pairs; a score is the model's raw logit, higher is better. */
	score(pairs: readonly RewardPair[], signal: AbortSignal): Promise<number[]>;
}

export interface RewardPair {
	readonly prompt: string;
	readonly response: string;
}

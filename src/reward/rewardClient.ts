/**
 * `RewardScorer` implementations for the host side. `RewardWorkerClient` is the typed proxy of the
 * reward worker: the thread starts on the first call, keeps the model warm between runs, is
 * terminated after `idleMs` without calls (unloading the model), and a crash fails only the calls in
 * flight: the next call starts a fresh worker. `InProcessRewardScorer` runs the same scorer module on
 * the calling thread, so unit tests check the worker's scores against the module's own.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BestOfNError, cancelledError, errorMessage } from '../core/errors';
import { nullLogger, type Logger } from '../core/logger';
import type { LoadProgress, RewardModelInfo, RewardPair, RewardScorer } from '../core/reward';
import type { HostToWorker, LoadRequest, WorkerToHost } from '../core/workerProtocol';
import { WorkerConnection } from '../core/workerConnection';
import { loadRewardModel, type LoadedRewardModel } from './scorer';

export interface RewardWorkerClientOptions {
	/** The bundled worker entry (dist/rewardWorker.js). */
	readonly workerPath: string;
	readonly request: LoadRequest;
	/** Terminate the worker after this many ms without calls; 0 keeps it until dispose. */
	readonly idleMs: number;
	readonly logger?: Logger;
}

type Reply = Extract<WorkerToHost, { type: 'loaded' | 'scores' }>;

interface LoadState {
	readonly promise: Promise<RewardModelInfo>;
	readonly listeners: Set<(p: LoadProgress) => void>;
	/** Callers still waiting; when the last one cancels an unfinished load, the worker goes. */
	waiters: number;
	settled: boolean;
}

function workerCrashed(reason: string): BestOfNError {
	return new BestOfNError(
		'worker-crashed',
		`The reward worker stopped unexpectedly (${reason}). Scores are unavailable for this run; the next run starts a fresh worker.`,
	);
}

/** One reward worker thread and the calls sent to it, with the model load it shares among callers. */
class Connection extends WorkerConnection<HostToWorker, WorkerToHost, Reply> {
	declare readonly worker: Worker;
	load: LoadState | undefined;
}

export class RewardWorkerClient implements RewardScorer {
	private conn: Connection | undefined;
	private idleTimer: NodeJS.Timeout | undefined;
	/** load() and score() calls in progress; the idle clock runs only at zero. */
	private active = 0;
	private lastId = 0;
	private disposed = false;
	private readonly logger: Logger;

	/** How long an idle worker lives; changing it applies from the next call without unloading the model. */
	idleMs: number;

	constructor(private readonly options: RewardWorkerClientOptions) {
		this.logger = options.logger ?? nullLogger;
		this.idleMs = options.idleMs;
	}

	/** Whether a worker thread is alive (started and neither crashed nor terminated). */
	get running(): boolean {
		return this.conn !== undefined;
	}

	async load(signal: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<RewardModelInfo> {
		const { info } = await this.loaded(signal, onProgress);
		return info;
	}

	async score(pairs: readonly RewardPair[], signal: AbortSignal): Promise<number[]> {
		if (signal.aborted) throw cancelledError();
		if (pairs.length === 0) return [];
		this.begin();
		try {
			const { conn } = await this.loaded(signal);
			// An abort drops the result: the worker finishes the batch and its answer is ignored.
			// A score runs onnxruntime on the worker's thread: a close waits for it (a load, which may be a download, is not waited for).
			const reply = await raceAbort(conn.call({ type: 'score', pairs }, { drain: true }).reply, signal);
			if (reply.type !== 'scores')
				throw new BestOfNError('reward-failed', `The reward worker answered a score request with "${reply.type}".`);
			return reply.scores;
		} finally {
			this.end();
		}
	}

	dispose(): void {
		this.disposed = true;
		clearTimeout(this.idleTimer);
		this.stop('disposed');
	}

	/** Loads once per worker; every caller shares the load, and an abort stops the wait for that caller. */
	private async loaded(
		signal: AbortSignal,
		onProgress?: (p: LoadProgress) => void,
	): Promise<{ info: RewardModelInfo; conn: Connection }> {
		if (signal.aborted || this.disposed) throw cancelledError();
		this.begin();
		try {
			const conn = this.connection();
			const state = (conn.load ??= this.startLoad(conn));
			state.waiters++;
			if (onProgress) state.listeners.add(onProgress);
			let waiting = true;
			try {
				const info = await raceAbort(state.promise, signal, () => {
					waiting = false;
					// Terminating the thread is the only way to stop a download in progress.
					if (--state.waiters === 0 && !state.settled) this.stop('load cancelled', conn);
				});
				return { info, conn };
			} finally {
				if (waiting) state.waiters--;
				if (onProgress) state.listeners.delete(onProgress);
			}
		} finally {
			this.end();
		}
	}

	private startLoad(conn: Connection): LoadState {
		const started = Date.now();
		const listeners = new Set<(p: LoadProgress) => void>();
		const promise = conn
			.call({ type: 'load', request: this.options.request }, { onUpdate: m => listeners.forEach(l => l(m.progress)) })
			.reply.then(
				reply => {
					state.settled = true;
					if (reply.type !== 'loaded')
						throw new BestOfNError('reward-failed', `The reward worker answered a load request with "${reply.type}".`);
					this.logger.info(
						`reward model ${reply.info.id} loaded in ${Date.now() - started} ms (max ${reply.info.maxLength} tokens, ${reply.info.source})`,
					);
					return reply.info;
				},
				(e: unknown) => {
					state.settled = true;
					// A failed load is not memoized: the next call asks again (the user may have fixed the cause).
					if (conn.load === state) conn.load = undefined;
					throw e;
				},
			);
		promise.catch(() => {}); // callers that gave up have detached; the rejection is theirs, not unhandled
		const state: LoadState = { promise, listeners, waiters: 0, settled: false };
		return state;
	}

	private connection(): Connection {
		if (!this.conn) {
			try {
				// execArgv []: the bundle needs no loader, and flags of the host process (inspector ports,
				// `--import tsx` under tests) are not meant for this thread. Output goes to the log.
				const worker = new Worker(path.resolve(this.options.workerPath), { execArgv: [], stdout: true, stderr: true });
				const conn: Connection = new Connection(worker, {
					name: 'reward worker',
					logger: this.logger,
					nextId: () => ++this.lastId,
					isAnswer: (m): m is Reply => m.type === 'loaded' || m.type === 'scores',
					crashed: workerCrashed,
					onClosed: () => {
						if (this.conn === conn) this.conn = undefined;
					},
				});
				this.conn = conn;
			} catch (e) {
				throw new BestOfNError(
					'worker-crashed',
					`The reward worker could not start (${errorMessage(e)}); scores are unavailable.`,
					{ cause: e },
				);
			}
			this.logger.debug(`reward worker started (thread ${this.conn.worker.threadId})`);
		}
		return this.conn;
	}

	private stop(reason: string, conn = this.conn): void {
		if (!conn) return;
		this.logger.debug(`reward worker stopped: ${reason}`);
		conn.close(cancelledError());
	}

	private begin(): void {
		this.active++;
		clearTimeout(this.idleTimer);
		this.idleTimer = undefined;
	}

	private end(): void {
		if (--this.active > 0 || this.idleMs <= 0 || this.disposed) return;
		clearTimeout(this.idleTimer);
		this.idleTimer = setTimeout(() => {
			if (this.active === 0) this.stop(`idle for ${this.idleMs} ms`);
		}, this.idleMs);
		this.idleTimer.unref();
	}
}

/** Resolves or rejects like `promise`, or rejects with `cancelledError()` as soon as `signal` aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort?: () => void): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const abort = () => {
			onAbort?.();
			reject(cancelledError());
		};
		if (signal.aborted) return abort();
		signal.addEventListener('abort', abort, { once: true });
		promise.then(
			v => {
				signal.removeEventListener('abort', abort);
				resolve(v);
			},
			(e: unknown) => {
				signal.removeEventListener('abort', abort);
				reject(e);
			},
		);
	});
}

/**
 * The same scorer on the calling thread, for the CLI's experiments and unit tests. No isolation: a
 * cancelled load cannot be stopped (it finishes in the background and stays memoized), and
 * transformers.js settings (cache folder, downloads allowed) are global to the thread, so loads of
 * differently configured scorers must not overlap.
 */
export class InProcessRewardScorer implements RewardScorer {
	private model: Promise<LoadedRewardModel> | undefined;

	constructor(private readonly request: LoadRequest) {}

	async load(signal: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<RewardModelInfo> {
		return (await this.loaded(signal, onProgress)).info;
	}

	async score(pairs: readonly RewardPair[], signal: AbortSignal): Promise<number[]> {
		if (signal.aborted) throw cancelledError();
		if (pairs.length === 0) return [];
		const model = await this.loaded(signal);
		return raceAbort(model.score(pairs), signal);
	}

	async dispose(): Promise<void> {
		const model = this.model;
		this.model = undefined;
		await (await model?.catch(() => undefined))?.dispose();
	}

	private loaded(signal: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<LoadedRewardModel> {
		if (signal.aborted) return Promise.reject(cancelledError());
		if (!this.model) {
			const model = loadRewardModel(this.request, onProgress);
			this.model = model;
			model.catch(() => {
				if (this.model === model) this.model = undefined;
			});
		}
		return raceAbort(this.model, signal);
	}
}

/**
 * `RewardScorer` implementations for the host side. `RewardWorkerClient` is the typed proxy of the
 * reward worker: the worker (a process of its own, or a thread) starts on the first call, keeps the
 * model warm between runs, is stopped after `idleMs` without calls (unloading the model), and a crash
 * fails only the calls in flight: the next call starts a fresh worker. `InProcessRewardScorer` runs
 * the same scorer module on the calling thread, so unit tests check the worker's scores against the
 * module's own.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BestOfNError, cancelledError, errorMessage } from '../core/errors';
import { nullLogger, type Logger } from '../core/logger';
import type { LoadProgress, RewardModelInfo, RewardPair, RewardScorer } from '../core/reward';
import type { HostToWorker, LoadRequest, WorkerToHost } from '../core/workerProtocol';
import { WorkerConnection } from '../core/workerConnection';
import { IdleClock, raceAbort, SharedLoad } from '../core/workerLifetime';
import { loadRewardModel, type LoadedRewardModel } from './scorer';
import { ScorerProcess } from './scorerProcess';

export interface RewardWorkerClientOptions {
	/** The bundled worker entry (dist/rewardWorker.js). */
	readonly workerPath: string;
	readonly request: LoadRequest;
	/** Terminate the worker after this many ms without calls; 0 keeps it until dispose. */
	readonly idleMs: number;
	readonly logger?: Logger;
	/**
	 * Where the worker runs (default `process`, why in scorerProcess.ts). `thread` is the worker
	 * thread it replaced: the benchmarks compare the two, and it is the fallback when no process can
	 * be started.
	 */
	readonly isolation?: Isolation;
}

export type Isolation = 'process' | 'thread';

type Reply = Extract<WorkerToHost, { type: 'loaded' | 'scores' }>;

function workerCrashed(reason: string): BestOfNError {
	return new BestOfNError(
		'worker-crashed',
		`The reward worker stopped unexpectedly (${reason}). Scores are unavailable for this run; the next run starts a fresh worker.`,
	);
}

/** One reward worker and the calls sent to it, with the model load it shares among callers. */
class Connection extends WorkerConnection<HostToWorker, WorkerToHost, Reply> {
	declare readonly worker: Worker | ScorerProcess;
	load: SharedLoad<RewardModelInfo> | undefined;

	/** Whether a close lets a score end first (a thread's, see WorkerConnection); a process is killed at once. */
	get drainsScores(): boolean {
		return this.worker instanceof Worker;
	}
}

export class RewardWorkerClient implements RewardScorer {
	private conn: Connection | undefined;
	/** Runs while no load() or score() call is in progress. */
	private readonly idle: IdleClock;
	private lastId = 0;
	private disposed = false;
	private readonly logger: Logger;
	/** Set to `thread` once a process could not be started: later workers are threads. */
	private isolation: Isolation;

	constructor(private readonly options: RewardWorkerClientOptions) {
		this.logger = options.logger ?? nullLogger;
		this.isolation = options.isolation ?? 'process';
		this.idle = new IdleClock(options.idleMs, ms => this.stop(`idle for ${ms} ms`));
	}

	/** How long an idle worker lives. A change restarts the clock of a worker idle now (0 stops it). */
	get idleMs(): number {
		return this.idle.ms;
	}

	set idleMs(ms: number) {
		this.idle.ms = ms;
	}

	/** Whether a worker is alive (started and neither crashed nor terminated). */
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
		this.idle.begin();
		try {
			const { conn } = await this.loaded(signal);
			// An abort drops the result: the worker finishes the batch and its answer is ignored.
			// A score runs onnxruntime on a thread's own stack: a close waits for it (and a thread ends
			// itself after any other step it is in, such as a load opening its session). A process is
			// stopped at once.
			const reply = await raceAbort(conn.call({ type: 'score', pairs }, { drain: conn.drainsScores }).reply, signal);
			if (reply.type !== 'scores')
				throw new BestOfNError('reward-failed', `The reward worker answered a score request with "${reply.type}".`);
			return reply.scores;
		} finally {
			this.idle.end();
		}
	}

	dispose(): void {
		this.disposed = true;
		this.idle.stop();
		this.stop('disposed');
	}

	/** Loads once per worker; every caller shares the load, and an abort stops the wait for that caller. */
	private async loaded(
		signal: AbortSignal,
		onProgress?: (p: LoadProgress) => void,
	): Promise<{ info: RewardModelInfo; conn: Connection }> {
		if (signal.aborted || this.disposed) throw cancelledError();
		this.idle.begin();
		try {
			const conn = this.connection();
			const load = (conn.load ??= this.startLoad(conn));
			const info = await load.join(signal, onProgress, () => this.stop('load cancelled', conn));
			return { info, conn };
		} finally {
			this.idle.end();
		}
	}

	private startLoad(conn: Connection): SharedLoad<RewardModelInfo> {
		const started = Date.now();
		const load: SharedLoad<RewardModelInfo> = new SharedLoad(progress =>
			conn.call({ type: 'load', request: this.options.request }, { onUpdate: m => progress(m.progress) }).reply.then(
				reply => {
					if (reply.type !== 'loaded')
						throw new BestOfNError('reward-failed', `The reward worker answered a load request with "${reply.type}".`);
					this.logger.info(
						`reward model ${reply.info.id} loaded in ${Date.now() - started} ms (max ${reply.info.maxLength} tokens, ${reply.info.source})`,
					);
					return reply.info;
				},
				(e: unknown) => {
					// A failed load is not memoized: the next call asks again (the user may have fixed the cause).
					if (conn.load === load) conn.load = undefined;
					throw e;
				},
			),
		);
		return load;
	}

	private connection(): Connection {
		if (!this.conn) {
			let worker: Worker | ScorerProcess;
			try {
				worker = this.startWorker();
			} catch (e) {
				throw new BestOfNError(
					'worker-crashed',
					`The reward worker could not start (${errorMessage(e)}); scores are unavailable.`,
					{ cause: e },
				);
			}
			const conn: Connection = new Connection(worker, {
				name: 'reward worker',
				logger: this.logger,
				nextId: () => ++this.lastId,
				isAnswer: (m): m is Reply => m.type === 'loaded' || m.type === 'scores',
				crashed: workerCrashed,
				// A thread ends itself between steps (worker.ts); a process is killed at once.
				closeMessage: () => (worker instanceof Worker ? { type: 'close', id: ++this.lastId } : undefined),
				onClosed: () => {
					if (this.conn === conn) this.conn = undefined;
				},
			});
			this.conn = conn;
			this.logger.debug(
				`reward worker started (${worker instanceof Worker ? `thread ${worker.threadId}` : `process ${worker.threadId}`})`,
			);
		}
		return this.conn;
	}

	private startWorker(): Worker | ScorerProcess {
		const file = path.resolve(this.options.workerPath);
		if (this.isolation === 'process') {
			try {
				return ScorerProcess.start(file);
			} catch (e) {
				this.isolation = 'thread';
				this.logger.warn(`The reward worker's process could not start (${errorMessage(e)}); scoring in a worker thread instead.`);
			}
		}
		// execArgv []: the bundle needs no loader, and flags of the host process (inspector ports,
		// `--import tsx` under tests) are not meant for this thread. Output goes to the log.
		return new Worker(file, { execArgv: [], stdout: true, stderr: true });
	}

	private stop(reason: string, conn = this.conn): void {
		if (!conn) return;
		this.logger.debug(`reward worker stopped: ${reason}`);
		conn.close(cancelledError());
	}
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

/**
 * The built-in generator: candidates from a small instruct model run by transformers.js in a worker
 * thread, for people without a model server. The host side of that worker, the reward worker's
 * pattern: the thread starts on the first call, keeps the model warm between runs, is terminated
 * after `idleMs` without calls (releasing the model's memory), and a crash fails only the calls in
 * flight. `running` stays true until the thread has exited, since only then is the memory free.
 *
 * N candidates are N sampled rows of one generation when `batch` is on (calls to `generate` that
 * arrive together for the same prompt are joined into one batch, and `generateMany` sends all N at
 * once), or N generations one after another when it is off. Cancelling a candidate ends its row at
 * the next token; cancelling all of them ends the generation and frees the worker for the next call.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
	GENERATOR_THREAD,
	type BatchRequest,
	type BatchResult,
	type BuiltinLoadRequest,
	type BuiltinModelInfo,
	type BuiltinWorkerToHost,
	type HostToBuiltinWorker,
} from '../core/builtinProtocol';
import { BestOfNError, cancelledError, errorMessage } from '../core/errors';
import type { CandidateSink, GenerationBackend, GenerationRequest, GenerationResult, ServerModel } from '../core/generation';
import { nullLogger, type Logger } from '../core/logger';
import { BUILTIN_HOST } from '../core/settings';
import { WorkerConnection } from '../core/workerConnection';
import { IdleClock, raceAbort, SharedLoad } from '../core/workerLifetime';
import type { LoadProgress } from '../core/reward';

export interface BuiltinGeneratorOptions {
	/** The bundled worker entry (dist/generatorWorker.js). */
	readonly workerPath: string;
	readonly request: BuiltinLoadRequest;
	/** Terminate the worker after this many ms without calls; 0 keeps it until dispose. */
	readonly idleMs: number;
	/** Sample a run's candidates as rows of one generation (default) or one after another. */
	readonly batch?: boolean;
	readonly logger?: Logger;
}

/** Measured speed of the last generation: tokens of every row over its wall time. */
export interface GenerationSpeed {
	readonly tokens: number;
	readonly ms: number;
	readonly rows: number;
	readonly tokensPerSecond: number;
}

type Reply = Extract<BuiltinWorkerToHost, { type: 'loaded' | 'generated' }>;

function workerCrashed(reason: string): BestOfNError {
	return new BestOfNError(
		'worker-crashed',
		`The built-in model's worker stopped unexpectedly (${reason}); the next run starts a fresh one.`,
	);
}

/**
 * One generator worker thread and the calls sent to it, with the model load it shares among callers.
 * Every call is let end before the thread is terminated: a close asks the worker to cancel them, and
 * it answers at the next token.
 */
class Connection extends WorkerConnection<HostToBuiltinWorker, BuiltinWorkerToHost, Reply> {
	declare readonly worker: Worker;
	load: SharedLoad<BuiltinModelInfo> | undefined;

	/** Stops call `id` (only `rows` of its batch, when given) at the next token. */
	cancel(id: number, rows?: readonly number[]): void {
		this.send({ type: 'cancel', id, ...(rows ? { rows } : {}) });
	}
}

/** Filled in by `runBatch` once its generation is sent: stops one of its rows at the next token. */
interface BatchControl {
	cancelRow?: (row: number) => void;
}

/** A candidate waiting to join a batch (calls to `generate` that arrive in the same turn). */
interface Waiting {
	readonly request: GenerationRequest;
	readonly signal: AbortSignal;
	readonly onDelta: (delta: string) => void;
	readonly resolve: (r: GenerationResult) => void;
	readonly reject: (e: unknown) => void;
}

export class BuiltinGenerator implements GenerationBackend {
	readonly id = 'builtin';
	readonly host = BUILTIN_HOST;
	readonly serverName = 'the built-in model';
	private conn: Connection | undefined;
	/** Threads started and not yet exited: the open connection's, and any still ending. */
	private readonly threads = new Set<Connection>();
	/** Runs while no call is in progress. */
	private readonly idle: IdleClock;
	private lastId = 0;
	private disposed = false;
	private waiting: Waiting[] = [];
	private readonly logger: Logger;
	private readonly speedListeners = new Set<(speed: GenerationSpeed) => void>();
	/** The last generation's measured speed. */
	lastSpeed: GenerationSpeed | undefined;
	batch: boolean;

	constructor(private readonly options: BuiltinGeneratorOptions) {
		this.logger = options.logger ?? nullLogger;
		this.idle = new IdleClock(options.idleMs, ms => this.stop(`idle for ${ms} ms`));
		this.batch = options.batch ?? true;
	}

	/** How long an idle worker lives. A change restarts the clock of a worker idle now (0 stops it). */
	get idleMs(): number {
		return this.idle.ms;
	}

	set idleMs(ms: number) {
		this.idle.ms = ms;
	}

	/** Whether a worker thread is alive: started and not yet exited (the model's memory is freed on exit). */
	get running(): boolean {
		return this.threads.size > 0;
	}

	/** Called after each generation with its speed. */
	onSpeed(listener: (speed: GenerationSpeed) => void): { dispose(): void } {
		this.speedListeners.add(listener);
		return { dispose: () => this.speedListeners.delete(listener) };
	}

	/** The one model it runs: the configured folder or Hub id. */
	async listModels(): Promise<ServerModel[]> {
		return [{ name: this.options.request.model }];
	}

	/** Loads the model (once per worker; every caller shares the load). */
	async load(signal: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<BuiltinModelInfo> {
		this.idle.begin();
		try {
			return await this.loaded(signal, onProgress).then(l => l.info);
		} finally {
			this.idle.end();
		}
	}

	generate(request: GenerationRequest, signal: AbortSignal, onDelta: (delta: string) => void): Promise<GenerationResult> {
		if (signal.aborted || this.disposed) return Promise.reject(cancelledError());
		return new Promise<GenerationResult>((resolve, reject) => {
			this.waiting.push({ request, signal, onDelta, resolve, reject });
			if (this.waiting.length === 1) setImmediate(() => this.flush());
		});
	}

	/** All `count` candidates of one request: one batch, or one generation after another. */
	async generateMany(
		request: GenerationRequest,
		count: number,
		_concurrency: number,
		signal: AbortSignal,
		sink: CandidateSink,
	): Promise<void> {
		if (signal.aborted || this.disposed) throw cancelledError();
		const batches = this.batch
			? [{ first: 0, rows: count, request }]
			: [...Array(count).keys()].map(i => ({
					first: i,
					rows: 1,
					request: { ...request, options: { ...request.options, seed: request.options.seed + i } },
				}));
		for (const b of batches) {
			if (signal.aborted) break;
			for (let i = 0; i < b.rows; i++) sink.started(b.first + i, b.request.options.seed);
			try {
				await this.runBatch(b.request, b.rows, signal, {}, row => ({
					delta: text => sink.delta(b.first + row, text),
					finished: r => sink.finished(b.first + row, r),
				}));
			} catch (e) {
				if (signal.aborted) break;
				for (let i = 0; i < b.rows; i++) sink.failed(b.first + i, e);
			}
		}
		if (signal.aborted) throw cancelledError();
	}

	dispose(): void {
		this.disposed = true;
		this.idle.stop();
		for (const w of this.waiting.splice(0)) w.reject(cancelledError());
		this.stop('disposed');
	}

	/** Sends the waiting `generate` calls: same prompt and options together (unless batching is off). */
	private flush(): void {
		const waiting = this.waiting.splice(0).filter(w => {
			if (!w.signal.aborted) return true;
			w.reject(cancelledError());
			return false;
		});
		const groups = new Map<string, Waiting[]>();
		for (const w of waiting) {
			const { seed: _seed, ...options } = w.request.options;
			const key = this.batch ? JSON.stringify([w.request.model, w.request.messages, options]) : String(groups.size);
			groups.set(key, [...(groups.get(key) ?? []), w]);
		}
		for (const group of groups.values()) {
			const [first] = group;
			if (!first) continue; // every group was made with one
			// Each row's own signal ends only its row; the batch's ends once every row's has.
			const batchAbort = new AbortController();
			const control: BatchControl = {};
			const rowAborts = group.map((w, row) => {
				const onAbort = () => {
					w.reject(cancelledError());
					if (group.every(g => g.signal.aborted)) batchAbort.abort();
					else control.cancelRow?.(row);
				};
				w.signal.addEventListener('abort', onAbort, { once: true });
				return () => w.signal.removeEventListener('abort', onAbort);
			});
			this.runBatch(first.request, group.length, batchAbort.signal, control, row => ({
				delta: text => group[row]?.onDelta(text),
				finished: r => group[row]?.resolve(r),
			}))
				.catch((e: unknown) => group.forEach(w => w.reject(e)))
				.finally(() => rowAborts.forEach(remove => remove()));
		}
	}

	private async runBatch(
		request: GenerationRequest,
		rows: number,
		signal: AbortSignal,
		control: BatchControl,
		row: (index: number) => { delta(text: string): void; finished(r: GenerationResult): void },
	): Promise<void> {
		this.idle.begin();
		try {
			const { conn } = await this.loaded(signal);
			const batch: BatchRequest = {
				messages: request.messages,
				rows,
				temperature: request.options.temperature,
				topP: request.options.topP,
				maxTokens: request.options.maxTokens,
				seed: request.options.seed,
			};
			const handlers = [...Array(rows).keys()].map(row);
			const { id, reply } = conn.call(
				{ type: 'generate', batch },
				{ drain: true, onUpdate: m => (m.type === 'delta' ? handlers[m.row]?.delta(m.text) : undefined) },
			);
			control.cancelRow = r => conn.cancel(id, [r]);
			const result = await raceAbort(reply, signal, () => conn.cancel(id));
			if (result.type !== 'generated')
				throw new BestOfNError('builtin-failed', `The generator worker answered with "${result.type}".`);
			this.report(result.result);
			result.result.rows.forEach((r, i) =>
				handlers[i]?.finished({ text: r.text, tokens: r.tokens, evalMs: result.result.ms, doneReason: r.doneReason }),
			);
		} finally {
			control.cancelRow = undefined;
			this.idle.end();
		}
	}

	private report(result: BatchResult): void {
		const tokens = result.rows.reduce((n, r) => n + r.tokens, 0);
		const speed = { tokens, ms: result.ms, rows: result.rows.length, tokensPerSecond: result.ms > 0 ? (tokens * 1000) / result.ms : 0 };
		this.lastSpeed = speed;
		this.logger.debug(
			`built-in model: ${tokens} tokens in ${result.ms} ms over ${speed.rows} rows (${speed.tokensPerSecond.toFixed(1)} tokens/s)`,
		);
		for (const l of this.speedListeners) l(speed);
	}

	/** Loads once per worker; every caller shares the load, and an abort stops the wait for that caller. */
	private async loaded(
		signal: AbortSignal,
		onProgress?: (p: LoadProgress) => void,
	): Promise<{ info: BuiltinModelInfo; conn: Connection }> {
		if (signal.aborted || this.disposed) throw cancelledError();
		const conn = this.connection();
		const load = (conn.load ??= this.startLoad(conn));
		const info = await load.join(signal, onProgress, () => this.stop('load cancelled', conn));
		return { info, conn };
	}

	private startLoad(conn: Connection): SharedLoad<BuiltinModelInfo> {
		const started = Date.now();
		const load: SharedLoad<BuiltinModelInfo> = new SharedLoad(progress =>
			conn
				.call(
					{ type: 'load', request: this.options.request },
					{ drain: true, onUpdate: m => (m.type === 'progress' ? progress(m.progress) : undefined) },
				)
				.reply.then(
					reply => {
						if (reply.type !== 'loaded')
							throw new BestOfNError('builtin-failed', `The generator worker answered a load with "${reply.type}".`);
						this.logger.info(
							`built-in model ${reply.info.id} loaded in ${Date.now() - started} ms (${reply.info.modelType}, ${reply.info.source})`,
						);
						return reply.info;
					},
					(e: unknown) => {
						// A failed load is not memoized: the next call asks again (the cause may be fixed).
						if (conn.load === load) conn.load = undefined;
						throw e;
					},
				),
		);
		return load;
	}

	private connection(): Connection {
		if (!this.conn) {
			try {
				const worker = new Worker(path.resolve(this.options.workerPath), {
					name: GENERATOR_THREAD,
					execArgv: [],
					stdout: true,
					stderr: true,
				});
				const conn: Connection = new Connection(worker, {
					name: 'generator worker',
					logger: this.logger,
					nextId: () => ++this.lastId,
					isAnswer: (m): m is Reply => m.type === 'loaded' || m.type === 'generated',
					crashed: workerCrashed,
					cancel: id => ({ type: 'cancel', id }),
					onClosed: () => {
						if (this.conn === conn) this.conn = undefined;
					},
					onExited: () => {
						this.threads.delete(conn);
						this.logger.debug(`generator worker thread ${conn.worker.threadId} exited`);
					},
				});
				this.conn = conn;
				this.threads.add(this.conn);
			} catch (e) {
				throw new BestOfNError('worker-crashed', `The built-in model's worker could not start (${errorMessage(e)}).`, { cause: e });
			}
			this.logger.debug(`generator worker started (thread ${this.conn.worker.threadId})`);
		}
		return this.conn;
	}

	private stop(reason: string, conn = this.conn): void {
		if (!conn) return;
		this.logger.debug(`generator worker stopped: ${reason}`);
		conn.close(cancelledError());
	}
}

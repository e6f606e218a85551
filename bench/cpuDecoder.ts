/**
 * A model server's decoding as CPU work, for the bench server (bench/server.ts): like a CPU-only Ollama
 * (llama.cpp) on the same machine as the extension, every token costs a fixed amount of computation on
 * `threads` threads, so scoring on the same cores slows the server down, as it would a real one.
 *
 * Shaped after llama.cpp's CPU decoding: one step produces the next token of every open stream (the
 * parallel slots are decoded as one batch); a step is `PHASES` layers, each split over the threads,
 * which meet at a spinning barrier after each layer (ggml's threads spin there rather than sleep), so
 * one thread preempted by another process holds the whole step up. Between steps the threads sleep.
 * The work per step is fixed in loop iterations, calibrated once at start so that a step takes
 * `msPerToken` on an idle machine; a busy CPU makes it take longer.
 */
import { Worker } from 'node:worker_threads';

/** Layers per step, each ending at a barrier of all threads. */
const PHASES = 24;
// Shared slots: [0] step number (threads wait for it to change), [1] arrivals at the barrier, [2] barrier generation.
const STEP = 0;
const ARRIVED = 1;
const GENERATION = 2;

interface ThreadData {
	readonly shared: SharedArrayBuffer;
	readonly threads: number;
	readonly index: number;
	readonly iterationsPerPhase: number;
}

/** `n` dependent floating-point operations, too cheap to be anything but CPU time. */
function burn(n: number, seed: number): number {
	let x = seed;
	for (let i = 0; i < n; i++) x = x * 1.0000001 + 0.5;
	return x;
}

/** Loop iterations per millisecond of one idle core: the fastest of a few short timings. */
function calibrate(): number {
	let best = Infinity;
	const n = 2_000_000;
	for (let i = 0; i < 7; i++) {
		const t = performance.now();
		burn(n, i);
		best = Math.min(best, performance.now() - t);
	}
	return n / Math.max(best, 1e-3);
}

export interface DecoderOptions {
	/** A step's time on an idle machine, ms: the server's time per token. */
	readonly msPerToken: number;
	/** Threads a step runs on (Ollama uses one per physical core). */
	readonly threads: number;
}

export class CpuDecoder {
	private readonly shared = new SharedArrayBuffer(3 * 4);
	private readonly slots = new Int32Array(this.shared);
	private readonly workers: Worker[];
	private waiting: Array<() => void> = [];
	private running = false;
	private gather: NodeJS.Timeout | undefined;
	/** Streams open now; a step starts once each waits for a token (or shortly after the first does). */
	private active = 0;
	private finishStep: (() => void) | undefined;

	constructor(readonly options: DecoderOptions) {
		const perMs = calibrate();
		const iterationsPerPhase = Math.max(1, Math.round((perMs * options.msPerToken) / PHASES));
		this.workers = Array.from(
			{ length: options.threads },
			(_, index) =>
				new Worker(THREAD_SOURCE, {
					eval: true,
					workerData: { shared: this.shared, threads: options.threads, index, iterationsPerPhase } satisfies ThreadData,
				}),
		);
		// The first thread reports each step's end (it leaves the last barrier with the others).
		this.workers[0]?.on('message', () => this.finishStep?.());
	}

	/** A stream began: steps wait for it too. */
	open(): void {
		this.active++;
	}

	/** A stream ended. */
	close(): void {
		this.active = Math.max(0, this.active - 1);
		this.maybeStart();
	}

	/** Resolves when the next step has produced this stream's next token. */
	next(): Promise<void> {
		return new Promise(resolve => {
			this.waiting.push(resolve);
			this.maybeStart();
		});
	}

	private maybeStart(): void {
		if (this.running || this.waiting.length === 0) return;
		if (this.waiting.length >= this.active) return this.step();
		// A stream still writing its last token joins if it asks within 2 ms; a late one waits a step, as in a real batch.
		this.gather ??= setTimeout(() => this.step(), 2);
	}

	private step(): void {
		clearTimeout(this.gather);
		this.gather = undefined;
		if (this.running || this.waiting.length === 0) return;
		this.running = true;
		const batch = this.waiting;
		this.waiting = [];
		this.finishStep = () => {
			this.running = false;
			batch.forEach(resolve => resolve());
			this.maybeStart();
		};
		Atomics.add(this.slots, STEP, 1);
		Atomics.notify(this.slots, STEP);
	}

	async stop(): Promise<void> {
		await Promise.all(this.workers.map(w => w.terminate()));
	}
}

/**
 * A thread of the step: the source is evaluated as plain JavaScript (`eval`), so it runs the same
 * whether the server runs under tsx or compiled. `burn` is the function above.
 */
const THREAD_SOURCE = `
const { workerData: data, parentPort } = require('node:worker_threads');
const burn = ${burn.toString()};
const slots = new Int32Array(data.shared);
let seen = 0;
let sink = 0;
for (;;) {
	Atomics.wait(slots, ${STEP}, seen);
	seen = Atomics.load(slots, ${STEP});
	for (let phase = 0; phase < ${PHASES}; phase++) {
		sink += burn(data.iterationsPerPhase, phase + data.index);
		const generation = Atomics.load(slots, ${GENERATION});
		if (Atomics.add(slots, ${ARRIVED}, 1) === data.threads - 1) {
			Atomics.store(slots, ${ARRIVED}, 0);
			Atomics.add(slots, ${GENERATION}, 1);
		} else {
			// Spin, as ggml's barrier does.
			while (Atomics.load(slots, ${GENERATION}) === generation) {}
		}
	}
	if (data.index === 0) parentPort.postMessage(sink > 0);
}
`;

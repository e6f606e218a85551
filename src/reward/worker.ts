/**
 * The reward worker (bundled to dist/rewardWorker.js): a process of its own forked by the host
 * (src/reward/scorerProcess.ts says why), or a worker thread. It keeps one loaded model and answers
 * every request with exactly one `loaded`, `scores` or `error` of the same id, after any number of
 * `progress` messages for a load. Requests run one at a time in arrival order: onnxruntime already
 * uses every core for one call, and a score must not overtake the load it depends on.
 */
import { parentPort } from 'node:worker_threads';
import { touchHeap } from './heapTouch';
import { endProcessGroup, SCORER_TRIM_THRESHOLD } from './scorerProcess';
import { BestOfNError, errorMessage } from '../core/errors';
import type { LoadProgress } from '../core/reward';
import type { HostToWorker, LoadRequest, WorkerToHost } from '../core/workerProtocol';
import { loadRewardModel, type LoadedRewardModel } from './scorer';

/** The channel to the host: the thread's port, or the forked process's IPC channel. */
interface Port {
	postMessage(message: WorkerToHost): void;
	on(event: 'message', listener: (message: HostToWorker) => void): void;
	/** Calls `then` once what was posted has been handed over (a process's sends are asynchronous). */
	flush(then: () => void): void;
}

function hostPort(): Port {
	if (parentPort) {
		const thread = parentPort;
		return { postMessage: m => thread.postMessage(m), on: (e, l) => thread.on(e, l), flush: then => then() };
	}
	const send = process.send?.bind(process);
	if (!send) throw new Error('rewardWorker.js must be started as a worker thread or a forked process.');
	// A host that is gone (killed, crashed) closes the channel: nobody is left to score for. The
	// process group goes too (scorerProcess.ts: one of its own), so the graph optimiser's child of a
	// first load (optimizedGraph.ts) does not run on with a model in memory.
	process.on('disconnect', () => {
		endProcessGroup(process.pid);
		process.exit(0);
	});
	let sending = 0;
	const flushed: (() => void)[] = [];
	return {
		postMessage: m => {
			sending++;
			send(m, undefined, undefined, () => {
				if (--sending === 0) for (const then of flushed.splice(0)) then();
			});
		},
		on: (e, l) => process.on(e, l),
		flush: then => {
			if (sending === 0) then();
			else flushed.push(then);
		},
	};
}

const port = hostPort();

/**
 * A full garbage collection, where the process exposes one (scorerProcess.ts starts the scorer with
 * `--expose-gc`; a worker thread has none). Reading a tokenizer.json leaves its parse behind as
 * garbage (~30 MB for DeBERTa-v3's 128k pieces), which V8 would collect only after onnxruntime has
 * opened the model and run the first passes, so it sat in the process's peak. Collected before the
 * session opens, the peak holds only the tokenizer itself (bench/RESULTS.md, "The 8-bit DeBERTa-v3
 * scorer's peak").
 */
const collectGarbage = (globalThis as { gc?: () => void }).gc;

let loaded: { readonly key: string; readonly model: LoadedRewardModel } | undefined;
let queue: Promise<void> = Promise.resolve();
/** How many messages have arrived from the host: one more stops the readying of the heap. */
let arrivals = 0;
/** Called when the next request arrives (see `requestWithin`). */
let onRequest: (() => void) | undefined;

/**
 * How long after a load the worker waits for a request before its warm-up pass. The host sends the
 * score of a candidate that completed during the load right after `loaded` (1–30 ms later on a busy
 * 2-core machine); a warm-up begun just before it would make it wait (51–254 ms measured).
 */
const WARM_UP_AFTER_MS = 100;

/**
 * The most heap the worker readies after its warm-up (heapTouch.ts): well under the scorer process's
 * `MALLOC_TRIM_THRESHOLD_`, so glibc keeps all of it once freed.
 */
const MAX_TOUCH_BYTES = SCORER_TRIM_THRESHOLD / 2;

/**
 * Whether a freed block stays in this process's heap for onnxruntime's arena to reuse: glibc on Linux,
 * in a scorer process started with the settings for it (scorerProcess.ts). Not in a worker thread (the
 * host's process, whose heap is not set up so) nor elsewhere, where touching would only cost time.
 */
function heapKept(): boolean {
	return (
		!parentPort &&
		process.platform === 'linux' &&
		process.env.MALLOC_MMAP_MAX_ === '0' &&
		Number(process.env.MALLOC_TRIM_THRESHOLD_) >= SCORER_TRIM_THRESHOLD
	);
}

/** Whether a request arrives within `ms`. */
function requestWithin(ms: number): Promise<boolean> {
	return new Promise(resolve => {
		const timer = setTimeout(() => {
			onRequest = undefined;
			resolve(false);
		}, ms);
		onRequest = () => {
			clearTimeout(timer);
			onRequest = undefined;
			resolve(true);
		};
	});
}
/** The request in flight and whether it has had its one answer. */
let current: { readonly id: number; answered: boolean } | undefined;
/** The host sent `close`: end once the step in progress has returned. */
let closing = false;

/**
 * Ends the worker, after what it posted has been handed over. A thread must not be torn down inside
 * onnxruntime (workerConnection.ts says why), so it ends itself between steps instead.
 */
function end(): void {
	port.flush(() => process.exit(0));
}

function answer(message: Exclude<WorkerToHost, { type: 'progress' }>): void {
	if (!current || current.id !== message.id || current.answered) return;
	current.answered = true;
	port.postMessage(message);
}

function answerError(id: number, e: unknown): void {
	if (e instanceof BestOfNError) answer({ type: 'error', id, kind: e.kind, message: e.template, setting: e.setting });
	else answer({ type: 'error', id, kind: 'reward-failed', message: `The reward worker failed: ${errorMessage(e)}` });
}

async function handle(message: HostToWorker): Promise<void> {
	switch (message.type) {
		case 'load': {
			const key = requestKey(message.request);
			if (loaded?.key !== key) {
				const previous = loaded;
				loaded = undefined;
				await previous?.model.dispose();
				const onProgress = (progress: LoadProgress) =>
					port.postMessage({ type: 'progress', id: message.id, progress } satisfies WorkerToHost);
				loaded = { key, model: await loadRewardModel(message.request, onProgress, { beforeSession: collectGarbage }) };
				answer({ type: 'loaded', id: message.id, info: loaded.model.info });
				const seen = arrivals;
				// Right after the load, while the candidates are still being generated: the first real
				// score then finds onnxruntime's threads and buffers ready. Scores queue behind it, so not
				// when one is waiting already: scoring it warms the session as well. What it did goes to
				// stdout, which the host's connection writes to its log at debug level (hidden at VS Code's
				// default level, there for whoever looks into a slow first score); the CLI drops it.
				if (message.request.warmUp === false) return;
				if (await requestWithin(WARM_UP_AFTER_MS)) {
					console.log('warm-up skipped: a request is waiting');
					return;
				}
				const model = loaded.model;
				const warmed = await model.warmUp().then(
					done => `session warmed up (a pass of ${done.passTokens} tokens; the tokenizer over ${done.tokenized})`,
					(e: unknown) => void console.error('[rewardWorker] warm-up failed', e),
				);
				if (warmed === undefined) return;
				if (!heapKept()) {
					console.log(warmed);
					return;
				}
				// Then the heap the first score's pass would take fresh, in slices. Any message since the
				// load's answer (one read during the warm-up's pass included) stops it before the next slice.
				const bytes = Math.min(model.firstPassBytes, MAX_TOUCH_BYTES);
				const touched = await touchHeap(bytes, { stop: () => arrivals !== seen });
				const mb = (n: number) => (n / 2 ** 20).toFixed(0);
				const how = touched.stopped ? `, stopped by a request after ${mb(touched.bytes)} of` : '';
				console.log(
					`${warmed}; the heap readied${how} ${mb(bytes)} MB in ${touched.slices} slices (the longest ${touched.longestMs.toFixed(1)} ms), freed in ${touched.freeMs.toFixed(1)} ms`,
				);
				return;
			}
			answer({ type: 'loaded', id: message.id, info: loaded.model.info });
			return;
		}
		case 'score': {
			if (!loaded) throw new BestOfNError('reward-failed', 'The reward worker was asked to score before a model was loaded.');
			answer({ type: 'scores', id: message.id, scores: await loaded.model.score(message.pairs) });
			return;
		}
		case 'close':
			// Taken when it arrives (see the listener below), never queued.
			return;
		default: {
			const unknown: never = message;
			throw new Error(`unknown request ${JSON.stringify(unknown)}`);
		}
	}
}

function requestKey(r: LoadRequest): string {
	return JSON.stringify([r.model, r.dtype, r.cacheDir, r.allowRemote, r.threads, r.warmUp]);
}

port.on('message', (message: HostToWorker) => {
	// Any message, `close` too, skips a warm-up that has not begun and stops the heap's readying.
	arrivals++;
	onRequest?.();
	if (message?.type === 'close') {
		closing = true;
		if (!current) end();
		return;
	}
	if (closing) return;
	const id = typeof message?.id === 'number' ? message.id : -1;
	queue = queue.then(async () => {
		current = { id, answered: false };
		try {
			await handle(message);
		} catch (e) {
			answerError(id, e);
		} finally {
			current = undefined;
			if (closing) end();
		}
	});
});

// An error thrown outside the request's promise chain (a native binding, a stray rejection) still
// answers the request in flight with `error`. Then the worker exits: its state is unknown and the
// request's own chain may never settle, so the host fails the other calls as a crash and the next
// call starts a fresh worker.
function fatal(e: unknown): void {
	if (current && !current.answered) answerError(current.id, e);
	else console.error('[rewardWorker]', e);
	port.flush(() => process.exit(1));
}
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

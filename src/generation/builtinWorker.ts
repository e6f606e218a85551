/**
 * The built-in generator's worker thread (bundled to dist/generatorWorker.js). It keeps one loaded
 * model and answers every `load` and `generate` with exactly one `loaded`, `generated` or `error` of
 * the same id, after any number of `progress` or `delta` messages. Requests run one at a time in
 * arrival order (onnxruntime already uses every core for one step). `cancel` is handled at once, not
 * queued: it marks rows of a queued or running generation, which ends them at its next token.
 */
import { parentPort } from 'node:worker_threads';
import type { BuiltinLoadRequest, BuiltinWorkerToHost, HostToBuiltinWorker } from '../core/builtinProtocol';
import { BestOfNError, cancelledError, errorMessage } from '../core/errors';
import type { LoadProgress } from '../core/reward';
import { loadBuiltinModel, type LoadedBuiltinModel } from './builtinModel';

if (!parentPort) throw new Error('generatorWorker.js must be started as a worker thread.');
const port = parentPort;

let loaded: { readonly key: string; readonly model: LoadedBuiltinModel } | undefined;
let queue: Promise<void> = Promise.resolve();
/** The request in flight and whether it has had its one answer. */
let current: { readonly id: number; answered: boolean } | undefined;
/** Generations queued or running, with the rows cancelled so far (`all` for every row). */
const live = new Map<number, { all: boolean; readonly rows: Set<number> }>();

type Answer = Extract<BuiltinWorkerToHost, { type: 'loaded' | 'generated' | 'error' }>;

function answer(message: Answer): void {
	if (!current || current.id !== message.id || current.answered) return;
	current.answered = true;
	port.postMessage(message);
}

function answerError(id: number, e: unknown): void {
	if (e instanceof BestOfNError) answer({ type: 'error', id, kind: e.kind, message: e.template, setting: e.setting });
	else answer({ type: 'error', id, kind: 'builtin-failed', message: `The built-in model's worker failed: ${errorMessage(e)}` });
}

const send = (message: BuiltinWorkerToHost) => port.postMessage(message);

async function handle(message: HostToBuiltinWorker): Promise<void> {
	switch (message.type) {
		case 'load': {
			const key = requestKey(message.request);
			if (loaded?.key !== key) {
				const previous = loaded;
				loaded = undefined;
				await previous?.model.dispose();
				const onProgress = (progress: LoadProgress) => send({ type: 'progress', id: message.id, progress });
				loaded = { key, model: await loadBuiltinModel(message.request, onProgress) };
			}
			answer({ type: 'loaded', id: message.id, info: loaded.model.info });
			return;
		}
		case 'generate': {
			const cancelled = live.get(message.id) ?? { all: false, rows: new Set<number>() };
			try {
				if (cancelled.all) throw cancelledError();
				if (!loaded) throw new BestOfNError('builtin-failed', 'The built-in model was asked to generate before it was loaded.');
				const result = await loaded.model.generate(
					message.batch,
					row => cancelled.all || cancelled.rows.has(row),
					(row, text) => send({ type: 'delta', id: message.id, row, text }),
				);
				answer({ type: 'generated', id: message.id, result });
			} finally {
				live.delete(message.id);
			}
			return;
		}
		case 'cancel':
			return; // handled on arrival
		default: {
			const unknown: never = message;
			throw new Error(`unknown request ${JSON.stringify(unknown)}`);
		}
	}
}

function requestKey(r: BuiltinLoadRequest): string {
	return JSON.stringify([r.model, r.dtype, r.cacheDir, r.allowRemote, r.threads]);
}

port.on('message', (message: HostToBuiltinWorker) => {
	const id = typeof message?.id === 'number' ? message.id : -1;
	if (message?.type === 'cancel') {
		const entry = live.get(id);
		if (entry && message.rows) for (const row of message.rows) entry.rows.add(row);
		else if (entry) entry.all = true;
		return;
	}
	if (message?.type === 'generate') live.set(id, { all: false, rows: new Set() });
	queue = queue.then(async () => {
		current = { id, answered: false };
		try {
			await handle(message);
		} catch (e) {
			answerError(id, e);
		} finally {
			current = undefined;
		}
	});
});

// As in the reward worker: an error outside the request's promise chain answers the request in flight,
// then the thread exits; the host fails the other calls and the next call starts a fresh worker.
function fatal(e: unknown): void {
	if (current && !current.answered) answerError(current.id, e);
	else console.error('[generatorWorker]', e);
	process.exit(1);
}
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

/**
 * One model load in a fresh process, for figure 5's memory and load figures (a process's peak RSS
 * can only be measured once, so each load gets its own). Started by bench/scoring.ts with fork;
 * answers one `LoadFigures` over IPC and exits.
 *
 * - `worker`: the extension's path, `RewardWorkerClient` and dist/rewardWorker.js (with or without the
 *   warm-up after the load), then the idle unload;
 * - `transformers`: transformers.js's own `from_pretrained` on the same folder, as the scorer loaded
 *   models before it opened the file itself (the "before" of that change);
 * - `onnxruntime-file` / `onnxruntime-external`: onnxruntime-node alone opening the single model file
 *   (the worker before the external-data copy) and the copy (src/reward/externalData.ts);
 * - `onnxruntime-optimized`: the same, opening the copy's optimised graph (src/reward/optimizedGraph.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import type * as Ort from 'onnxruntime-node';
import type { RewardPair } from '../src/core/reward';
import { RewardWorkerClient } from '../src/reward/rewardClient';

export type LoadMode = 'worker' | 'worker-cold' | 'transformers' | 'onnxruntime-file' | 'onnxruntime-external' | 'onnxruntime-optimized';

export interface LoadChildArgs {
	readonly mode: LoadMode;
	readonly modelDir: string;
	/** fp32 loads onnx/model.onnx, q8 onnx/model_quantized.onnx. */
	readonly dtype: 'fp32' | 'q8';
	readonly workerPath: string;
	readonly cacheDir: string;
	readonly pair: RewardPair;
	/** How long generation would still go on after the load (the warm-up runs then). */
	readonly pauseMs: number;
	/** onnxruntime modes: the file to open, and the pair's length in tokens. */
	readonly onnxPath?: string;
	readonly tokens?: number;
}

export interface LoadFigures {
	readonly mode: LoadMode;
	readonly loadMs: number;
	/** The first score after the load, and the second (a warm one), each one pair. */
	readonly firstScoreMs: number;
	readonly secondScoreMs: number;
	/** The process's peak resident memory (VmHWM), bytes: Node, transformers.js and the model. */
	readonly peakBytes: number;
	/** Resident memory before anything was loaded, bytes. */
	readonly baseBytes: number;
	/** Resident memory once the idle worker was terminated (worker modes only), bytes. */
	readonly afterUnloadBytes?: number;
}

function status(field: 'VmHWM' | 'VmRSS'): number {
	const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
	return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const never = () => new AbortController().signal;

async function viaWorker(args: LoadChildArgs): Promise<LoadFigures> {
	const baseBytes = status('VmRSS');
	const idleMs = 1500;
	const client = new RewardWorkerClient({
		workerPath: args.workerPath,
		request: {
			model: args.modelDir,
			dtype: args.dtype,
			cacheDir: args.cacheDir,
			allowRemote: false,
			threads: 0,
			warmUp: args.mode === 'worker',
		},
		idleMs,
	});
	let t = performance.now();
	await client.load(never());
	const loadMs = performance.now() - t;
	await sleep(args.pauseMs);
	t = performance.now();
	await client.score([args.pair], never());
	const firstScoreMs = performance.now() - t;
	t = performance.now();
	await client.score([args.pair], never());
	const secondScoreMs = performance.now() - t;
	const peakBytes = status('VmHWM');
	while (client.running) await sleep(100);
	await sleep(500);
	return { mode: args.mode, loadMs, firstScoreMs, secondScoreMs, peakBytes, baseBytes, afterUnloadBytes: status('VmRSS') };
}

async function viaTransformers(args: LoadChildArgs): Promise<LoadFigures> {
	const T = require('@huggingface/transformers') as typeof Transformers;
	const baseBytes = status('VmRSS');
	let t = performance.now();
	const tokenizer = await T.AutoTokenizer.from_pretrained(args.modelDir, { local_files_only: true });
	const model = await T.AutoModelForSequenceClassification.from_pretrained(args.modelDir, { local_files_only: true, dtype: args.dtype });
	const loadMs = performance.now() - t;
	await sleep(args.pauseMs);
	const score = async () => {
		const inputs = tokenizer(args.pair.prompt, { text_pair: args.pair.response, truncation: true });
		await model(inputs);
	};
	t = performance.now();
	await score();
	const firstScoreMs = performance.now() - t;
	t = performance.now();
	await score();
	const secondScoreMs = performance.now() - t;
	const peakBytes = status('VmHWM');
	await model.dispose();
	return { mode: args.mode, loadMs, firstScoreMs, secondScoreMs, peakBytes, baseBytes };
}

async function viaOnnxruntime(args: LoadChildArgs): Promise<LoadFigures> {
	const ort = require('onnxruntime-node') as typeof Ort;
	const baseBytes = status('VmRSS');
	let t = performance.now();
	const session = await ort.InferenceSession.create(args.onnxPath ?? '');
	const loadMs = performance.now() - t;
	await sleep(args.pauseMs);
	const width = args.tokens ?? 256;
	const ids = (f: (i: number) => number) =>
		new ort.Tensor(
			'int64',
			BigInt64Array.from({ length: width }, (_, i) => BigInt(f(i))),
			[1, width],
		);
	const all: Record<string, Ort.Tensor> = {
		input_ids: ids(i => 1000 + (i % 2000)),
		attention_mask: ids(() => 1),
		token_type_ids: ids(() => 0),
	};
	const feeds = Object.fromEntries(session.inputNames.map(n => [n, all[n] ?? ids(() => 0)]));
	t = performance.now();
	await session.run(feeds);
	const firstScoreMs = performance.now() - t;
	t = performance.now();
	await session.run(feeds);
	const secondScoreMs = performance.now() - t;
	const peakBytes = status('VmHWM');
	await session.release();
	return { mode: args.mode, loadMs, firstScoreMs, secondScoreMs, peakBytes, baseBytes };
}

if (require.main === module) {
	process.once('message', (args: LoadChildArgs) => {
		const measure = args.mode === 'transformers' ? viaTransformers : args.mode.startsWith('onnxruntime') ? viaOnnxruntime : viaWorker;
		void measure(args).then(
			figures => process.send?.(figures, () => process.exit(0)),
			(e: unknown) => {
				console.error(e);
				process.exit(1);
			},
		);
	});
}

export const LOAD_CHILD = path.join(__dirname, 'loadChild.ts');

/**
 * One model load in a fresh process, for figure 5's memory and load figures (a process's peak RSS
 * can only be measured once, so each load gets its own). Started by bench/scoring.ts with fork;
 * answers one `LoadFigures` over IPC and exits.
 *
 * - `worker`: the extension's path, `RewardWorkerClient` and dist/rewardWorker.js in a process of its
 *   own (with or without the warm-up after the load), then the idle unload; `worker-thread`: the same
 *   in a worker thread of this process, as the extension scored before (src/reward/scorerProcess.ts);
 * - `transformers`: transformers.js's own `from_pretrained` on the same folder, as the scorer loaded
 *   models before it opened the file itself (the "before" of that change);
 * - `onnxruntime-file` / `onnxruntime-external`: onnxruntime-node alone opening the single model file
 *   (the worker before the external-data copy) and the copy (src/reward/externalData.ts);
 * - `onnxruntime-optimized`: the same, opening the copy's optimised graph (src/reward/optimizedGraph.ts).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import type * as Ort from 'onnxruntime-node';
import type { RewardPair } from '../src/core/reward';
import { RewardWorkerClient } from '../src/reward/rewardClient';
import { scorerSessionOptions, type PairInput } from '../src/reward/scorer';
import { SCORER_NODE_FLAGS, ScorerProcess } from '../src/reward/scorerProcess';

export type LoadMode =
	'worker' | 'worker-cold' | 'worker-thread' | 'transformers' | 'onnxruntime-file' | 'onnxruntime-external' | 'onnxruntime-optimized';

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
	/** onnxruntime modes: the file to open, and the pair's token ids as the scorer encodes them. */
	readonly onnxPath?: string;
	readonly input?: PairInput;
}

export interface LoadFigures {
	readonly mode: LoadMode;
	readonly loadMs: number;
	/** The first score after the load, and the second (a warm one), each one pair. */
	readonly firstScoreMs: number;
	readonly secondScoreMs: number;
	/**
	 * The peak resident memory (VmHWM), bytes, of the process that holds the model: Node,
	 * transformers.js and the model. For a worker in a process of its own, that process's (a whole Node).
	 */
	readonly peakBytes: number;
	/**
	 * Resident memory of the process that holds the model before anything was loaded, bytes: this
	 * process's at its start, or for a scorer process a bare Node's (this process runs the bench's
	 * TypeScript loader, which a scorer process does not).
	 */
	readonly baseBytes: number;
	/** This process's resident memory once the idle worker was stopped (worker modes only), bytes. */
	readonly afterUnloadBytes?: number;
	/** This process's resident memory at its start, bytes (what `afterUnloadBytes` returns to). */
	readonly hostBaseBytes: number;
	/** Whose VmHWM `peakBytes` is: this process's, or the scorer process's. */
	readonly peakOf: 'self' | 'scorer process';
}

function status(field: 'VmHWM' | 'VmRSS', pid: number | 'self' = 'self'): number {
	const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
	if (m) return Number(m[1]) * 1024;
	if (pid === 'self') return process.memoryUsage().rss;
	throw new Error(`no ${field} in /proc/${pid}/status`);
}

/** A bare Node's resident memory: what a scorer process holds before it loads anything. */
function bareNodeBytes(): number {
	const script = `process.stdout.write(/^VmRSS:\\s+(\\d+) kB/m.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1])`;
	return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) * 1024;
}

/** The least resident memory any scorer process of this model can peak at, and what it is made of. */
export interface ScorerFloor {
	/** A bare Node's RSS. */
	readonly bareBytes: number;
	/**
	 * The RSS of a fresh Node (no TypeScript loader and the scorer's V8 flags, as a scorer process is
	 * started) that has required onnxruntime-node, built the model's own tokenizer with
	 * src/reward/localTokenizer.ts as the scorer does when the files are on disk (@huggingface/tokenizers,
	 * a Unigram one without the package's trie; transformers.js is not loaded), collected the garbage and
	 * tokenized the typical pair: what a scorer holds besides the model, before it opens it.
	 */
	readonly fixedBytes: number;
	/**
	 * The model file's bytes that every forward pass reads: all of it but the word-embedding table, of
	 * which a pass reads only its tokens' rows (vocab_size × hidden_size, 1 byte a value in the 8-bit file
	 * and 4 in fp32). Every pass multiplies by all of the other weights, so they are resident at a score
	 * whether onnxruntime copies them or maps the file.
	 */
	readonly readEachPassBytes: number;
}

/** Measures `ScorerFloor` for a model folder: its fixed part in a fresh Node of its own. */
export function scorerFloor(modelDir: string, file: string, dtype: 'fp32' | 'q8', pair: RewardPair): ScorerFloor {
	const script = `
		const rss = () => Number(/^VmRSS:\\s+(\\d+) kB/m.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
		require('onnxruntime-node');
		const [bundle, dir, prompt, response] = JSON.parse(process.argv[1]);
		const local = require(bundle).loadLocalTokenizer(dir);
		if (!local) throw new Error('the scorer would load this tokenizer through transformers.js');
		// As the scorer's worker does before it opens the session (src/reward/worker.ts).
		globalThis.gc();
		local.tokenizer._tokenizer.encode(prompt, { text_pair: response });
		process.stdout.write(String(rss()));`;
	// The scorer's own tokenizer code, bundled as dist bundles it (the package inlined, no TypeScript loader).
	const bundle = path.join(os.tmpdir(), `bestofn-floor-tokenizer-${process.pid}.js`);
	let fixedBytes: number;
	try {
		buildSync({
			entryPoints: [path.join(__dirname, '..', 'src', 'reward', 'localTokenizer.ts')],
			outfile: bundle,
			bundle: true,
			platform: 'node',
			format: 'cjs',
			target: 'node20',
			logLevel: 'silent',
		});
		fixedBytes = Number(
			// Started with the scorer process's V8 flags (src/reward/scorerProcess.ts).
			execFileSync(
				process.execPath,
				[...SCORER_NODE_FLAGS, '-e', script, JSON.stringify([bundle, modelDir, pair.prompt, pair.response])],
				{
					encoding: 'utf8',
					cwd: path.join(__dirname, '..'),
				},
			),
		);
	} finally {
		fs.rmSync(bundle, { force: true });
	}
	const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { vocab_size: number; hidden_size: number };
	const table = config.vocab_size * config.hidden_size * (dtype === 'q8' ? 1 : 4);
	return { bareBytes: bareNodeBytes(), fixedBytes, readEachPassBytes: fs.statSync(file).size - table };
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const never = () => new AbortController().signal;

async function viaWorker(args: LoadChildArgs): Promise<LoadFigures> {
	const hostBaseBytes = status('VmRSS');
	const idleMs = 1500;
	const client = new RewardWorkerClient({
		workerPath: args.workerPath,
		request: {
			model: args.modelDir,
			dtype: args.dtype,
			cacheDir: args.cacheDir,
			allowRemote: false,
			threads: 0,
			warmUp: args.mode !== 'worker-cold',
		},
		idleMs,
		isolation: args.mode === 'worker-thread' ? 'thread' : 'process',
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
	// A process of its own holds the model: its peak, read before the idle unload ends it.
	const worker = client['conn']?.worker;
	const scorer = worker instanceof ScorerProcess ? worker.threadId : undefined;
	const peakBytes = status('VmHWM', scorer);
	const baseBytes = scorer === undefined ? hostBaseBytes : bareNodeBytes();
	while (client.running) await sleep(100);
	await sleep(500);
	const afterUnloadBytes = status('VmRSS');
	const peakOf = scorer === undefined ? 'self' : 'scorer process';
	return { mode: args.mode, loadMs, firstScoreMs, secondScoreMs, peakBytes, baseBytes, afterUnloadBytes, hostBaseBytes, peakOf };
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
	return { mode: args.mode, loadMs, firstScoreMs, secondScoreMs, peakBytes, baseBytes, hostBaseBytes: baseBytes, peakOf: 'self' };
}

async function viaOnnxruntime(args: LoadChildArgs): Promise<LoadFigures> {
	const ort = require('onnxruntime-node') as typeof Ort;
	const baseBytes = status('VmRSS');
	let t = performance.now();
	// The scorer's session options: what onnxruntime itself holds on the scorer's terms.
	const session = await ort.InferenceSession.create(args.onnxPath ?? '', scorerSessionOptions(0));
	const loadMs = performance.now() - t;
	await sleep(args.pauseMs);
	// The pair's own ids, not made-up ones: a pass maps the word-embedding rows of its ids, and the kernel
	// maps pages around each (fault-around), so ids spread over the vocabulary hold more of the table
	// than a narrow run of ids (measured: 20 MB more for the 8-bit DeBERTa-v3 at 512 tokens).
	const input_ids = args.input?.input_ids ?? [];
	const ids = (values: readonly number[]) =>
		new ort.Tensor(
			'int64',
			BigInt64Array.from(values, v => BigInt(v)),
			[1, input_ids.length],
		);
	const all: Record<string, Ort.Tensor> = {
		input_ids: ids(input_ids),
		attention_mask: ids(input_ids.map(() => 1)),
		token_type_ids: ids(args.input?.token_type_ids ?? input_ids.map(() => 0)),
	};
	const feeds = Object.fromEntries(session.inputNames.map(n => [n, all[n] ?? ids(input_ids.map(() => 0))]));
	t = performance.now();
	await session.run(feeds);
	const firstScoreMs = performance.now() - t;
	t = performance.now();
	await session.run(feeds);
	const secondScoreMs = performance.now() - t;
	const peakBytes = status('VmHWM');
	await session.release();
	return { mode: args.mode, loadMs, firstScoreMs, secondScoreMs, peakBytes, baseBytes, hostBaseBytes: baseBytes, peakOf: 'self' };
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

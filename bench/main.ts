/**
 * `npm run bench [-- --quick] [-- --only 1,2,5]`: measures the figures of issue #19 and the built-in generator's speed
 * (issue #20), each as a ratio of two things measured side by side in this same process (these
 * machines are noisy; absolute times are not comparable from one run to the next), prints them and
 * writes bench/RESULTS.md.
 *
 * Run it alone on the machine (`flock /tmp/host.lock npm run bench`): it uses every core.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InProcessRewardScorer, RewardWorkerClient } from '../src/reward/rewardClient';
import { BERT_BASE, ensureBertRewardModel } from './bertModel';
import { runOnce, ServerProcess, typicalPair, type Client, type PipelineContext, type RunFigures } from './pipeline';
import { median, RawScorer } from './raw';
import { measureGeneration } from './generation';
import { measureStartup } from './startup';
import { measureLoad, measureThroughput } from './scoring';
import type { LoadFigures } from './loadChild';

const ROOT = path.join(__dirname, '..');
const quick = process.argv.includes('--quick');
/** `--only 1,2,5`: just these figures (1, 2 and 4 come from the same runs). */
const onlyArg = process.argv[process.argv.indexOf('--only') + 1];
const only = process.argv.includes('--only') && onlyArg ? new Set(onlyArg.split(',').map(Number)) : undefined;
const wants = (...figures: number[]) => !only || figures.some(f => only.has(f));

interface Section {
	readonly title: string;
	readonly note: string;
	readonly header: readonly string[];
	readonly rows: string[][];
}

const sections: Section[] = [];
const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const ms = (v: number) => `${Math.round(v)} ms`;

function log(line: string): void {
	process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
	const started = Date.now();
	log('building dist/ …');
	execFileSync(process.execPath, [path.join(ROOT, 'esbuild.js')], { cwd: ROOT, stdio: 'inherit' });
	log('writing the BERT-base-shaped reward model (once; cached in bench/.models/) …');
	const modelDir = ensureBertRewardModel(path.join(ROOT, 'bench', '.models', 'bert-base'), BERT_BASE);
	const modelBytes = fs.statSync(path.join(modelDir, 'onnx', 'model.onnx')).size;

	const startup = wants(6) ? measureStartup(ROOT, quick ? 3 : 7) : undefined;
	const raw = await RawScorer.create(modelDir, quick ? 1 : 3);
	const request = {
		model: modelDir,
		dtype: 'fp32' as const,
		cacheDir: path.join(ROOT, 'bench', '.models', 'cache'),
		allowRemote: false,
		threads: 0,
	};
	const workerPath = path.join(ROOT, 'dist', 'rewardWorker.js');
	const worker = new RewardWorkerClient({ workerPath, request, idleMs: 0 });
	const server = await ServerProcess.start();
	try {
		await worker.load(new AbortController().signal);
		const words = 200;
		const tokenDelayMs = 10;
		const pair = typicalPair(words);
		// Warm both paths (first runs allocate), then "one score" is raw onnxruntime on a typical pair.
		await worker.score([pair], new AbortController().signal);
		const oneTimes: number[] = [];
		for (let i = 0; i < 6; i++) oneTimes.push(await raw.time([raw.encode(pair)]));
		const oneScore = median(oneTimes.slice(1));
		log(`one score: ${ms(oneScore)} (${raw.tokens(pair)} tokens, model ${(modelBytes / 1e6).toFixed(0)} MB)`);

		if (wants(1, 2, 4)) {
			const ctx: PipelineContext = { server, scorer: worker, raw, modelDir, tokenDelayMs, words };
			await pipelineFigures(ctx, request, oneScore);
		}
		if (wants(5)) await scoringFigures(raw, worker, { modelDir, workerPath, cacheDir: request.cacheDir, pair }, modelBytes);
	} finally {
		server.stop();
		worker.dispose();
		await raw.dispose();
	}
	if (startup) {
		sections.push({
			title: '6. Start-up and size',
			note: `Requiring dist/extension.js in a fresh Node process (a stub stands in for \`vscode\`; activate() is not called) vs requiring transformers.js, which must not load at activation. Median of ${quick ? 3 : 7}. Heavy modules loaded by the extension's require: ${startup.heavyLoaded.length ? startup.heavyLoaded.join(', ') : 'none'}.`,
			header: ['extension.js require', 'transformers.js require', 'ratio', ...startup.bundles.map(b => b.file)],
			rows: [
				[
					ms(startup.extensionMs),
					ms(startup.transformersMs),
					fmt(startup.extensionMs / startup.transformersMs),
					...startup.bundles.map(b => `${(b.bytes / 1024).toFixed(0)} KiB`),
				],
			],
		});
	}
	if (!wants(7)) {
		writeResults(Date.now() - started, modelBytes);
		return;
	}
	// Last: it loads its own 2 GB model, after the reward model and the server process are gone.
	const gen = await measureGeneration(path.join(ROOT, 'bench', '.models'), { tokens: quick ? 8 : 32, log });
	const tps = (v: number) => `${fmt(v, 2)} tokens/s`;
	sections.push({
		title: '7. Built-in generator',
		note: `Tokens per second of the built-in backend's model on this CPU through transformers.js (${gen.shape}; speed does not depend on the weights), ${gen.tokensPerCandidate} new tokens per candidate, all rows together. N = 4 as rows of one batched generation vs one generation after another. The built-in generator batches, chosen on the full run's 32 tokens a candidate (CONTRIBUTING); with few tokens the prompt's prefill weighs more and the two come closer. Loaded in ${ms(gen.loadMs)}.`,
		header: ['N', 'how', 'tokens/s', '÷ N = 1'],
		rows: [
			['1', '—', tps(gen.one), '1.00'],
			['4', 'batched', tps(gen.batched), fmt(gen.batched / gen.one)],
			['4', 'sequential', tps(gen.sequential), fmt(gen.sequential / gen.one)],
		],
	});
	writeResults(Date.now() - started, modelBytes);
}

/** Figures 1, 2 and 4: whole runs through the extension's pipeline, before (one by one) and now, and a naive client. */
async function pipelineFigures(
	ctx: PipelineContext,
	request: ConstructorParameters<typeof InProcessRewardScorer>[0],
	oneScore: number,
): Promise<void> {
	const { words, tokenDelayMs } = ctx;
	const configs: Array<[number, number]> = quick
		? [
				[4, 1],
				[4, 4],
			]
		: [
				[4, 1],
				[4, 4],
				[8, 1],
				[8, 8],
			];
	const repeats = quick ? 1 : 8;
	const clients: Client[] = ['ours', 'ours-one-by-one', 'naive'];
	const runs: RunFigures[] = [];
	let seed = 1000;
	for (let r = 0; r < repeats; r++) {
		for (const [n, k] of configs) {
			for (const client of clients) {
				const f = await runOnce(ctx, client, n, k, (seed += 100));
				log(
					`${client} N=${n} K=${k}: wall ${ms(f.wallMs)}, span ${ms(f.spanMs)}, tail ${ms(f.tailMs)}, least left ${ms(f.leastLeftMs)}, started before last token ${f.startedBefore}/${f.scored}, loop p99 ${fmt(f.loopP99Ms, 1)} ms`,
				);
				runs.push(f);
			}
		}
	}
	const rows1: string[][] = [];
	const rows2: string[][] = [];
	for (const [n, k] of configs) {
		const of = (client: Client) => runs.filter(f => f.client === client && f.n === n && f.k === k);
		const overhead = (f: RunFigures) => f.wallMs / (f.spanMs + f.leastLeftMs);
		const ours = of('ours');
		const before = of('ours-one-by-one');
		const naive = of('naive');
		const tailRatio = (fs: RunFigures[]) => fmt(median(fs.map(f => (f.leastLeftMs > 0 ? f.tailMs / f.leastLeftMs : NaN))));
		rows1.push([
			`N ${n}, ${k} slot${k > 1 ? 's' : ''}`,
			fmt(median(ours.map(overhead))),
			fmt(median(before.map(overhead))),
			fmt(median(naive.map(overhead))),
			fmt(median(ours.map(f => f.wallMs)) / median(before.map(f => f.wallMs))),
			fmt(median(ours.map(f => f.wallMs)) / median(naive.map(f => f.wallMs))),
			`${median(ours.map(f => f.startedBefore))} of ${n}`,
			ms(median(ours.map(f => f.spanMs))),
		]);
		rows2.push([
			`N ${n}, ${k} slot${k > 1 ? 's' : ''}`,
			tailRatio(ours),
			tailRatio(before),
			fmt(median(ours.map(f => f.tailMs / oneScore))),
			fmt(median(before.map(f => f.tailMs / oneScore))),
			fmt(median(naive.map(f => f.tailMs / oneScore))),
			fmt(median(ours.map(f => f.tailMs)) / median(before.map(f => f.tailMs))),
			ms(median(ours.map(f => f.tailMs))),
			ms(median(ours.map(f => f.leastLeftMs))),
		]);
	}
	sections.push({
		title: '1. Run overhead',
		note: `Wall time from the command to the final ranking ÷ (the server's own span + the least CPU time for the scores left after its last token). Candidates of ${words} words at ${tokenDelayMs} ms a word per stream; warm worker; median of ${repeats}. Ours: candidates that complete while a score runs are scored together, batched when that is faster on this CPU. One by one (before): the same run, each pair in a call of its own. Naive: generate all, then score all in one call.`,
		header: [
			'run',
			'ours',
			'one by one (before)',
			'naive',
			'ours ÷ before (wall)',
			'ours ÷ naive (wall)',
			'scores started before the last token',
			'server span',
		],
		rows: rows1,
	});
	sections.push({
		title: '2. Ranking tail',
		note: `Server's last token → final ranking ÷ the least time to score what was still unscored then (best of one-by-one and batched raw onnxruntime-node on the same tensors), and ÷ one score (raw, ${ms(oneScore)}, ${words}-word candidate). Before: each pair in a call of its own.`,
		header: [
			'run',
			'tail ÷ least',
			'before: tail ÷ least',
			'tail ÷ one score',
			'before: tail ÷ one score',
			'naive tail ÷ one score',
			'tail ÷ before',
			'tail',
			'least',
		],
		rows: rows2,
	});
	sections.push({
		title: '4. Editor responsiveness',
		note: `Event-loop delay of the run's thread (the extension host's, in the editor) during a run of N 4, 4 slots, the reward model scoring in the worker (ours) vs on the same thread (transformers.js in process). Median of ${repeats}.`,
		header: ['scoring', 'p99', 'max', 'p99 ÷ 10 ms target'],
		rows: await responsiveness(ctx, request, runs, repeats),
	});
}

/** Figure 5: scoring throughput, ours vs raw, and each load's memory and first score in a fresh process. */
async function scoringFigures(
	raw: RawScorer,
	worker: RewardWorkerClient,
	load: { modelDir: string; workerPath: string; cacheDir: string; pair: ReturnType<typeof typicalPair> },
	modelBytes: number,
): Promise<void> {
	const repeats = quick ? 1 : 3;
	const through = await measureThroughput(raw, worker, [128, 256, 512], repeats, log);
	const ps = (v: number) => `${fmt(v, 2)}`;
	sections.push({
		title: '5a. Scoring cost',
		note: `Pairs per second, four different pairs of each length, fp32, median of ${repeats}. Raw: onnxruntime-node on this thread on the same tensors, one by one and as one padded batch. Ours: through the reward worker, four calls of one pair, and one call of four (the scorer batches them or not by the costs it has measured). 8-bit: not measured: onnxruntime's quantizer is Python (onnxruntime.quantization), which this machine lacks (no pip index reachable), and onnxruntime-node has none; the TypeScript model writer does not write quantized graphs yet. DeBERTa-v3-base-shaped: not measured, its writer is not written (disentangled attention).`,
		header: [
			'tokens',
			'raw one by one',
			'raw batched',
			'batched ÷ one by one (raw)',
			'ours one by one',
			'ours, one call of 4',
			'raw ÷ ours (one by one; target ≥ 0.95)',
			'best raw ÷ ours (one call)',
		],
		rows: through.map(t => [
			String(t.tokens),
			ps(t.rawSingle),
			ps(t.rawBatch),
			fmt(t.rawBatch / t.rawSingle),
			ps(t.oursSingle),
			ps(t.oursBatch),
			fmt(t.oursSingle / t.rawSingle),
			fmt(t.oursBatch / Math.max(t.rawSingle, t.rawBatch)),
		]),
	});
	const args = { ...load, pauseMs: 1000 };
	const figures: LoadFigures[] = [];
	for (const mode of ['worker', 'worker-cold', 'transformers'] as const) {
		const f = await measureLoad(args, mode);
		log(
			`${mode}: load ${ms(f.loadMs)}, first score ${ms(f.firstScoreMs)}, second ${ms(f.secondScoreMs)}, peak ${(f.peakBytes / 1e6).toFixed(0)} MB`,
		);
		figures.push(f);
	}
	const mb = (b: number | undefined) => (b === undefined ? '—' : `${(b / 1e6).toFixed(0)} MB`);
	const label = {
		worker: 'worker, warm-up (ours)',
		'worker-cold': 'worker, no warm-up (before)',
		transformers: 'transformers.js from_pretrained (before)',
	};
	sections.push({
		title: '5b. Memory and load',
		note: `Each in a fresh process: load the ${(modelBytes / 1e6).toFixed(0)} MB fp32 model, wait 1 s (generation still going), score one typical pair, then another. Peak is the process's VmHWM (Node and transformers.js included; before the load it held the "base"). Ours opens the file with onnxruntime-node; before, transformers.js's from_pretrained, whose file response also streamed the whole file into memory. After unload: the process's RSS once the idle worker (1.5 s) was terminated.`,
		header: [
			'load',
			'peak ÷ model file (target ≤ 1.5)',
			'peak',
			'base',
			'after idle unload',
			'load time',
			'first score',
			'second score',
			'first ÷ second',
		],
		rows: figures.map(f => [
			label[f.mode],
			fmt(f.peakBytes / modelBytes),
			mb(f.peakBytes),
			mb(f.baseBytes),
			mb(f.afterUnloadBytes),
			ms(f.loadMs),
			ms(f.firstScoreMs),
			ms(f.secondScoreMs),
			fmt(f.firstScoreMs / f.secondScoreMs),
		]),
	});
}

/** Event-loop delay during N 4 / 4-slot runs: the worker's (from figure 1) vs the same model on this thread. */
async function responsiveness(
	ctx: PipelineContext,
	request: ConstructorParameters<typeof InProcessRewardScorer>[0],
	runs: readonly RunFigures[],
	repeats: number,
): Promise<string[][]> {
	const inWorker = runs.filter(f => f.client === 'ours' && f.n === 4 && f.k === 4);
	const inProcess = new InProcessRewardScorer(request);
	const same: RunFigures[] = [];
	try {
		await inProcess.load(new AbortController().signal);
		await inProcess.score([typicalPair(ctx.words)], new AbortController().signal);
		for (let r = 0; r < repeats; r++) {
			const f = await runOnce({ ...ctx, scorer: inProcess }, 'ours', 4, 4, 9000 + r * 100);
			log(`same thread N=4 K=4: wall ${ms(f.wallMs)}, loop p99 ${fmt(f.loopP99Ms, 1)} ms, max ${fmt(f.loopMaxMs, 1)} ms`);
			same.push(f);
		}
	} finally {
		await inProcess.dispose();
	}
	const row = (label: string, fs: readonly RunFigures[]) => {
		const p99 = median(fs.map(f => f.loopP99Ms));
		return [label, `${fmt(p99, 1)} ms`, `${fmt(median(fs.map(f => f.loopMaxMs)), 1)} ms`, fmt(p99 / 10)];
	};
	return [row('worker thread (ours)', inWorker), row('same thread', same)];
}

function writeResults(elapsedMs: number, modelBytes: number): void {
	const cpus = os.cpus();
	const lines = [
		'# Benchmark results',
		'',
		'Written by `npm run bench` (see bench/main.ts); every figure is a ratio of two things measured side by side in the same run.',
		'',
		`- Date: ${new Date().toISOString()}`,
		`- Command: \`npm run bench${quick || only ? ' --' : ''}${quick ? ' --quick' : ''}${only ? ` --only ${[...only].join(',')}` : ''}\` (${Math.round(elapsedMs / 1000)} s)`,
		`- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, ${os.platform()} ${os.release()}, Node ${process.version}, load average at the end ${os
			.loadavg()
			.map(v => v.toFixed(1))
			.join(' ')}`,
		`- Reward model: BERT-base-shaped fp32, random weights, ${(modelBytes / 1e6).toFixed(0)} MB (bench/bertModel.ts)`,
		'',
	];
	for (const s of sections) {
		lines.push(`## ${s.title}`, '', s.note, '', `| ${s.header.join(' | ')} |`, `|${s.header.map(() => '---').join('|')}|`);
		for (const row of s.rows) lines.push(`| ${row.join(' | ')} |`);
		lines.push('');
	}
	const text = lines.join('\n');
	const file = path.join(ROOT, 'bench', 'RESULTS.md');
	const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
	// Before/after records of speed changes are kept below the latest table.
	const history = previous.includes('\n# Changes for speed') ? previous.slice(previous.indexOf('\n# Changes for speed')) : '';
	fs.writeFileSync(file, text + history);
	process.stdout.write(text);
}

main().then(
	() => process.exit(0),
	(e: unknown) => {
		console.error(e);
		process.exit(1);
	},
);

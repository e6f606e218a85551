/**
 * `npm run bench [-- --quick] [-- --only 1,2,5] [-- --repeats 3] [-- --deberta]`: measures the figures of issue #19 and the built-in generator's speed
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
import { externalDataCopy } from '../src/reward/externalData';
import { optimizedGraph, optimizedPath } from '../src/reward/optimizedGraph';
import { InProcessRewardScorer, RewardWorkerClient } from '../src/reward/rewardClient';
import type { LoadRequest } from '../src/core/workerProtocol';
import { BERT_BASE, ensureBertRewardModel } from './bertModel';
import { DEBERTA_V3_BASE, ensureDebertaRewardModel } from './debertaModel';
import { MODEL_FILE } from './onnxGraph';
import { runOnce, ServerProcess, typicalPair, type Backend, type Client, type PipelineContext, type RunFigures } from './pipeline';
import { median, RawScorer } from './raw';
import { measureGeneration } from './generation';
import { measureHostActivation } from './activation';
import { measureStartup } from './startup';
import { measureFirstCandidate, type PaintTimes } from './firstCandidate';
import { measureLoad, measureThroughput, type Throughput } from './scoring';
import { scorerFloor, type LoadFigures } from './loadChild';
import { RunStamps } from './runStamps';

const ROOT = path.join(__dirname, '..');
const quick = process.argv.includes('--quick');
/** `--only 1,2,5`: just these figures (1, 2 and 4 come from the same runs; 3 also measures 6's picker first paint, and opens a browser). */
const onlyArg = process.argv[process.argv.indexOf('--only') + 1];
const only = process.argv.includes('--only') && onlyArg ? new Set(onlyArg.split(',').map(Number)) : undefined;
const wants = (...figures: number[]) => !only || figures.some(f => only.has(f));
/** `--repeats 3`: at most this many repeats (or samples) of each figure in a full run, which takes over an hour with its defaults here. */
const repeatsArg = Number(process.argv[process.argv.indexOf('--repeats') + 1]);
const repeatCap = process.argv.includes('--repeats') && repeatsArg >= 1 ? Math.floor(repeatsArg) : Infinity;
/** How many repeats a figure takes: `inQuick` with --quick, else `full`, capped by --repeats. */
const times = (inQuick: number, full: number) => (quick ? inQuick : Math.min(full, repeatCap));
/** `--quick --deberta`: figure 5 with the DeBERTa-v3-base-shaped model too (full runs always measure it). */
const deberta = !quick || process.argv.includes('--deberta');
/** `--hold-before`: figure 1 also runs ours without the rule that holds scores when scoring slows the server (src/core/serverPace.ts). */
const holdBefore = process.argv.includes('--hold-before');
/** `--only 1 --only-1b`: figure 1b alone (its full-run candidates without --quick), not figures 1, 2 and 4 it sits beside. */
const sameCpuOnly = process.argv.includes('--only-1b');

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
	log('writing the BERT-base-shaped reward model, fp32 and 8-bit (once; cached in bench/.models/) …');
	const modelDir = ensureBertRewardModel(path.join(ROOT, 'bench', '.models', 'bert-base'), BERT_BASE);
	const modelBytes = fs.statSync(path.join(modelDir, 'onnx', 'model.onnx')).size;

	const startup = wants(6) ? measureStartup(ROOT, times(3, 7)) : undefined;
	const raw = await RawScorer.create(modelDir, times(1, 3));
	const request: LoadRequest = {
		model: modelDir,
		dtype: 'fp32',
		cacheDir: path.join(ROOT, 'bench', '.models', 'cache'),
		allowRemote: false,
		threads: 0,
	};
	const workerPath = path.join(ROOT, 'dist', 'rewardWorker.js');
	const worker = new RewardWorkerClient({ workerPath, request, idleMs: 0, isolation: 'process' });
	// The same worker in a thread of this process, as the extension scored before (src/reward/scorerProcess.ts):
	// loaded only by the figures that compare the two.
	const threadWorker = new RewardWorkerClient({ workerPath, request, idleMs: 0, isolation: 'thread' });
	const server = await ServerProcess.start();
	let firstPaint: Section | undefined;
	try {
		await worker.load(new AbortController().signal);
		// --quick: shorter candidates (half the server's span); ratios are within one run either way.
		const words = quick ? 100 : 200;
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
			if (!sameCpuOnly) await pipelineFigures(ctx, request, oneScore, threadWorker);
			// The CPU-bound server's runs take about 25 s: full runs, or --quick --only 1 (or 2).
			if (wants(1, 2) && (!quick || only?.has(1) || only?.has(2))) await sameCpuFigures(ctx, { workerPath, request });
		}
		// A workbench and a warm-up run that loads the reward model take most of a minute: full runs, or --quick --only 3.
		if (wants(3, 6) && (!quick || only?.has(3)))
			firstPaint = await firstCandidateFigures({
				server,
				modelDir,
				words,
				tokenDelayMs,
				timeOneScore: () => raw.time([raw.encode(pair)]),
			});
		if (wants(5)) {
			// Its loads take longest (a 128k-piece Unigram tokenizer, 742 MB fp32), so not in --quick.
			if (deberta) log('writing the DeBERTa-v3-base-shaped reward model, fp32 and 8-bit (once; cached in bench/.models/) …');
			const debertaDir = deberta
				? ensureDebertaRewardModel(path.join(ROOT, 'bench', '.models', 'deberta-v3-base'), DEBERTA_V3_BASE)
				: undefined;
			await scoringFigures(
				raw,
				{ thread: threadWorker },
				{ workerPath, cacheDir: request.cacheDir, pair },
				request,
				variants(modelDir, debertaDir),
			);
		}
	} finally {
		server.stop();
		worker.dispose();
		threadWorker.dispose();
		await raw.dispose();
	}
	// A fresh workbench per sample, about 20 s each (73 s in all for --quick --only 6): full runs, or --quick --only 6. Needs the host lock, as figure 3.
	const inHost = startup && (!quick || only?.has(6)) ? await measureHostActivation(ROOT, times(3, 5), log) : undefined;
	const activation = inHost?.samples;
	if (startup) {
		const heavyInHost = [...new Set(activation?.flatMap(a => a.heavy) ?? [])];
		const inEditor = activation
			? `In the editor (bench/activation.ts): code-server and Chromium (test/e2e/harness.js), a fresh server, extension host and browser for each of ${activation.length} samples; the time VS Code itself shows in Developer: Show Running Extensions ("Activation: N ms", its code loading plus the activate() call, not the promise activate returns), for ours and for an extension with nothing in it, both activating on the event ours does (${inHost?.events.join(', ')}) in the same host, nothing triggered, which of the two is installed first alternating; medians of the times and of each sample's ours ÷ the empty one's (that one at least 1 ms). Then, from /proc, what had loaded in the extension host when the times were read: a process running one of dist/'s workers, a worker thread in the host, onnxruntime's library mapped into it (requiring transformers.js maps it).`
			: 'In the editor: full runs, or --quick --only 6 (a fresh workbench per sample, about 20 s each).';
		sections.push({
			title: '6. Start-up and size',
			note: `Require: dist/extension.js required in a fresh Node ${process.version} process (a stub stands in for \`vscode\`; activate() is not called) vs requiring transformers.js the same way, which must not load at activation; median of ${times(3, 7)}. Heavy modules in the require cache after requiring the extension: ${startup.heavyLoaded.length ? startup.heavyLoaded.join(', ') : 'none'}. ${inEditor} Bundles: each file of dist/ as built here (not minified, as \`node esbuild.js\` builds it).`,
			header: [
				'extension.js require',
				'transformers.js require',
				'ratio',
				'activation in the editor',
				"an empty extension's, same host",
				"ours ÷ the empty extension's",
				'loaded in the host after activation',
				...startup.bundles.map(b => b.file),
			],
			rows: [
				[
					ms(startup.extensionMs),
					ms(startup.transformersMs),
					fmt(startup.extensionMs / startup.transformersMs),
					activation ? ms(median(activation.map(a => a.oursMs))) : '—',
					activation ? ms(median(activation.map(a => a.emptyMs))) : '—',
					activation ? fmt(median(activation.map(a => a.oursMs / Math.max(1, a.emptyMs)))) : '—',
					activation
						? heavyInHost.length
							? heavyInHost.join('; ')
							: `nothing (${activation.length} of ${activation.length})`
						: '—',
					...startup.bundles.map(b => `${(b.bytes / 1024).toFixed(0)} KiB`),
				],
			],
		});
	}
	if (firstPaint) sections.push(firstPaint);
	// --quick leaves out the built-in generator unless asked for (--only 7): loading its 2 GB model
	// alone takes a good part of the two minutes. `npm run bench:generation -- --tiny` is its quick check.
	if (!wants(7) || (quick && !only?.has(7))) {
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

/**
 * Figures 1, 2 and 4: whole runs through the extension's pipeline, before (one by one) and now, and a
 * naive client; for N 4 with 4 slots also ours through the worker thread it scored in before its process.
 */
async function pipelineFigures(
	ctx: PipelineContext,
	request: ConstructorParameters<typeof InProcessRewardScorer>[0],
	oneScore: number,
	threadWorker: RewardWorkerClient,
): Promise<void> {
	const { words, tokenDelayMs } = ctx;
	const sizes: Array<[number, number]> = quick
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
	// Each size through both backends: Ollama (a request per candidate, K at once) and an OpenAI-compatible
	// server as vLLM runs one (the N candidates as one request with `n`, K the server's slots).
	const backends: Backend[] = ['ollama', 'openai'];
	const configs = backends.flatMap(backend => sizes.map(([n, k]) => ({ backend, n, k })));
	const repeats = times(1, 8);
	const clients: Client[] = holdBefore ? ['ours', 'ours-no-hold', 'ours-one-by-one', 'naive'] : ['ours', 'ours-one-by-one', 'naive'];
	const runs: RunFigures[] = [];
	// Ours with the worker in a thread (before it had a process of its own): only where K = N missed its target.
	const threaded = (c: { backend: Backend; n: number; k: number }) => c.backend === 'ollama' && c.n === 4 && c.k === 4;
	const threadRuns: RunFigures[] = [];
	await threadWorker.load(new AbortController().signal);
	await threadWorker.score([typicalPair(words)], new AbortController().signal);
	const label = (c: { backend: Backend; n: number; k: number }) =>
		`N ${c.n}, ${c.k} slot${c.k > 1 ? 's' : ''}, ${c.backend === 'openai' ? `OpenAI-compatible (n ${c.n})` : 'Ollama'}`;
	let seed = 1000;
	for (let r = 0; r < repeats; r++) {
		for (const config of configs) {
			const { backend, n, k } = config;
			// The thread's run beside ours, which of the two first alternating with the repeat.
			const rest = clients.filter(c => c !== 'ours');
			const order: Array<Client | 'thread'> = !threaded(config)
				? clients
				: r % 2 === 0
					? ['ours', 'thread', ...rest]
					: ['thread', 'ours', ...rest];
			for (const client of order) {
				const thread = client === 'thread';
				const f = await runOnce(
					thread ? { ...ctx, scorer: threadWorker } : ctx,
					thread ? 'ours' : client,
					n,
					k,
					(seed += 100),
					backend,
				);
				log(
					`${thread ? 'ours (worker thread)' : client} ${label(config)}: wall ${ms(f.wallMs)}, span ${ms(f.spanMs)}, tail ${ms(f.tailMs)}, least left ${ms(f.leastLeftMs)} (after ours' pause ${ms(f.leastAfterPauseMs)}), started before last token ${f.startedBefore}/${f.scored}, loop p99 ${fmt(f.loopP99Ms, 1)} ms, pace while scoring ${f.paceRatio === undefined ? '—' : fmt(f.paceRatio)}, held ${f.held}`,
				);
				(thread ? threadRuns : runs).push(f);
			}
		}
	}
	const wallOf = (fs: readonly RunFigures[]) => median(fs.map(f => f.wallMs));
	const rows1: string[][] = [];
	const rows2: string[][] = [];
	for (const config of configs) {
		const { backend, n, k } = config;
		const of = (client: Client) => runs.filter(f => f.client === client && f.backend === backend && f.n === n && f.k === k);
		const overhead = (f: RunFigures) => f.wallMs / (f.spanMs + f.leastLeftMs);
		const ours = of('ours');
		const before = of('ours-one-by-one');
		const naive = of('naive');
		const tailRatio = (fs: RunFigures[], least = (f: RunFigures) => f.leastLeftMs) =>
			fmt(median(fs.map(f => (least(f) > 0 ? f.tailMs / least(f) : NaN))));
		rows1.push([
			label(config),
			fmt(median(ours.map(overhead))),
			fmt(median(before.map(overhead))),
			fmt(median(naive.map(overhead))),
			fmt(median(ours.map(f => f.wallMs)) / median(before.map(f => f.wallMs))),
			fmt(median(ours.map(f => f.wallMs)) / median(naive.map(f => f.wallMs))),
			`${median(ours.map(f => f.startedBefore))} of ${n}`,
			ms(median(ours.map(f => f.spanMs))),
			...(holdBefore ? holdColumns(ours, of('ours-no-hold')) : []),
		]);
		rows2.push([
			label(config),
			tailRatio(ours),
			tailRatio(ours, f => f.leastAfterPauseMs),
			tailRatio(before),
			fmt(median(ours.map(f => f.tailMs / oneScore))),
			fmt(median(before.map(f => f.tailMs / oneScore))),
			fmt(median(naive.map(f => f.tailMs / oneScore))),
			fmt(median(ours.map(f => f.tailMs)) / median(before.map(f => f.tailMs))),
			ms(median(ours.map(f => f.tailMs))),
			ms(median(ours.map(f => f.leastLeftMs))),
		]);
		if (!threaded(config)) continue;
		const thread = threadRuns.filter(f => f.n === n && f.k === k);
		const threadLabel = `${label(config)} (worker thread, before)`;
		rows1.push([
			threadLabel,
			fmt(median(thread.map(overhead))),
			'—',
			'—',
			'—',
			fmt(wallOf(thread) / median(naive.map(f => f.wallMs))),
			`${median(thread.map(f => f.startedBefore))} of ${n}`,
			ms(median(thread.map(f => f.spanMs))),
			...(holdBefore ? ['—', '—', '—'] : []),
		]);
		rows2.push([
			threadLabel,
			tailRatio(thread),
			tailRatio(thread, f => f.leastAfterPauseMs),
			'—',
			fmt(median(thread.map(f => f.tailMs / oneScore))),
			'—',
			'—',
			'—',
			ms(median(thread.map(f => f.tailMs))),
			ms(median(thread.map(f => f.leastLeftMs))),
		]);
	}
	const ours44 = runs.filter(f => f.client === 'ours' && threaded(f));
	const tailOf = (fs: readonly RunFigures[]) => median(fs.map(f => f.tailMs));
	const processVsThread = `Ours scores in a process of its own; (worker thread, before): the same run through the worker thread the extension scored in before (src/reward/scorerProcess.ts), beside ours in each repeat, which of the two first alternating. N 4, 4 slots, ours ÷ the worker thread: wall ${fmt(wallOf(ours44) / wallOf(threadRuns))}, tail ${fmt(tailOf(ours44) / tailOf(threadRuns))}.`;
	sections.push({
		title: '1. Run overhead',
		note: `Wall time from the command to the final ranking ÷ (the server's own span + the least CPU time for the scores left after its last token, figure 2's floor). Candidates of ${words} words at ${tokenDelayMs} ms a word per stream; warm worker; median of ${repeats}. Ollama: one request per candidate, K open at once (the run's \`concurrency\`), the server generating K at a time. OpenAI-compatible (n N): the loopback server as vLLM runs one (test/fixtures/fakeVllm.ts), all N candidates in one streamed request with \`n\`, their chunks interleaved, the server generating K of them at a time (its batch); the naive client asks the same one request. Both servers in the bench's server process, alike in pacing and texts; the server's span runs from the first request's arrival to the last candidate's final chunk. Ours: candidates that complete while a score runs are scored together, batched when that is faster on this CPU. One by one (before): the same run, each pair in a call of its own. Naive: generate all, then score all in one call. ${processVsThread}`,
		header: [
			'run',
			'ours',
			'one by one (before)',
			'naive',
			'ours ÷ before (wall)',
			'ours ÷ naive (wall)',
			'scores started before the last token',
			'server span',
			...(holdBefore ? HOLD_HEADER : []),
		],
		rows: rows1,
	});
	sections.push({
		title: '2. Ranking tail',
		note: `Server's last token → final ranking ÷ the least time to score what was still unscored then (best of one-by-one and batched raw onnxruntime-node on the same tensors, each the median of back-to-back passes: the stricter floor, as warm passes and the lesser of two noisy values both put it low), beside the same pairs timed as ours' scorer met them (the way its back-to-back passes found faster, timed again in fresh passes after the pause ours' scorer had before that call, at most 2 s: a pass after a pause is slower for raw too; bench/raw.ts \`leastAfterPause\`), and ÷ one score (raw, ${ms(oneScore)}, ${words}-word candidate). Before: each pair in a call of its own. ${processVsThread}`,
		header: [
			'run',
			'tail ÷ least',
			"tail ÷ least timed after ours' pause",
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
		note: `Event-loop delay of the run's thread (the extension host's, in the editor) during a run of N 4, 4 slots through Ollama, the reward model scoring in the worker's process (ours), in a worker thread (before) vs on the same thread (transformers.js in process). Median of ${repeats}.`,
		header: ['scoring', 'p99', 'max', 'p99 ÷ 10 ms target'],
		rows: await responsiveness(ctx, request, runs, threadRuns, repeats),
	});
}

/** Ours ÷ ours without the hold (`--hold-before`, and always in figure 1b): the wall, the scores held, the pace ratios it measured. */
const HOLD_HEADER = ['ours ÷ without the hold (wall)', 'scores held', 'pace while scoring ÷ otherwise (runs measured)'];
function holdColumns(ours: readonly RunFigures[], noHold: readonly RunFigures[]): string[] {
	const ratios = [...ours, ...noHold].flatMap(f => (f.paceRatio === undefined ? [] : [f.paceRatio]));
	return [
		fmt(median(ours.map(f => f.wallMs)) / median(noHold.map(f => f.wallMs))),
		`${median(ours.map(f => f.held))} of ${ours[0]?.n ?? 0}`,
		ratios.length === 0 ? '— (0)' : `${fmt(Math.min(...ratios))}–${fmt(Math.max(...ratios))} (${ratios.length})`,
	];
}

/**
 * Figures 1 and 2 with the model server on the same CPU: the bench server decodes by computing
 * (bench/cpuDecoder.ts, like a CPU-only Ollama using every core), so scores during generation slow it
 * down. The worker as shipped (onnxruntime's default threads, one per core) against the same model in a
 * worker of one thread, and against scoring only after generation (the naive client, whose server
 * span is the server's own, with nothing else running).
 */
async function sameCpuFigures(ctx: PipelineContext, load: { workerPath: string; request: LoadRequest }): Promise<void> {
	const cpu = { msPerToken: 20, threads: os.cpus().length };
	// --quick: short candidates (its three runs with one slot take 3 × 4 × 30 tokens × 20 ms, ~7 s, of the two minutes).
	const words = quick ? 30 : 100;
	const configs: Array<[number, number]> = [
		[4, 1],
		[4, 4],
	];
	// --quick --repeats R: R rounds of these short runs (a minute each), figure 1's still one.
	const repeats = quick && repeatCap < Infinity ? repeatCap : times(1, 4);
	const oneThread = new RewardWorkerClient({ workerPath: load.workerPath, request: { ...load.request, threads: 1 }, idleMs: 0 });
	type Choice = 'default' | 'nohold' | 'one' | 'after';
	const runs: Array<RunFigures & { choice: Choice }> = [];
	try {
		await oneThread.load(new AbortController().signal);
		await oneThread.score([typicalPair(words)], new AbortController().signal);
		let seed = 5000;
		for (let r = 0; r < repeats; r++) {
			for (const [n, k] of configs) {
				seed += 100;
				// Alternated, so a change in the machine's load falls on all three alike.
				// Ours without the hold (before it) beside ours, which first alternating with the repeat.
				const order =
					r % 2 === 0 ? (['default', 'nohold', 'one', 'after'] as const) : (['nohold', 'default', 'one', 'after'] as const);
				for (const choice of order) {
					const scorer = choice === 'one' ? oneThread : ctx.scorer;
					const client = choice === 'after' ? 'naive' : choice === 'default' ? 'ours' : 'ours-no-hold';
					const f = await runOnce({ ...ctx, scorer, words, cpu }, client, n, k, seed);
					log(
						`same CPU, ${choice} N=${n} K=${k}: wall ${ms(f.wallMs)}, span ${ms(f.spanMs)}, tail ${ms(f.tailMs)}, least left ${ms(f.leastLeftMs)}, pace while scoring ${f.paceRatio === undefined ? '—' : fmt(f.paceRatio)}, held ${f.held}`,
					);
					runs.push({ ...f, choice });
				}
			}
		}
	} finally {
		oneThread.dispose();
	}
	const rows: string[][] = [];
	for (const [n, k] of configs) {
		const of = (choice: Choice) => runs.filter(f => f.choice === choice && f.n === n && f.k === k);
		const alone = median(of('after').map(f => f.spanMs));
		const overhead = (choice: Choice) => fmt(median(of(choice).map(f => f.wallMs / (alone + f.leastLeftMs))));
		const wall = (choice: Choice) => median(of(choice).map(f => f.wallMs));
		const span = (choice: Choice) => ms(median(of(choice).map(f => f.spanMs)));
		const tail = (choice: Choice) => ms(median(of(choice).map(f => f.tailMs)));
		rows.push([
			`N ${n}, ${k} slot${k > 1 ? 's' : ''}`,
			overhead('default'),
			overhead('nohold'),
			overhead('one'),
			overhead('after'),
			...holdColumns(of('default'), of('nohold')),
			fmt(wall('one') / wall('default')),
			fmt(wall('after') / wall('default')),
			span('after'),
			span('default'),
			span('one'),
			tail('default'),
			tail('one'),
		]);
	}
	// After figure 2, before figure 4 (which comes from the same runs as 1 and 2).
	const after = sections.findIndex(x => x.title.startsWith('2.'));
	sections.splice(after < 0 ? sections.length : after + 1, 0, {
		title: '1b. Model server on the same CPU',
		note: `As figure 1, but the server decodes on this machine's CPU like a CPU-only Ollama: each token is ${cpu.msPerToken} ms of computation on an idle machine on ${cpu.threads} threads (one per core) meeting at a spinning barrier after each of 24 layers, the parallel slots decoded as one batch (bench/cpuDecoder.ts); candidates of ${words} words. Wall ÷ (the server's span alone + the least CPU time for the scores left after its last token); the server's span alone is that of the run that scores only after generation. Ours: onnxruntime's default threads, one per core, each candidate scored as it completes until the run measures that its scores slow the streams (their pace while a score runs under half their pace otherwise, src/core/serverPace.ts), then the remaining scores held until generation ends; without the hold (before): every candidate scored as it completes; one thread: the same without the hold, in a worker of one thread; score after generation: generate all, then score (the naive client). Ours and without the hold alternate which goes first; the pace ratio column is what the runs of both measured (a run measures nothing when its scores overlap too little stream time). Median of ${repeats}.`,
		header: [
			'run',
			'ours (holds scores once scoring slows the server)',
			'without the hold (before)',
			'one thread (without the hold)',
			'score after generation',
			...HOLD_HEADER,
			'one thread ÷ ours (wall)',
			'after generation ÷ ours (wall)',
			'server span alone',
			'span, ours',
			'span, one thread',
			'tail, ours',
			'tail, one thread',
		],
		rows,
	});
}

/** A model figure 5 measures: a family and a precision, loaded the way the product loads it. */
interface Variant {
	readonly label: string;
	readonly modelDir: string;
	readonly dtype: 'fp32' | 'q8';
	/** The ONNX file's size, bytes. */
	readonly bytes: number;
	/** Whether the product batches this model's pairs (not 8-bit: their scores would depend on the batch). */
	readonly batched: boolean;
	readonly lengths: readonly number[];
	/** Which fresh-process loads 5b measures (the "before" modes only for the model the changes were made on). */
	readonly loads: readonly LoadFigures['mode'][];
	/** Whether 5a also scores it through a worker thread (before the worker had a process). */
	readonly viaThread: boolean;
}

function variants(bertDir: string, debertaDir: string | undefined): Variant[] {
	const size = (dir: string, dtype: 'fp32' | 'q8') => fs.statSync(path.join(dir, 'onnx', MODEL_FILE[dtype])).size;
	const lengths = [128, 256, 512];
	// --quick: BERT's 8-bit file at one length (the DeBERTa-shaped model is written and measured in the full run).
	const others = quick ? [256] : lengths;
	const model = (label: string, dir: string, dtype: 'fp32' | 'q8', loads: Variant['loads'], measured = others): Variant => ({
		label,
		modelDir: dir,
		dtype,
		bytes: size(dir, dtype),
		batched: dtype === 'fp32',
		lengths: measured,
		loads,
		// The BERT-shaped models: enough to compare the two at both precisions without lengthening the full run much.
		viaThread: dir === bertDir,
	});
	const list = [
		model(
			'BERT-base fp32',
			bertDir,
			'fp32',
			// --quick: ours and the last change's before; the older befores (no warm-up, transformers.js) in the full run.
			quick
				? ['worker', 'worker-thread', 'onnxruntime-file', 'onnxruntime-external']
				: [
						'worker',
						'worker-thread',
						'worker-cold',
						'transformers',
						'onnxruntime-file',
						'onnxruntime-external',
						'onnxruntime-optimized',
					],
			lengths,
		),
		model('BERT-base 8-bit', bertDir, 'q8', ['worker', 'worker-thread', 'onnxruntime-external', 'onnxruntime-optimized']),
	];
	if (debertaDir)
		list.push(
			model('DeBERTa-v3-base fp32', debertaDir, 'fp32', ['worker', 'worker-thread']),
			model('DeBERTa-v3-base 8-bit', debertaDir, 'q8', ['worker', 'worker-thread', 'onnxruntime-external', 'onnxruntime-optimized']),
		);
	return list;
}

/**
 * Figure 3 in the real editor (code-server + Chromium), and from the same runs the picker's first
 * paint (figure 6), returned as its own section to go after figure 6's table.
 */
async function firstCandidateFigures(ctx: {
	server: ServerProcess;
	modelDir: string;
	words: number;
	tokenDelayMs: number;
	timeOneScore: () => Promise<number>;
}): Promise<Section> {
	// BESTOFN_FIG3_SAMPLES: more samples for a diagnosis (the slow ones are a few in a run; see BESTOFN_TRACE_DIR).
	const samples = Number(process.env.BESTOFN_FIG3_SAMPLES) || times(2, 8);
	const [n, k] = [4, 4];
	const f = await measureFirstCandidate({ ...ctx, samples, n, k, log });
	const oneScore = median(f.oneScoreMs);
	const one = `one score (${ms(oneScore)})`;
	const max = (v: readonly number[]) => Math.max(...v);
	const row = (label: string, v: readonly number[], target: number, targetLabel: string) => [
		label,
		ms(median(v)),
		ms(max(v)),
		targetLabel,
		fmt(median(v) / target),
		fmt(max(v) / target),
		String(v.length),
	];
	// Which part holds the worst candidate: its own split, since each part's max may come from another.
	const worst = f.eachTokenToDomMs.indexOf(max(f.eachTokenToDomMs));
	const slowest =
		worst < 0
			? ''
			: `; the slowest candidate (${ms(f.eachTokenToDomMs[worst]!)}): ${ms(f.eachTokenToMessageMs[worst]!)} to its message, ${ms(f.eachTextMessageToFrameMs[worst]!)} to its frame, ${ms(f.eachTextFrameToDomMs[worst]!)} drawing`;
	sections.push({
		title: '3. First candidate',
		note: `In the editor: code-server and Debian's Chromium (test/e2e/harness.js), one workbench for every run; each run is a person's: select the paragraph, Best-of-N: Rewrite Selection…, the instruction, Enter, then Esc once it is done. N ${n}, ${k} slots, candidates of ${ctx.words} words at ${ctx.tokenDelayMs} ms a word, ranked by the BERT-base-shaped reward model in the extension host's worker (warm: a first run that loads it is not counted); median and max of ${samples} runs. The model server (its own process) holds the first tokens until the picker shows the run, then notes when it writes each stream's first token and its last line (Node, Date.now()); a MutationObserver in the picker's page (a Playwright init script; the extension has no bench code) notes Date.now() (1 ms resolution) when a candidate's text first appears in its row and when its score does, i.e. when the DOM changed, before that frame is painted (while a run streams the bench asks the page nothing: it waits for the scores in one evaluate sent as the tokens go, since asking every 100 ms, as it did until 2026-12-04, put its DevTools messages on the renderer's main thread in the first texts' way; bench/RESULTS.md, "Figure 3's slow messages"); and a message listener there notes when each state message reaches the picker's frame, which splits each path into the way there (the extension host, code-server, the workbench and the webview's host page) and the picker's own part, itself split where the animation frame it draws in runs its callbacks (Date.now() as that frame's first callback starts, the picker's own requestAnimationFrame wrapped by the init script: a callback the listener asked for could run after the picker's, as the picker's listener can run first). One clock, the machine's wall clock, read in two processes: ±1 ms. First token: the run's first token written → that candidate's text in the DOM; each candidate: the same for all ${n} (they stream at once). Each candidate's path is split the same way, with after it the time that frame's style, layout and paint took (until the first task after it; not in the figure, but a message arriving meanwhile waits for it)${slowest}. First completed: the server's last line of the candidate that finished first → its score in the DOM, ÷ one score (raw onnxruntime-node on a typical pair of the same length, in its own process as in figure 5a, timed after each run with the workbench still open: median ${ms(oneScore)}).`,
		header: ['measure', 'median', 'max', 'target', 'median ÷ target', 'max ÷ target', 'samples'],
		rows: [
			row("the run's first token → its text in the picker's DOM", f.firstTokenToDomMs, 50, '50 ms'),
			row("  of which: → the state message in the picker's frame", f.firstTokenToMessageMs, 50, '50 ms'),
			row('  of which: the message → the DOM', f.textMessageToDomMs, 50, '50 ms'),
			row('    the message → its animation frame', f.textMessageToFrameMs, 50, '50 ms'),
			row("    that frame → the text in the DOM (the picker's draw)", f.textFrameToDomMs, 50, '50 ms'),
			row("each candidate's first token → its text in the DOM", f.eachTokenToDomMs, 50, '50 ms'),
			row("  of which: → its state message in the picker's frame", f.eachTokenToMessageMs, 50, '50 ms'),
			row('  of which: the message → its animation frame', f.eachTextMessageToFrameMs, 50, '50 ms'),
			row("  of which: that frame → the text in the DOM (the picker's draw)", f.eachTextFrameToDomMs, 50, '50 ms'),
			row("  after it: that frame's style, layout and paint (not in the figure)", f.eachTextDomToRenderedMs, 50, '50 ms'),
			row('first completed candidate → its score shown', f.completedToScoreMs, oneScore, one),
			row("  of which: → the score's message in the frame", f.completedToScoreMessageMs, oneScore, one),
			row('  of which: the message → the DOM', f.scoreMessageToDomMs, oneScore, one),
			row('    the message → its animation frame', f.scoreMessageToFrameMs, oneScore, one),
			row("    that frame → the score in the DOM (the picker's draw)", f.scoreFrameToDomMs, oneScore, one),
		],
	});
	const [cold, ...later] = f.paint;
	const paintKeys = [
		'hostMs',
		'controllerMs',
		'contentMs',
		'frameMs',
		'staticMs',
		'visibleMs',
		'firstSeenMs',
		'pageSeenMs',
		'builtMs',
		'messageMs',
		'stateShownMs',
		'paintedMs',
	] as const;
	const paintRow = (label: string, p: PaintTimes | undefined, staticSeen: string) =>
		p ? [label, ...paintKeys.map(k => (Number.isNaN(p[k]) ? '—' : ms(p[k]))), staticSeen] : [label, ...paintKeys.map(() => '—'), '—'];
	const of = (pick: (v: readonly number[]) => number): PaintTimes => ({
		...(Object.fromEntries(paintKeys.map(k => [k, pick(later.map(p => p[k]))])) as Record<(typeof paintKeys)[number], number>),
		staticSeen: false,
	});
	const staticCount = `${later.filter(p => p.staticSeen).length} of ${later.length}`;
	return {
		title: "6b. The picker's first paint",
		note: `From the runs of figure 3, each from Enter on the instruction (a capturing keydown listener in the workbench page, Date.now()). VS Code's webview host page ("host page started": its document created, seen by an init script) creates the picker's frame only once its service worker's registration has settled (its index.html awaits register(), then registration.update() where a worker controls it already, then a new worker's taking control: "service worker in control", — where none came) and the page's HTML has reached it ("HTML reached the host page": VS Code's 'content' message, seen on the host page's message port), writes the page into it, and keeps the frame at visibility: hidden until the page's load event or 200 ms after writing it, whichever is first: "frame created" and "frame visible" are those moments, seen from the frame. The page's HTML carries a static first paint (the run's heading, "Generating N candidates…", empty rows), in the DOM as the HTML is parsed ("static page in the DOM"), which the script's page replaces. "First seen": the frame made visible while it held the static page; else, as "the script's page seen" always is, once the script's page was drawn and the frame visible (all a page without the static part shows). Then the picker's script has built its page (its list is in the DOM); the first state message reached the picker's frame; the DOM shows the run (its phase in the status row, seen by the MutationObserver: the page draws the first state written into its HTML as it builds, so no message is waited for); and the first task after that frame ran, i.e. once the frame's style, layout and paint were done. The window's first picker also starts the webview's service worker, while the reward model loads; later pickers open in the column the last one left. No target in the issue.`,
		header: [
			'picker',
			'host page started',
			'service worker in control',
			'HTML reached the host page',
			'frame created',
			'static page in the DOM',
			'frame visible',
			'first seen',
			"the script's page seen",
			'page built',
			'first state message',
			'DOM shows the run',
			'frame drawn',
			'static page seen first',
		],
		rows: [
			paintRow("the window's first", cold, cold ? (cold.staticSeen ? 'yes' : 'no') : '—'),
			paintRow(`later: median of ${samples}`, later.length ? of(median) : undefined, staticCount),
			paintRow(`later: max of ${samples}`, later.length ? of(max) : undefined, staticCount),
		],
	};
}

/**
 * Figure 5: scoring throughput, ours vs raw in fresh sets of processes, and each load's memory and
 * first score in a fresh process, for every model in `models`. The first is the one already loaded for
 * the other figures (`raw`, `workers.thread`): 5a measures the worker thread it scored in before
 * against that raw.
 */
async function scoringFigures(
	raw: RawScorer,
	workers: { readonly thread: RewardWorkerClient },
	load: { workerPath: string; cacheDir: string; pair: ReturnType<typeof typicalPair> },
	request: LoadRequest,
	models: readonly Variant[],
): Promise<void> {
	const repeats = times(1, 3);
	/** Fresh process sets per model for 5a (raw on the model's file, raw on the graph ours opens, ours). */
	const sets = times(2, 4);
	/** Where 5a's scorer processes note their passes (bench/runStamps.ts). */
	const stampsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bon-bench-runs-'));
	let stampsFiles = 0;
	const throughRows: string[][] = [];
	const loadRows: string[][] = [];
	const ps = (v: number) => `${fmt(v, 2)}`;
	const mb = (b: number | undefined) => (b === undefined ? '—' : `${(b / 1e6).toFixed(0)} MB`);
	const label = {
		worker: 'worker process, warm-up (ours)',
		'worker-cold': 'worker process, no warm-up (before)',
		'worker-thread': 'worker thread, warm-up (before)',
		transformers: 'transformers.js from_pretrained (before)',
		'onnxruntime-file': 'onnxruntime-node alone, the single file (before)',
		'onnxruntime-external': 'onnxruntime-node alone, the external-data copy (before)',
		'onnxruntime-optimized': 'onnxruntime-node alone, the optimised graph beside the copy (ours)',
	};
	for (const [i, model] of models.entries()) {
		log(`figure 5: ${model.label} (${mb(model.bytes)}) …`);
		const own = i > 0;
		// Tokenizes the pairs and, for the worker-thread rows, is their raw; figure 5b takes the typical pair's length from it.
		const r = own ? await RawScorer.create(model.modelDir, times(1, 3), MODEL_FILE[model.dtype]) : raw;
		const single = path.join(model.modelDir, 'onnx', MODEL_FILE[model.dtype]);
		const request5 = { ...request, model: model.modelDir, dtype: model.dtype };
		try {
			// Every set of processes fresh, the model's own included: each draws its own placement of
			// onnxruntime's memory. The set made first for an own model takes over `r`, made just before.
			const through = await measureThroughput(
				r,
				sets,
				async s => {
					const started: Array<{ dispose(): unknown }> = [];
					try {
						const ours = new RewardWorkerClient({ workerPath: load.workerPath, request: request5, idleMs: 0 });
						started.push(ours);
						const oursRuns = new RunStamps(path.join(stampsDir, `${++stampsFiles}.txt`));
						const startOurs = async () => {
							// The scorer process forks in load(), before its first await: the hook goes into that fork only.
							await oursRuns.fork(() => ours.load(new AbortController().signal));
							await ours.score([load.pair], new AbortController().signal);
						};
						const startRaw = async () => {
							const lent = own && s === 0;
							const rawOne = lent ? r : await RawScorer.create(model.modelDir, 1, MODEL_FILE[model.dtype], r);
							if (!lent) started.push(rawOne);
							// The graph file ours opens: the optimised graph beside the external-data copy, which ours'
							// first load writes (or the copy, or the file itself, when it is not made).
							const copy = externalDataCopy(single, load.cacheDir);
							const optimised = optimizedPath(copy);
							const graph = copy === single ? single : fs.existsSync(optimised) ? optimised : copy;
							const rawGraph = await RawScorer.create(model.modelDir, 1, graph, r);
							started.push(rawGraph);
							// Warmed as ours is after its load, on the same typical pair.
							for (const scorer of [rawOne, rawGraph]) await scorer.time([scorer.encode(load.pair)]);
							return { rawOne, rawGraph };
						};
						// Ours first in the first set (its load writes the graph raw opens second), then turn about.
						let raws: Awaited<ReturnType<typeof startRaw>>;
						if (s % 2 === 0) {
							await startOurs();
							raws = await startRaw();
						} else {
							raws = await startRaw();
							await startOurs();
						}
						return {
							raw: raws.rawOne,
							rawGraph: raws.rawGraph,
							ours,
							oursRuns,
							dispose: async () => {
								for (const p of started) await p.dispose();
							},
						};
					} catch (e) {
						for (const p of started) await p.dispose();
						throw e;
					}
				},
				model.lengths,
				log,
				model.batched,
			);
			// The first model also through the worker thread (before), after ours at every length.
			const viaThread = model.viaThread
				? await throughThread(own ? undefined : workers.thread, r, model, request, load.workerPath, repeats)
				: [];
			const ratios = (v: readonly number[], digits = 2) => v.map(x => fmt(x, digits)).join(' ');
			const withSets = (mid: number, v: readonly number[], digits = 2) =>
				v.length ? `${fmt(mid, digits)} (${ratios(v, digits)})` : '—';
			for (const [t, modelLabel] of [
				...through.map(t => [t, model.label] as const),
				...viaThread.map(t => [t, `${model.label}, worker thread (before)`] as const),
			]) {
				throughRows.push([
					modelLabel,
					String(t.tokens),
					ps(t.rawSingle),
					model.batched ? ps(t.rawBatch) : '—',
					model.batched ? fmt(t.rawBatch / t.rawSingle) : '—',
					ps(t.oursSingle),
					model.batched ? ps(t.oursBatch) : '—',
					fmt(t.singleRatio),
					ratios(t.singleRatios),
					withSets(t.runShare, t.runShares, 3),
					withSets(t.rawOverRun, t.rawOverRuns),
					fmt(t.graphRatio),
					model.batched && t.batchRatios.length ? `${fmt(t.batchRatio)} (${ratios(t.batchRatios)})` : '—',
				]);
			}
		} finally {
			if (own) await r.dispose();
		}
		// The worker opens a large single-file model from its external-data copy, written on its first
		// load; time that here, from scratch, so each measured load below starts with the copy in place.
		fs.rmSync(path.join(load.cacheDir, '.external-data'), { recursive: true, force: true });
		const t = performance.now();
		const external = externalDataCopy(single, load.cacheDir);
		const copied = external === single ? 'not made' : ms(performance.now() - t);
		// And its optimised graph, which the worker writes next on that first load (in a child process).
		const t2 = performance.now();
		const optimized = external === single ? single : await optimizedGraph(external, { log });
		const optimizedIn = optimized === external || optimized === single ? 'not made' : ms(performance.now() - t2);
		log(`${model.label}: external-data copy ${copied}, optimised graph ${optimizedIn}`);
		const files: Partial<Record<LoadFigures['mode'], string>> = { 'onnxruntime-file': single, 'onnxruntime-optimized': optimized };
		// The worker removes the copy's weights once it has opened the optimised graph: the loads that
		// open the copy are measured first, and the rows keep the order of `loads`.
		const rows = new Map<LoadFigures['mode'], string[]>();
		const workerLast = [...model.loads].sort((a, b) => Number(a.startsWith('worker')) - Number(b.startsWith('worker')));
		for (const mode of workerLast) {
			const onnx = { onnxPath: files[mode] ?? external, input: r.encode(load.pair) };
			const f = await measureLoad({ ...load, modelDir: model.modelDir, dtype: model.dtype, pauseMs: 1000, ...onnx }, mode);
			log(
				`${model.label} ${mode}: load ${ms(f.loadMs)}, first score ${ms(f.firstScoreMs)}, second ${ms(f.secondScoreMs)}, peak ${(f.peakBytes / 1e6).toFixed(0)} MB`,
			);
			rows.set(mode, [
				model.label,
				label[f.mode],
				fmt(f.peakBytes / model.bytes),
				fmt((f.peakBytes - f.baseBytes) / model.bytes),
				mb(f.peakBytes),
				mb(model.bytes),
				f.peakOf === 'self' ? mb(f.baseBytes) : `${mb(f.baseBytes)} (a bare Node)`,
				f.peakOf === 'self' || f.afterUnloadBytes === undefined
					? mb(f.afterUnloadBytes)
					: `${mb(f.afterUnloadBytes)} (the host; ${mb(f.hostBaseBytes)} at its start)`,
				ms(f.loadMs),
				ms(f.firstScoreMs),
				ms(f.secondScoreMs),
				fmt(f.firstScoreMs / f.secondScoreMs),
				copied,
				optimizedIn,
			]);
		}
		for (const mode of model.loads) loadRows.push(rows.get(mode) ?? []);
		// The least any scorer process of this model can hold at a score, whatever it does with the file.
		const floor = scorerFloor(model.modelDir, single, model.dtype, load.pair);
		const bound = floor.fixedBytes + floor.readEachPassBytes;
		log(`${model.label}: a scorer's fixed part ${mb(floor.fixedBytes)}, weights read at each pass ${mb(floor.readEachPassBytes)}`);
		loadRows.push([
			model.label,
			'the least a scorer can hold (a bound, not a load)',
			fmt(bound / model.bytes),
			fmt((bound - floor.bareBytes) / model.bytes),
			mb(bound),
			mb(model.bytes),
			`${mb(floor.bareBytes)} (a bare Node)`,
			...Array<string>(7).fill('—'),
		]);
	}
	fs.rmSync(stampsDir, { recursive: true, force: true });
	sections.push({
		title: '5a. Scoring cost',
		note: `Pairs per second, four different pairs of each length, random-weight models written by bench/bertModel.ts and bench/debertaModel.ts (8-bit: onnx/model_quantized.onnx, MatMul weights int8 and embeddings uint8 as onnxruntime's dynamic quantizer writes them, loaded as dtype q8). Each model is measured in ${sets} sets of fresh processes, one set after another, each set three processes: raw onnxruntime-node on the model's file (onnx/model.onnx or model_quantized.onnx, as onnxruntime-node alone would open it), raw on the graph file ours opens (the optimised graph beside the external-data copy, src/reward/optimizedGraph.ts), both started as the scorer's process is (bench/rawChild.ts: the same malloc setting, the scorer's session options (src/reward/scorer.ts \`scorerSessionOptions\`: memory patterns off), timing \`session.run\` alone on tensors built before the clock starts), and ours, the reward worker's process as shipped, timed around the call (tokenizing, the round trip, the tensors and the same \`session.run\`). All three get the same token ids (the extension's \`encodePair\`, the model's own tokenizer and maximum length) and are warmed with one typical pair. In a set, each pair is scored by each of the three back to back, which first turning from pair to pair; then the four in one call (raw: one padded batch; ours: one call of four, which the scorer batches or not by the costs it has measured). A set's raw ÷ ours is the median of its four pairs' ratios; the table gives the median over the sets and each set's own, because the speed of a fresh process on the same file moves by up to ±10% from one process to the next (bench/RESULTS.md, "DeBERTa-v3 fp32 at 512 tokens"), so one process against one other compares two draws. Raw ÷ ours is split in the same calls, each set's median of its four pairs as for raw ÷ ours, into ours' own \`session.run\` ÷ ours' call (what our call adds around the pass: the host's send, the scorer's wake, tokenizing, the tensors, the reply and the host's wake) and raw ÷ ours' own \`session.run\` (the forward pass on the graph ours opens, in our scorer process, against raw's on the model's file; per pair the two multiply to raw ÷ ours); the pass is read inside ours' scorer process (a hook, bench/runStampsHook.js, preloaded into the scorer processes 5a starts and nowhere else, notes each \`session.run\`'s start and end on the machine's monotonic clock, which the bench reads too, and writes them after the reply has gone; the bench reads them after the set's last call, so the calls and the pauses between them are as without it). Until 2026-12-05 this split came from the third process, raw on ours' graph, whose own draw moved it by ±20% from set to set (bench/RESULTS.md, "Figure 5a's remaining gap"); that process is still started and timed in every set, so each call's pause is as before, and its raw on the model's file ÷ raw on ours' graph is the last but one column: one fresh process against another, so read it as a draw. Pairs per second are the median over the sets of each set's four pairs. Worker thread (before), for the BERT-base-shaped models: the same pairs through the worker thread the extension scored in before its process (src/reward/scorerProcess.ts), in a thread of the bench's process, measured after ours against one raw process on the model's file (for fp32, the one figures 1–4 used) in ${repeats} round${repeats === 1 ? '' : 's'}${quick ? ', one pair a call only with --quick' : ''}, so its spread is of rounds, not of processes. 8-bit models are scored one pair at a time (their scores depend on the batch), so their batched columns are not measured.${quick ? ` --quick: ${deberta ? 'every model but BERT-base fp32' : "BERT's 8-bit file"} at 256 tokens only${deberta ? '' : ' and no DeBERTa-v3-base-shaped model (--deberta adds it)'}; \`npm run bench\` measures each at all three lengths.` : ''}`,
		header: [
			'model',
			'tokens',
			'raw one by one',
			'raw batched',
			'batched ÷ one by one (raw)',
			'ours one by one',
			'ours, one call of 4',
			'raw ÷ ours (one by one; target ≥ 0.95; median of the sets)',
			'each set',
			"ours' session.run ÷ ours' call (our call's overhead; median; each set)",
			"raw ÷ ours' session.run (the pass, our process vs raw's; median; each set)",
			"raw: model file ÷ ours' graph (two fresh processes)",
			'best raw ÷ ours, one call of 4 (median; each set)',
		],
		rows: throughRows,
	});
	sections.push({
		title: '5b. Memory and load',
		note: `Each in a fresh process: load the model, wait 1 s (generation still going), score one typical pair, then another. Peak is the VmHWM of the process that holds the model (Node and the tokenizer included; before the load it held the "base", which weighs most against the small 8-bit files). The worker process rows (ours): the scorer's own process, read from /proc/<pid>/status after the second score, a whole Node of its own; base there is a bare Node's RSS (what a fresh Node costs before it loads anything), so peak − base is what the scorer holds beyond a bare Node, and after idle unload is the host's RSS once the scorer process exited (the load process itself, which also runs the bench's TypeScript loader, with its RSS at its start). The worker thread rows (before): the load process's own VmHWM, worker thread included, base its RSS at its start, as measured before the scorer had a process. Ours opens the model with onnxruntime-node from the optimised graph of its external-data copy (the weights in a file onnxruntime maps, written once on the first load of a file of 64 MB or more, then the graph with onnxruntime's basic optimisations such as constant folding applied once in a child process and saved beside it; the times of both are the last columns, from scratch); before, from the copy itself, which onnxruntime optimises at every load; before that, onnxruntime-node opened the single file, and before that transformers.js's from_pretrained, whose file response also streamed the whole file into memory. The onnxruntime-node rows load and score alone in their process (no worker, no transformers.js, the typical pair's token ids as the scorer encodes them, the scorer's session options): the single file, its copy and the copy's optimised graph, which is what onnxruntime itself holds; the worker rows add a worker (a process or a thread) and the tokenizer, a fixed cost whatever the model's size (BERT's tokenizer ~30 MB with the rest, DeBERTa-v3's 128k-piece one ~35 MB since the scorer collects its parse's garbage before the session opens, ~75 MB before that, ~150 MB before the scorer stopped building the package's trie). After unload: the host's RSS once the idle worker (1.5 s) was stopped. The least a scorer can hold: not a load but a lower bound on any scorer process's peak, the resident memory of a fresh Node (no TypeScript loader; the scorer process's V8 flags) that has required onnxruntime-node, built the model's tokenizer as the scorer does (src/reward/localTokenizer.ts with @huggingface/tokenizers, a Unigram vocabulary without the package's trie; no transformers.js), collected the garbage as the scorer's worker does before it opens the session, and tokenized the typical pair (measured), plus the model file's bytes that every forward pass reads (all but the word-embedding table, of which a pass reads only its tokens' rows), resident at a score whether onnxruntime copies them or maps the file.${deberta ? '' : ' --quick: no DeBERTa-v3-base-shaped model (--deberta adds it).'}`,
		header: [
			'model',
			'load',
			'peak ÷ model file (target ≤ 1.5)',
			'(peak − base) ÷ model file',
			'peak',
			'model file',
			'base',
			'after idle unload',
			'load time',
			'first score',
			'second score',
			'first ÷ second',
			'external-data copy written',
			'optimised graph written',
		],
		rows: loadRows,
	});
}

/**
 * 5a through the worker thread the extension scored in before its process: `thread` when it was made
 * for this model (the first), else one of its own. --quick: one pair a call only (the batched columns
 * in the full run).
 */
async function throughThread(
	thread: RewardWorkerClient | undefined,
	raw: RawScorer,
	model: Variant,
	request: LoadRequest,
	workerPath: string,
	repeats: number,
): Promise<Throughput[]> {
	log(`figure 5: ${model.label} through a worker thread (before) …`);
	const w =
		thread ??
		new RewardWorkerClient({
			workerPath,
			request: { ...request, model: model.modelDir, dtype: model.dtype },
			idleMs: 0,
			isolation: 'thread',
		});
	try {
		await w.load(new AbortController().signal);
		await w.score([typicalPair(100)], new AbortController().signal);
		// One raw process and one thread, in `repeats` rounds: rows kept as they were measured before.
		const set = { raw, ours: w, dispose: () => Promise.resolve() };
		return await measureThroughput(raw, repeats, () => Promise.resolve(set), model.lengths, log, model.batched && !quick);
	} finally {
		if (!thread) w.dispose();
	}
}

/** Event-loop delay during N 4 / 4-slot runs: the worker's process and thread (from figure 1) vs the same model on this thread. */
async function responsiveness(
	ctx: PipelineContext,
	request: ConstructorParameters<typeof InProcessRewardScorer>[0],
	runs: readonly RunFigures[],
	threadRuns: readonly RunFigures[],
	repeats: number,
): Promise<string[][]> {
	const inWorker = runs.filter(f => f.client === 'ours' && f.backend === 'ollama' && f.n === 4 && f.k === 4);
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
	return [row('worker process (ours)', inWorker), row('worker thread (before)', threadRuns), row('same thread', same)];
}

function writeResults(elapsedMs: number, modelBytes: number): void {
	const cpus = os.cpus();
	const lines = [
		'# Benchmark results',
		'',
		'Written by `npm run bench` (see bench/main.ts); every figure is a ratio of two things measured side by side in the same run.',
		'',
		`- Date: ${new Date().toISOString()}`,
		`- Command: \`npm run bench${quick || only || repeatCap < Infinity ? ' --' : ''}${quick ? ' --quick' : ''}${only ? ` --only ${[...only].join(',')}` : ''}${repeatCap < Infinity ? ` --repeats ${repeatCap}` : ''}${sameCpuOnly ? ' --only-1b' : ''}${holdBefore ? ' --hold-before' : ''}${quick && deberta ? ' --deberta' : ''}\` (${Math.round(elapsedMs / 1000)} s)`,
		`- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, ${os.platform()} ${os.release()}, Node ${process.version}, load average at the end ${os
			.loadavg()
			.map(v => v.toFixed(1))
			.join(' ')}`,
		`- Reward model: BERT-base-shaped fp32, random weights, ${(modelBytes / 1e6).toFixed(0)} MB (bench/bertModel.ts); figure 5 also its 8-bit file and a DeBERTa-v3-base-shaped one (bench/debertaModel.ts)`,
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

/**
 * Figures 1 and 2: a whole run (command → final ranking) against what the model server and the CPU
 * allow, and the ranking tail (server's last token → final ranking) against the least time the CPU
 * needs for the scores still missing then. The same server, model and worker serve the extension's
 * pipeline (`BestOfNRun`) and a naive client that generates everything and then scores it, run
 * alternately so both see the same machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as path from 'node:path';
import type { CandidateGenerator } from '../src/core/generation';
import type { RewardPair, RewardScorer, LoadProgress, RewardModelInfo } from '../src/core/reward';
import { BestOfNRun } from '../src/core/run';
import { parseSettings } from '../src/core/settings';
import { rewriteTask } from '../src/core/tasks/rewrite';
import { OllamaGenerator } from '../src/generation/ollamaGenerator';
import { OpenAIGenerator } from '../src/generation/openaiGenerator';
import type { DecoderOptions } from './cpuDecoder';
import type { RawScorer } from './raw';
import { epochMs, type ParentMessage, type ServerConfig, type ServerMessage } from './server';
import { candidateText, INSTRUCTION, SOURCE } from './text';

/** The loopback Ollama, and the OpenAI-compatible server beside it, in a child process. */
export class ServerProcess {
	private readonly finished: Array<Extract<ServerMessage, { type: 'finished' }>> = [];
	private waiters: Array<(m: ServerMessage) => void> = [];

	private constructor(
		private readonly child: ChildProcess,
		readonly url: string,
		readonly openaiBaseUrl: string,
	) {
		child.on('message', (m: ServerMessage) => {
			if (m.type === 'finished') this.finished.push(m);
			const waiters = this.waiters;
			this.waiters = [];
			waiters.forEach(w => w(m));
		});
	}

	static async start(): Promise<ServerProcess> {
		const child = fork(path.join(__dirname, 'server.ts'), [], {
			execArgv: ['--import', 'tsx'],
			stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		});
		const ready = await new Promise<Extract<ServerMessage, { type: 'ready' }>>((resolve, reject) => {
			child.once('error', reject);
			child.once('exit', code => reject(new Error(`the bench server exited with ${code}`)));
			child.on('message', (m: ServerMessage) => m.type === 'ready' && resolve(m));
		});
		return new ServerProcess(child, ready.url, ready.openaiBaseUrl);
	}

	async configure(config: ServerConfig): Promise<void> {
		const done = new Promise<void>(resolve => this.waiters.push(m => m.type === 'configured' && resolve()));
		this.child.send({ type: 'configure', config } satisfies ParentMessage);
		await done;
	}

	/** Forgets what was recorded so far; returns it. */
	take(): Array<Omit<Extract<ServerMessage, { type: 'finished' }>, 'type'>> {
		return this.finished.splice(0);
	}

	/**
	 * Resolves once `count` candidates' ends are recorded, or after `timeoutMs`: the server's note of a
	 * last line comes over IPC and may reach us after the client has read that line.
	 */
	async finishedCount(count: number, timeoutMs = 2000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (this.finished.length < count && Date.now() < deadline) {
			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
				this.waiters.push(() => (clearTimeout(timer), resolve()));
			});
		}
	}

	/** Lets the first tokens held (`hold` in the config) go out. */
	release(): void {
		this.child.send({ type: 'release' } satisfies ParentMessage);
	}

	stop(): void {
		this.child.send({ type: 'stop' } satisfies ParentMessage);
	}
}

interface ScoreCall {
	readonly start: number;
	readonly end: number;
	readonly pairs: readonly RewardPair[];
}

/** Passes calls through and notes when each score call ran and what it scored. */
class RecordingScorer implements RewardScorer {
	calls: ScoreCall[] = [];
	/** `oneByOne`: each pair of a call scored in a call of its own, as the run scored before it batched. */
	constructor(
		private readonly inner: RewardScorer,
		private readonly oneByOne = false,
	) {}
	load(signal: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<RewardModelInfo> {
		return this.inner.load(signal, onProgress);
	}
	async score(pairs: readonly RewardPair[], signal: AbortSignal): Promise<number[]> {
		if (!this.oneByOne) return this.one(pairs, signal);
		const scores: number[] = [];
		for (const pair of pairs) scores.push(...(await this.one([pair], signal)));
		return scores;
	}

	private async one(pairs: readonly RewardPair[], signal: AbortSignal): Promise<number[]> {
		const start = epochMs();
		const scores = await this.inner.score(pairs, signal);
		this.calls.push({ start, end: epochMs(), pairs });
		return scores;
	}
}

/**
 * The extension's run; the same scoring one pair per call (before it batched); the same scoring every
 * candidate as it completes, never holding scores when scoring slows the server (before that rule);
 * generate all, then score.
 */
export type Client = 'ours' | 'ours-one-by-one' | 'ours-no-hold' | 'naive';

/**
 * The generation backend: Ollama, one request per candidate, K at once; or an OpenAI-compatible server
 * as vLLM runs one, all N candidates in one request with `n`, K being the server's slots.
 */
export type Backend = 'ollama' | 'openai';

export interface RunFigures {
	readonly client: Client;
	readonly backend: Backend;
	readonly n: number;
	readonly k: number;
	/** Command → final ranking. */
	readonly wallMs: number;
	/** First request received → last line sent, by the server's clock. */
	readonly spanMs: number;
	/** Server's last line → final ranking. */
	readonly tailMs: number;
	/**
	 * The least CPU time for the scoring still left at the server's last line: back-to-back passes, the
	 * lesser of one by one and batched (`RawScorer.least`), the figures' floor. Warm passes
	 * and the lesser of two noisy values both put it low, so it is the stricter of the two floors.
	 */
	readonly leastLeftMs: number;
	/** The same, each call's pairs timed after the pause ours' scorer had before that call (`RawScorer.leastAfterPause`). */
	readonly leastAfterPauseMs: number;
	/** Score calls begun before the server's last line, of all score calls' pairs. */
	readonly startedBefore: number;
	readonly scored: number;
	/** Event-loop delay of this thread during the run (ms): 99th percentile and maximum. */
	readonly loopP99Ms: number;
	readonly loopMaxMs: number;
	/** The streams' pace while scoring ÷ otherwise as the run's first decision on holding saw it, and the scores it held (not the naive client). */
	readonly paceRatio?: number;
	readonly held: number;
}

export interface PipelineContext {
	readonly server: ServerProcess;
	readonly scorer: RewardScorer;
	readonly raw: RawScorer;
	readonly modelDir: string;
	readonly tokenDelayMs: number;
	readonly words: number;
	/** The server decodes on this machine's CPU (bench/cpuDecoder.ts) instead of waiting `tokenDelayMs` a token. */
	readonly cpu?: DecoderOptions;
}

/**
 * The longest pause the floor's passes wait before they are timed. A scorer's first call of a run may
 * follow many seconds without work; the slowdown was measured after 1.5 and 2 s, longer pauses were
 * not. Should they cost more, the cap leaves the floor lower than what ours met, not higher.
 */
const MAX_IDLE_MS = 2000;

const task = () => rewriteTask({ instruction: INSTRUCTION, text: SOURCE, languageId: 'markdown' });

export async function runOnce(
	ctx: PipelineContext,
	client: Client,
	n: number,
	k: number,
	seed: number,
	backend: Backend = 'ollama',
): Promise<RunFigures> {
	if (backend === 'openai' && ctx.cpu) throw new Error('the CPU-bound server is an Ollama only');
	await ctx.server.configure({ parallel: k, tokenDelayMs: ctx.tokenDelayMs, words: ctx.words, cpu: ctx.cpu });
	ctx.server.take();
	const scorer = new RecordingScorer(ctx.scorer, client === 'ours-one-by-one');
	const settings = parseSettings({
		backend,
		'ollama.host': ctx.server.url,
		'openai.baseUrl': ctx.server.openaiBaseUrl,
		model: 'bench',
		candidates: n,
		concurrency: k,
		rewardModel: ctx.modelDir,
		ranker: 'reward',
		maxTokens: 4096,
	}).settings;
	// A generator of its own per run, so no run inherits what an earlier one learnt of the server.
	const generator =
		backend === 'openai'
			? new OpenAIGenerator({ baseUrl: ctx.server.openaiBaseUrl, ignoresN: new Set() })
			: new OllamaGenerator({ host: ctx.server.url });
	const loop = monitorEventLoopDelay({ resolution: 1 });
	loop.enable();
	const t0 = epochMs();
	let pace: ReturnType<BestOfNRun['paceReading']> | undefined;
	if (client !== 'naive') {
		const holdScoresWhenServerSlows = client !== 'ours-no-hold';
		const run = new BestOfNRun({ runId: seed, task: task(), settings, generator, scorer, seed, holdScoresWhenServerSlows });
		const result = await run.start();
		if (result.error) throw result.error;
		if (result.state.candidates.some(c => c.score === undefined)) throw new Error('a candidate was left unscored');
		pace = run.paceReading();
	} else {
		await naiveRun(generator, scorer, n, k, seed);
	}
	const tFinal = epochMs();
	loop.disable();
	await ctx.server.finishedCount(n);
	const served = ctx.server.take();
	if (served.length !== n) throw new Error(`the server finished ${served.length} candidates, not ${n}`);
	const firstArrival = Math.min(...served.map(s => s.receivedAt));
	const lastToken = Math.max(...served.map(s => s.finishedAt));

	// The floor (back-to-back passes), and beside it the same pairs as the scorer met them (after its pause).
	let backToBack = 0;
	let afterPause = 0;
	const unstarted: RewardPair[] = [];
	let unstartedIdle = 0;
	const calls = [...scorer.calls].sort((a, b) => a.start - b.start);
	for (const [i, call] of calls.entries()) {
		if (call.end <= lastToken) continue;
		const idle = Math.min(MAX_IDLE_MS, Math.max(0, call.start - (calls[i - 1]?.end ?? t0)));
		if (call.start >= lastToken) {
			if (unstarted.length === 0) unstartedIdle = idle;
			unstarted.push(...call.pairs);
			continue;
		}
		// A call in progress at the last token: credit the work it had done by then.
		const done = lastToken - call.start;
		backToBack += Math.max(0, (await ctx.raw.least(call.pairs)) - done);
		afterPause += Math.max(0, (await ctx.raw.leastAfterPause(call.pairs, idle)) - done);
	}
	backToBack += await ctx.raw.least(unstarted);
	afterPause += await ctx.raw.leastAfterPause(unstarted, unstartedIdle);
	return {
		client,
		backend,
		n,
		k,
		wallMs: tFinal - t0,
		spanMs: lastToken - firstArrival,
		tailMs: tFinal - lastToken,
		leastLeftMs: backToBack,
		leastAfterPauseMs: afterPause,
		startedBefore: scorer.calls.filter(c => c.start < lastToken).reduce((sum, c) => sum + c.pairs.length, 0),
		scored: scorer.calls.reduce((sum, c) => sum + c.pairs.length, 0),
		loopP99Ms: loop.percentile(99) / 1e6,
		loopMaxMs: loop.max / 1e6,
		paceRatio: pace?.firstRatio,
		held: pace?.held ?? 0,
	};
}

/**
 * Generates all N with the same client, then scores them all in one call: K requests at a time, or
 * (a generator with `generateMany`, the OpenAI-compatible one) one request with `n`.
 */
async function naiveRun(generator: CandidateGenerator, scorer: RewardScorer, n: number, k: number, seed: number): Promise<void> {
	const t = task();
	const signal = new AbortController().signal;
	setMaxListeners(0, signal); // k generations listen at once, as a run's own signal allows (src/core/run.ts)
	const texts: string[] = [];
	let next = 0;
	const options = { temperature: 0.8, topP: 0.95, maxTokens: 4096, contextLength: 0, seed };
	if (generator.generateMany) {
		let failure: Error | undefined;
		await generator.generateMany({ model: 'bench', messages: t.messages(), options }, n, k, signal, {
			started: () => {},
			delta: () => {},
			finished: (i, result) => (texts[i] = t.clean(result.text, false)),
			failed: (i, error) => (failure ??= error instanceof Error ? error : new Error(`candidate ${i} failed: ${String(error)}`)),
		});
		if (failure) throw failure;
	} else
		await Promise.all(
			Array.from({ length: k }, async () => {
				while (next < n) {
					const i = next++;
					const result = await generator.generate(
						{
							model: 'bench',
							messages: t.messages(),
							options: { ...options, seed: seed + i },
						},
						signal,
						() => {},
					);
					texts[i] = t.clean(result.text, false);
				}
			}),
		);
	await scorer.score(
		[...new Set(texts)].map(text => t.rewardPair(text)),
		signal,
	);
}

/** A typical pair of the benchmark, for "one score". */
export function typicalPair(words: number): RewardPair {
	return task().rewardPair(candidateText(12345, words));
}

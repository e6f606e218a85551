/**
 * Figure 5: what scoring costs on this CPU and what the model holds in memory. Pairs per second at
 * 128, 256 and 512 tokens, four pairs one by one vs as one batch, through the extension's worker and
 * through raw onnxruntime-node on the same tensors; and, each in a fresh process (bench/loadChild.ts),
 * the load's peak memory against the model file's size, memory after the idle unload, the load time
 * and the first score after the load with and without the warm-up.
 */
import { fork } from 'node:child_process';
import type { RewardPair, RewardScorer } from '../src/core/reward';
import { LOAD_CHILD, type LoadChildArgs, type LoadFigures, type LoadMode } from './loadChild';
import { median, type RawScorer } from './raw';
import { sharedNow, type RunStamps } from './runStamps';
import { candidateText, INSTRUCTION } from './text';

export interface Throughput {
	readonly tokens: number;
	/** Pairs per second: the median over the process sets of each set's four pairs. */
	readonly rawSingle: number;
	/** NaN when not measured (models the product scores one pair at a time). */
	readonly rawBatch: number;
	/** Raw onnxruntime-node on the graph file ours opens, one pair a call (NaN when not measured). */
	readonly rawGraphSingle: number;
	readonly oursSingle: number;
	/** One call of four pairs: the scorer decides how to run them (NaN when not measured). */
	readonly oursBatch: number;
	/**
	 * Raw ÷ ours, one pair a call: in each process set the median of the ratios of each pair's times
	 * taken back to back; the median of those over the sets.
	 */
	readonly singleRatio: number;
	/** Each set's raw ÷ ours (one pair a call), in the order measured. */
	readonly singleRatios: readonly number[];
	/** Raw on the model's file ÷ raw on the graph file ours opens, the same way (NaN when not measured). */
	readonly graphRatio: number;
	/**
	 * Ours' own `session.run`, read inside its scorer process (bench/runStamps.ts), ÷ ours' call, the
	 * same way: what our call adds around the pass (NaN when not measured).
	 */
	readonly runShare: number;
	readonly runShares: readonly number[];
	/** Raw ÷ ours' own `session.run` in the same calls: the pass in our process against raw's (NaN when not measured). */
	readonly rawOverRun: number;
	readonly rawOverRuns: readonly number[];
	/** Best raw (one by one or batched) ÷ ours' one call of four: the median over the sets. */
	readonly batchRatio: number;
	readonly batchRatios: readonly number[];
	/** How many process sets, and how many back-to-back ratios each set's median is of. */
	readonly sets: number;
	readonly perSet: number;
}

/**
 * What one process set scores with: raw onnxruntime-node on the model's file, optionally raw on the
 * graph file ours opens, and ours, each a process of its own (or, for the worker-thread rows, a thread).
 */
export interface ScoringSet {
	readonly raw: RawScorer;
	readonly rawGraph?: RawScorer;
	readonly ours: RewardScorer;
	/** Ours' own `session.run` times, when its scorer process was started with the hook. */
	readonly oursRuns?: RunStamps;
	/** Ends what this set started (not what it was lent). */
	dispose(): Promise<void>;
}

const never = () => new AbortController().signal;

/** Four different pairs of about `tokens` tokens each (a response long enough, cut to fit when 512). */
function pairsOf(raw: RawScorer, tokens: number, seed: number): RewardPair[] {
	return [0, 1, 2, 3].map(k => {
		let words = Math.round(tokens * 0.7);
		let pair: RewardPair = { prompt: INSTRUCTION, response: candidateText(seed + k, words) };
		for (let i = 0; i < 4; i++) {
			const got = raw.tokens(pair);
			if (Math.abs(got - tokens) <= 2 || (tokens >= 512 && got >= 512)) break;
			words = Math.max(1, Math.round((words * tokens) / got));
			pair = { prompt: INSTRUCTION, response: candidateText(seed + k, words + (tokens >= 512 ? 40 : 0)) };
		}
		return pair;
	});
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
	const t = performance.now();
	await fn();
	return performance.now() - t;
}

/** Runs `calls` back to back, the first one `shift` places along, and returns their times in the given order. */
async function rotated(calls: ReadonlyArray<() => Promise<number>>, shift: number): Promise<number[]> {
	const times = new Array<number>(calls.length);
	for (let i = 0; i < calls.length; i++) {
		const at = (i + shift) % calls.length;
		times[at] = await calls[at]!();
	}
	return times;
}

interface LengthSamples {
	readonly raw: number[];
	readonly rawGraph: number[];
	readonly ours: number[];
	readonly rawBatch: number[];
	readonly oursBatch: number[];
	readonly single: number[];
	readonly graph: number[];
	readonly runShare: number[];
	readonly rawOverRun: number[];
	readonly batch: number[];
}

/**
 * Figure 5a for one model. Each of `sets` process sets is started fresh by `start` (so each process
 * draws its own placement of onnxruntime's memory, which moved one process's speed by ±10% against
 * another's on the same file), scores four pairs of each length one by one, raw and ours back to back
 * in turn, then the four as one call, and is ended before the next starts.
 */
export async function measureThroughput(
	/** Tokenizes the pairs (any raw scorer of the model). */
	tokenizer: RawScorer,
	sets: number,
	start: (index: number) => Promise<ScoringSet>,
	lengths: readonly number[],
	log: (line: string) => void,
	/** False for models the product scores one pair at a time (8-bit): their batches are not measured. */
	batched = true,
): Promise<Throughput[]> {
	const pairs = lengths.map(tokens => pairsOf(tokenizer, tokens, tokens * 10));
	const samples: LengthSamples[] = lengths.map(() => ({
		raw: [],
		rawGraph: [],
		ours: [],
		rawBatch: [],
		oursBatch: [],
		single: [],
		graph: [],
		runShare: [],
		rawOverRun: [],
		batch: [],
	}));
	for (let s = 0; s < sets; s++) {
		const set = await start(s);
		/** Each call of ours timed in this set, found among its scorer's passes once the set's calls are done. */
		const oursCalls: Array<{
			readonly length: number;
			readonly from: number;
			readonly to: number;
			readonly ms: number;
			readonly rawMs: number;
		}> = [];
		try {
			for (const [l, four] of pairs.entries()) {
				const got = samples[l]!;
				const single: number[] = [];
				const graph: number[] = [];
				let rawSum = 0;
				let graphSum = 0;
				let oursSum = 0;
				for (const [k, pair] of four.entries()) {
					const input = set.raw.encode(pair);
					let from = 0;
					let to = 0;
					const calls = [
						() => set.raw.time([input]),
						async () => {
							// The shared clock read outside the timed span, which is as it always was.
							from = sharedNow();
							const oursMs = await timed(() => set.ours.score([pair], never()));
							to = sharedNow();
							return oursMs;
						},
					];
					if (set.rawGraph) calls.push(() => set.rawGraph!.time([input]));
					// Which goes first turns with the pair and the set, so none always follows another.
					const [rawMs, oursMs, graphMs] = await rotated(calls, k + s);
					single.push(rawMs! / oursMs!);
					oursCalls.push({ length: l, from, to, ms: oursMs!, rawMs: rawMs! });
					rawSum += rawMs!;
					oursSum += oursMs!;
					if (graphMs !== undefined) {
						graph.push(rawMs! / graphMs);
						graphSum += graphMs;
					}
				}
				got.raw.push(rawSum);
				got.ours.push(oursSum);
				got.single.push(median(single));
				if (graph.length) {
					got.rawGraph.push(graphSum);
					got.graph.push(median(graph));
				}
				if (batched) {
					const inputs = four.map(p => set.raw.encode(p));
					const [rawBatch, oursBatch] = await rotated(
						[() => set.raw.time(inputs), () => timed(() => set.ours.score(four, never()))],
						s,
					);
					got.rawBatch.push(rawBatch!);
					got.oursBatch.push(oursBatch!);
					got.batch.push(Math.min(rawSum, rawBatch!) / oursBatch!);
				}
				log(
					`set ${s + 1} of ${sets}, ${lengths[l]} tokens: raw ÷ ours ${fmt(median(single))}${graph.length ? `, raw ÷ raw on ours' graph ${fmt(median(graph))}` : ''}${batched ? `, best raw ÷ ours' call of 4 ${fmt(got.batch[got.batch.length - 1]!)}` : ''}`,
				);
			}
			// Only now, so reading the scorer's stamps changes none of the pauses between the set's calls.
			if (set.oursRuns)
				for (const [l, length] of lengths.entries()) {
					const runShare: number[] = [];
					const rawOverRun: number[] = [];
					for (const call of oursCalls.filter(c => c.length === l)) {
						const run = await set.oursRuns.runWithin(call.from, call.to);
						runShare.push(run / call.ms);
						rawOverRun.push(call.rawMs / run);
					}
					samples[l]!.runShare.push(median(runShare));
					samples[l]!.rawOverRun.push(median(rawOverRun));
					log(
						`set ${s + 1} of ${sets}, ${length} tokens: ours' session.run ÷ ours' call ${fmt3(median(runShare))}, raw ÷ ours' session.run ${fmt(median(rawOverRun))}`,
					);
				}
		} finally {
			await set.dispose();
		}
	}
	const rows: Throughput[] = [];
	for (const [l, four] of pairs.entries()) {
		const got = samples[l]!;
		const perSecond = (ms: number[]) => (ms.length ? (four.length * 1000) / median(ms) : NaN);
		const mid = (v: number[]) => (v.length ? median(v) : NaN);
		const row: Throughput = {
			tokens: Math.max(...four.map(p => tokenizer.tokens(p))),
			rawSingle: perSecond(got.raw),
			rawBatch: perSecond(got.rawBatch),
			rawGraphSingle: perSecond(got.rawGraph),
			oursSingle: perSecond(got.ours),
			oursBatch: perSecond(got.oursBatch),
			singleRatio: mid(got.single),
			singleRatios: got.single,
			graphRatio: mid(got.graph),
			runShare: mid(got.runShare),
			runShares: got.runShare,
			rawOverRun: mid(got.rawOverRun),
			rawOverRuns: got.rawOverRun,
			batchRatio: mid(got.batch),
			batchRatios: got.batch,
			sets,
			perSet: four.length,
		};
		log(
			`${row.tokens} tokens: raw ${row.rawSingle.toFixed(2)} / batched ${row.rawBatch.toFixed(2)}, ours ${row.oursSingle.toFixed(2)} / one call ${row.oursBatch.toFixed(2)} pairs/s; raw ÷ ours ${row.singleRatios.map(r => fmt(r)).join(' ')}`,
		);
		rows.push(row);
	}
	return rows;
}

const fmt = (v: number) => v.toFixed(2);
const fmt3 = (v: number) => v.toFixed(3);

export async function measureLoad(args: Omit<LoadChildArgs, 'mode'>, mode: LoadMode): Promise<LoadFigures> {
	const child = fork(LOAD_CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	return new Promise<LoadFigures>((resolve, reject) => {
		child.once('message', (m: LoadFigures) => resolve(m));
		child.once('error', reject);
		child.once('exit', code => (code === 0 ? undefined : reject(new Error(`the load child (${mode}) exited with ${code}`))));
		child.send({ ...args, mode } satisfies LoadChildArgs);
	});
}

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
import { candidateText, INSTRUCTION } from './text';

export interface Throughput {
	readonly tokens: number;
	/** Pairs per second. */
	readonly rawSingle: number;
	/** NaN when not measured (models the product scores one pair at a time). */
	readonly rawBatch: number;
	readonly oursSingle: number;
	/** One call of four pairs: the scorer decides how to run them (NaN when not measured). */
	readonly oursBatch: number;
	/** Raw ÷ ours, one pair a call: the median of the ratios of each pair's two times, taken back to back. */
	readonly singleRatio: number;
	/** Best raw (one by one or batched) ÷ ours' one call of four, the median of the ratios of each repeat. */
	readonly batchRatio: number;
	/** How many ratios each median is of. */
	readonly samples: number;
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

export async function measureThroughput(
	raw: RawScorer,
	scorer: RewardScorer,
	lengths: readonly number[],
	repeats: number,
	log: (line: string) => void,
	/** False for models the product scores one pair at a time (8-bit): their batches are not measured. */
	batched = true,
): Promise<Throughput[]> {
	const rows: Throughput[] = [];
	for (const tokens of lengths) {
		const pairs = pairsOf(raw, tokens, tokens * 10);
		const inputs = pairs.map(p => raw.encode(p));
		const rs: number[] = [];
		const rb: number[] = [];
		const os: number[] = [];
		const ob: number[] = [];
		// Ratios of times taken back to back: the machine's load drifts between a pair's raw and ours far
		// less than across a whole block of pairs. Which goes first alternates, so neither always follows the other.
		const singleRatios: number[] = [];
		const batchRatios: number[] = [];
		for (let r = 0; r < repeats; r++) {
			let rawSum = 0;
			let oursSum = 0;
			for (const [k, pair] of pairs.entries()) {
				const input = raw.encode(pair);
				const oursOne = () => timed(() => scorer.score([pair], never()));
				const rawFirst = (r + k) % 2 === 0;
				const first = rawFirst ? await raw.time([input]) : await oursOne();
				const second = rawFirst ? await oursOne() : await raw.time([input]);
				const [rawMs, oursMs] = rawFirst ? [first, second] : [second, first];
				singleRatios.push(rawMs / oursMs);
				rawSum += rawMs;
				oursSum += oursMs;
			}
			rs.push(rawSum);
			os.push(oursSum);
			if (batched) {
				const oursAll = () => timed(() => scorer.score(pairs, never()));
				const rawFirst = r % 2 === 0;
				const first = rawFirst ? await raw.time(inputs) : await oursAll();
				const second = rawFirst ? await oursAll() : await raw.time(inputs);
				const [rawBatch, oursBatch] = rawFirst ? [first, second] : [second, first];
				rb.push(rawBatch);
				ob.push(oursBatch);
				batchRatios.push(Math.min(rawSum, rawBatch) / oursBatch);
			}
		}
		const perSecond = (ms: number[]) => (ms.length ? (pairs.length * 1000) / median(ms) : NaN);
		const row: Throughput = {
			tokens: Math.max(...inputs.map(i => i.input_ids.length)),
			rawSingle: perSecond(rs),
			rawBatch: perSecond(rb),
			oursSingle: perSecond(os),
			oursBatch: perSecond(ob),
			singleRatio: median(singleRatios),
			batchRatio: batchRatios.length ? median(batchRatios) : NaN,
			samples: singleRatios.length,
		};
		log(
			`${row.tokens} tokens: raw ${row.rawSingle.toFixed(2)} / batched ${row.rawBatch.toFixed(2)}, ours ${row.oursSingle.toFixed(2)} / one call ${row.oursBatch.toFixed(2)} pairs/s`,
		);
		rows.push(row);
	}
	return rows;
}

export async function measureLoad(args: Omit<LoadChildArgs, 'mode'>, mode: LoadMode): Promise<LoadFigures> {
	const child = fork(LOAD_CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	return new Promise<LoadFigures>((resolve, reject) => {
		child.once('message', (m: LoadFigures) => resolve(m));
		child.once('error', reject);
		child.once('exit', code => (code === 0 ? undefined : reject(new Error(`the load child (${mode}) exited with ${code}`))));
		child.send({ ...args, mode } satisfies LoadChildArgs);
	});
}

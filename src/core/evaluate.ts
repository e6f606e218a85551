/**
 * Evaluating a reward model on preference pairs: score the chosen and the rejected response of each
 * pair under the same prompt, and count how often the chosen one scores higher (ties half), overall
 * and per `subset`. The CLI's `eval` and the extension's "Evaluate Reward Model on My Picks" share it.
 */
import { pairwiseAccuracy, type Rate } from './agreement';
import type { RewardScorer } from './reward';
import type { PreferencePair } from './trl';

export interface Evaluation {
	readonly overall: Rate;
	/** Per `subset` field, in order of first appearance; empty when no pair has one. */
	readonly subsets: ReadonlyMap<string, Rate>;
	/** Pairs whose two scores were equal (each counted as half right). */
	readonly ties: number;
}

/** Pairs scored per call: small enough for prompt progress and a prompt cancel. */
const CHUNK = 8;

export async function evaluatePairs(
	scorer: RewardScorer,
	pairs: readonly PreferencePair[],
	signal: AbortSignal,
	onProgress?: (done: number, total: number) => void,
): Promise<Evaluation> {
	const results: { chosen: number; rejected: number; subset?: string }[] = [];
	for (let start = 0; start < pairs.length; start += CHUNK) {
		const chunk = pairs.slice(start, start + CHUNK);
		const scores = await scorer.score(
			chunk.flatMap(p => [
				{ prompt: p.prompt, response: p.chosen },
				{ prompt: p.prompt, response: p.rejected },
			]),
			signal,
		);
		chunk.forEach((p, i) => {
			const [chosen, rejected] = scores.slice(2 * i, 2 * i + 2);
			if (chosen === undefined || rejected === undefined)
				throw new Error(`The reward model returned ${scores.length} scores for ${2 * chunk.length} texts.`);
			results.push({ chosen, rejected, subset: p.subset });
		});
		onProgress?.(results.length, pairs.length);
	}
	return summarize(results);
}

export function summarize(results: readonly { chosen: number; rejected: number; subset?: string }[]): Evaluation {
	const bySubset = new Map<string, { chosen: number; rejected: number }[]>();
	for (const r of results) {
		if (r.subset === undefined) continue;
		const list = bySubset.get(r.subset) ?? [];
		list.push(r);
		bySubset.set(r.subset, list);
	}
	return {
		overall: pairwiseAccuracy(results),
		subsets: new Map([...bySubset].map(([name, list]) => [name, pairwiseAccuracy(list)])),
		ties: results.filter(r => r.chosen === r.rejected).length,
	};
}

/** `{ pairs, accuracy, ci95, subsets }`, as `eval --json` prints it. */
export function evaluationJson(e: Evaluation) {
	const one = (r: Rate) => ({ pairs: r.n, accuracy: r.rate, ci95: r.ci95 });
	return { ...one(e.overall), ties: e.ties, subsets: Object.fromEntries([...e.subsets].map(([name, r]) => [name, one(r)])) };
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

/** "71.3% (95% CI 65.2–76.8%) over 200 pairs" */
export function describeRate(r: Rate): string {
	return `${percent(r.rate)} (95% CI ${percent(r.ci95[0])}–${percent(r.ci95[1])}) over ${r.n} pair${r.n === 1 ? '' : 's'}`;
}

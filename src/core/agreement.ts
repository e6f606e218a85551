/**
 * How often a ranker agrees with the person: top-1 agreement (was the ranker's #1 the pick?), where
 * the pick fell in the ranking, how that moves over time, and pairwise accuracy (does the ranker score
 * the chosen candidate above each rejected one?). Every rate carries its 95% Wilson score interval,
 * which stays inside [0, 1] and is honest at the small counts a person's log holds.
 */
import { consensusScores } from './consensus';
import { distinctCandidates, type PreferenceRecord } from './preferences';

/** The normal quantile for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

export interface Rate {
	/** Successes; may be fractional when ties count half. */
	readonly k: number;
	readonly n: number;
	/** k / n; NaN when n is 0. */
	readonly rate: number;
	/** 95% Wilson score interval; [0, 1] when n is 0. */
	readonly ci95: readonly [number, number];
}

/** Wilson score interval for k successes in n trials (k may be fractional: ties counted half). */
export function wilson(k: number, n: number, z = Z95): readonly [number, number] {
	if (n <= 0) return [0, 1];
	const p = k / n;
	const z2 = z * z;
	const denominator = 1 + z2 / n;
	const center = (p + z2 / (2 * n)) / denominator;
	const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
	return [Math.max(0, center - half), Math.min(1, center + half)];
}

export function rate(k: number, n: number): Rate {
	return { k, n, rate: n > 0 ? k / n : NaN, ci95: wilson(k, n) };
}

/** Pairwise accuracy of (chosen score, rejected score) pairs: a win counts 1, a tie ½, a loss 0. */
export function pairwiseAccuracy(pairs: readonly { readonly chosen: number; readonly rejected: number }[]): Rate {
	let k = 0;
	for (const { chosen, rejected } of pairs) k += chosen > rejected ? 1 : chosen === rejected ? 0.5 : 0;
	return rate(k, pairs.length);
}

/** The runs a ranking says something about: ranked by a ranker, with at least two distinct choices. */
function judged(records: readonly PreferenceRecord[]): PreferenceRecord[] {
	return records.filter(r => r.ranker.kind !== 'none' && distinctCandidates(r) >= 2 && chosenOf(r)?.rank !== undefined);
}

function chosenOf(record: PreferenceRecord) {
	return record.candidates.find(c => c.id === record.chosen);
}

/** How a ranker is named in the report: the reward model's id, or "consensus". */
export function rankerKey(record: PreferenceRecord): string {
	return record.ranker.kind === 'reward' ? (record.rewardModel ?? record.ranker.label) : record.ranker.label;
}

export interface RankerAgreement extends Rate {
	readonly ranker: string;
	readonly kind: 'reward' | 'consensus';
}

/** Top-1 agreement per ranker, most runs first. */
export function topOneAgreement(records: readonly PreferenceRecord[]): RankerAgreement[] {
	const groups = new Map<string, { kind: 'reward' | 'consensus'; k: number; n: number }>();
	for (const r of judged(records)) {
		const key = rankerKey(r);
		const g = groups.get(key) ?? { kind: r.ranker.kind === 'reward' ? 'reward' : 'consensus', k: 0, n: 0 };
		g.n++;
		if (chosenOf(r)?.rank === 1) g.k++;
		groups.set(key, g);
	}
	return [...groups]
		.map(([ranker, g]) => ({ ranker, kind: g.kind, ...rate(g.k, g.n) }))
		.sort((a, b) => b.n - a.n || a.ranker.localeCompare(b.ranker));
}

/** How many picks fell at rank 1, 2, …: `counts[i]` is the number of picks at rank i + 1. */
export function pickedRankDistribution(records: readonly PreferenceRecord[]): number[] {
	const counts: number[] = [];
	for (const r of judged(records)) {
		const rank = chosenOf(r)?.rank;
		if (rank === undefined) continue; // judged() keeps only records whose pick was ranked
		while (counts.length < rank) counts.push(0);
		counts[rank - 1] = (counts[rank - 1] ?? 0) + 1;
	}
	return counts;
}

export interface TrendPoint extends Rate {
	/** The period's first day (UTC, `YYYY-MM-DD`). */
	readonly period: string;
}

/** Top-1 agreement per day or per week (weeks start on Monday, UTC), oldest first. */
export function agreementTrend(records: readonly PreferenceRecord[], bucket: 'day' | 'week'): TrendPoint[] {
	const groups = new Map<string, { k: number; n: number }>();
	for (const r of judged(records)) {
		const period = periodOf(Date.parse(r.time), bucket);
		const g = groups.get(period) ?? { k: 0, n: 0 };
		g.n++;
		if (chosenOf(r)?.rank === 1) g.k++;
		groups.set(period, g);
	}
	return [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([period, g]) => ({ period, ...rate(g.k, g.n) }));
}

/** Days for a log spanning a month or less, weeks beyond. */
export function trendBucket(records: readonly PreferenceRecord[]): 'day' | 'week' {
	const times = records.map(r => Date.parse(r.time));
	return times.length && Math.max(...times) - Math.min(...times) > 31 * 86400_000 ? 'week' : 'day';
}

function periodOf(time: number, bucket: 'day' | 'week'): string {
	const day = new Date(time);
	day.setUTCHours(0, 0, 0, 0);
	if (bucket === 'week') day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
	return day.toISOString().slice(0, 10);
}

/**
 * The ranker's own pairwise accuracy on the log: for each run whose candidates were scored, the chosen
 * candidate's score against each distinct rejected one's.
 */
export function loggedPairwiseAccuracy(records: readonly PreferenceRecord[]): Rate {
	const pairs: { chosen: number; rejected: number }[] = [];
	for (const r of judged(records)) {
		const chosen = chosenOf(r)!;
		if (chosen.score === undefined) continue;
		for (const c of r.candidates) {
			if (c.id !== chosen.id && c.text !== chosen.text && c.score !== undefined)
				pairs.push({ chosen: chosen.score, rejected: c.score });
		}
	}
	return pairwiseAccuracy(pairs);
}

export interface SideBySide {
	readonly rewardModel: string;
	/** The reward model's top-1 agreement on its runs. */
	readonly reward: Rate;
	/** Consensus's top-1 agreement on the same runs, recomputed from the logged candidates. */
	readonly consensus: Rate;
}

/**
 * Consensus against each reward model on the same runs. Consensus needs no model, so it is recomputed
 * from the logged candidate texts of every reward-ranked run: both rankers judged by the same picks.
 * A consensus tie at the top counts half, like a tied pair.
 */
export function consensusVersusReward(records: readonly PreferenceRecord[]): SideBySide[] {
	const groups = new Map<string, { reward: number; consensus: number; n: number }>();
	for (const r of judged(records)) {
		if (r.ranker.kind !== 'reward') continue;
		const key = rankerKey(r);
		const g = groups.get(key) ?? { reward: 0, consensus: 0, n: 0 };
		g.n++;
		if (chosenOf(r)?.rank === 1) g.reward++;
		g.consensus += consensusTopShare(r);
		groups.set(key, g);
	}
	return [...groups]
		.map(([rewardModel, g]) => ({ rewardModel, reward: rate(g.reward, g.n), consensus: rate(g.consensus, g.n) }))
		.sort((a, b) => b.reward.n - a.reward.n);
}

/** 1 when consensus alone ranks the chosen text first, 1/m when it shares the top with m − 1 others. */
function consensusTopShare(record: PreferenceRecord): number {
	const scores = consensusScores(
		record.candidates.map(c => c.text),
		record.candidates.map(c => c.count),
	);
	const best = Math.max(...scores);
	const top = record.candidates.filter((_, i) => scores[i] === best);
	return top.some(c => c.id === record.chosen) ? 1 / top.length : 0;
}

/** Everything the ranking report shows, computed from the log in one pass over its records. */
export interface RankingReport {
	/** Records in the log, and how many of them say something about a ranker. */
	readonly picks: number;
	readonly judged: number;
	readonly rankers: readonly RankerAgreement[];
	readonly rankDistribution: readonly number[];
	readonly trend: { readonly bucket: 'day' | 'week'; readonly points: readonly TrendPoint[] };
	readonly sideBySide: readonly SideBySide[];
	/** The logged rankers' pairwise accuracy (chosen scored above each rejected; ties half). */
	readonly pairwise: Rate;
}

export function rankingReport(records: readonly PreferenceRecord[]): RankingReport {
	const bucket = trendBucket(records);
	return {
		picks: records.length,
		judged: judged(records).length,
		rankers: topOneAgreement(records),
		rankDistribution: pickedRankDistribution(records),
		trend: { bucket, points: agreementTrend(records, bucket) },
		sideBySide: consensusVersusReward(records),
		pairwise: loggedPairwiseAccuracy(records),
	};
}

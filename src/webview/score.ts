/**
 * How the score column reads: the number, what it means for the ranker that produced it, and which
 * rows are tied. Pure, so the words are tested in node.
 */
import type { CandidateView, RankerView } from '../core/protocol';
import { formatScore } from '../core/scoreFormat';

// The number itself is formatted in core, so the CLI prints scores exactly as the picker shows them.
export { formatScore };

/** The score column's tooltip: what the number is, its scale, and which way is better. */
export function scoreMeaning(ranker: RankerView): string {
	switch (ranker.kind) {
		case 'reward':
			return `Reward model ${ranker.label}: its raw logit for this candidate. Higher is better; only the order within this run means something.`;
		case 'consensus':
			return 'Consensus: mean similarity to the other candidates, from 0 (nothing in common) to 1 (identical). Higher is more typical.';
		case 'none':
			return 'Not ranked: candidates are in the order they finished.';
		default: {
			const never: never = ranker.kind;
			return String(never);
		}
	}
}

/**
 * Ids of candidates whose score, as shown, equals another candidate's: their order is a tie-break
 * (the one that finished first leads), not a ranking, and the picker says so.
 */
export function tiedIds(candidates: readonly CandidateView[], kind: RankerView['kind']): ReadonlySet<number> {
	// Keyed by the number the text shows (a Map treats −0 and 0 as one key).
	const byShown = new Map<number, number[]>();
	for (const c of candidates) {
		const shown = formatScore(c.score, kind);
		if (!shown) continue;
		const key = Number(shown.replace('\u2212', '-'));
		byShown.set(key, [...(byShown.get(key) ?? []), c.id]);
	}
	const tied = new Set<number>();
	for (const ids of byShown.values()) if (ids.length > 1) for (const id of ids) tied.add(id);
	return tied;
}

/** The tooltip of a tied score: which rows share it. `positions` are 1-based row numbers. */
export function tieTitle(shown: string, positions: readonly number[]): string {
	const rows = `${positions.slice(0, -1).join(', ')} and ${positions[positions.length - 1]}`;
	const all = positions.length === 2 ? 'both' : 'all';
	return `Tie: rows ${rows} ${all} score ${shown} as shown, so their order is not a ranking (the first to finish leads).`;
}

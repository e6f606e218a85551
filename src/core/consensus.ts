/**
 * The consensus ranker: a minimum-Bayes-risk choice. Each candidate's score is its mean similarity to
 * the other candidates, so the one that agrees most with the rest wins. It needs no model, costs
 * O(N² · length), and is what ranks when no reward model is configured or it cannot load.
 *
 * Similarity is the Dice coefficient over multisets of word-and-symbol unigrams and bigrams: it sees
 * code identifiers and punctuation, ignores whitespace, and rewards shared order through the bigrams.
 */

export function tokenize(text: string): string[] {
	return text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

type Bag = Map<string, number>;

function features(text: string): { bag: Bag; size: number } {
	const tokens = tokenize(text);
	const bag: Bag = new Map();
	const add = (key: string) => bag.set(key, (bag.get(key) ?? 0) + 1);
	let previous: string | undefined;
	for (const token of tokens) {
		add(token);
		if (previous !== undefined) add(`${previous}\u0000${token}`);
		previous = token;
	}
	return { bag, size: tokens.length === 0 ? 0 : 2 * tokens.length - 1 };
}

function dice(a: { bag: Bag; size: number }, b: { bag: Bag; size: number }): number {
	if (a.size === 0 && b.size === 0) return 1;
	if (a.size === 0 || b.size === 0) return 0;
	const [small, large] = a.bag.size <= b.bag.size ? [a.bag, b.bag] : [b.bag, a.bag];
	let shared = 0;
	for (const [key, count] of small) shared += Math.min(count, large.get(key) ?? 0);
	return (2 * shared) / (a.size + b.size);
}

export function similarity(a: string, b: string): number {
	return dice(features(a), features(b));
}

/**
 * Scores distinct texts, where `counts[i]` says how many generated candidates had text i (identical
 * candidates were collapsed): duplicates are votes, each agreeing fully with its twin.
 * Returns one score in [0, 1] per text; a lone candidate scores 1.
 */
export function consensusScores(texts: readonly string[], counts: readonly number[] = texts.map(() => 1)): number[] {
	if (counts.length !== texts.length) throw new RangeError(`consensusScores: ${counts.length} counts for ${texts.length} texts`);
	const total = counts.reduce((s, c) => s + c, 0);
	if (total <= 1) return texts.map(() => 1);
	// Its own duplicates agree with a text completely; each pair's similarity is computed once and
	// added to both sides, in the order of the other text (so the sums are the same as row by row).
	const items = texts.map((text, i) => {
		const count = counts[i] ?? 0;
		return { feats: features(text), count, sum: count - 1 };
	});
	items.forEach((a, i) => {
		for (const b of items.slice(i + 1)) {
			const d = dice(a.feats, b.feats);
			a.sum += b.count * d;
			b.sum += a.count * d;
		}
	});
	return items.map(item => item.sum / (total - 1));
}

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
	for (let i = 0; i < tokens.length; i++) {
		add(tokens[i]);
		if (i > 0) add(`${tokens[i - 1]}\u0000${tokens[i]}`);
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
	const total = counts.reduce((s, c) => s + c, 0);
	if (total <= 1) return texts.map(() => 1);
	const feats = texts.map(features);
	const sim: number[][] = texts.map(() => new Array<number>(texts.length).fill(0));
	for (let i = 0; i < texts.length; i++) {
		for (let j = i + 1; j < texts.length; j++) sim[i][j] = sim[j][i] = dice(feats[i], feats[j]);
	}
	return texts.map((_, i) => {
		let sum = counts[i] - 1; // its own duplicates agree with it completely
		for (let j = 0; j < texts.length; j++) if (j !== i) sum += counts[j] * sim[i][j];
		return sum / (total - 1);
	});
}

/**
 * Whether pairs that are ready together are scored as one padded batch or one by one, decided by
 * what each has cost on this CPU. A batch pays for its padding (every row is as wide as the longest)
 * but runs the matrix products on more rows at once, which onnxruntime does faster per token, the
 * more so the more rows; how much faster depends on the CPU, the model and the threads, so it is
 * measured, not assumed.
 */

export interface TokenCosts {
	/** Milliseconds per token of a pair scored alone (only ratios matter for a plan). */
	readonly single: number;
	/**
	 * How much cheaper a padded batch row is than a token alone, approached as rows grow: a batch of
	 * `r` rows costs `single × (1 − gain × (1 − 1/r))` a padded token. Negative: batches cost more.
	 */
	readonly gain: number;
}

/**
 * Before anything is measured: a 4-pair batch of ~460-token pairs took 0.8 of the four one by one
 * on a 2-core machine with a BERT-base-sized model, so gain × (1 − 1/4) = 0.2.
 */
export const PRIOR_COSTS: TokenCosts = { single: 1, gain: 0.2 / 0.75 };

/** Milliseconds per padded token of a forward pass of `rows` pairs. */
export function rowCost(costs: TokenCosts, rows: number): number {
	return rows <= 1 ? costs.single : costs.single * (1 - costs.gain * (1 - 1 / rows));
}

/**
 * Splits pairs (given by their token counts) into groups, each one forward pass, so the estimated
 * total time is least: sorted by length, contiguous runs of similar lengths go together, a pair
 * whose length would make the others pad too much goes alone. Returns indices into `lengths`,
 * each group longest first.
 */
export function planBatches(lengths: readonly number[], costs: TokenCosts): number[][] {
	const order = lengths.map((_, i) => i).sort((a, b) => (lengths[b] ?? 0) - (lengths[a] ?? 0));
	const len = (k: number) => lengths[order[k] ?? 0] ?? 0;
	const n = order.length;
	// best[k]: the least cost of the first k pairs (in sorted order); from[k]: where its last group starts.
	const best = new Array<number>(n + 1).fill(Infinity);
	const from = new Array<number>(n + 1).fill(0);
	best[0] = 0;
	for (let end = 1; end <= n; end++) {
		for (let start = 0; start < end; start++) {
			const rows = end - start;
			// Sorted longest first, so the group's width is its first pair's length.
			const total = (best[start] ?? Infinity) + rowCost(costs, rows) * rows * len(start);
			if (total < (best[end] ?? Infinity)) {
				best[end] = total;
				from[end] = start;
			}
		}
	}
	const groups: number[][] = [];
	for (let end = n; end > 0; end = from[end] ?? 0) groups.unshift(order.slice(from[end] ?? 0, end));
	return groups;
}

/** Running estimates of `TokenCosts` from the forward passes timed so far. */
export class CostEstimator {
	private single: number | undefined;
	private gain = PRIOR_COSTS.gain;

	/** How much each new measurement moves the estimate: recent runs count most (the load changes). */
	constructor(private readonly weight = 0.3) {}

	/** A forward pass of `rows` pairs padded to `width` tokens took `ms`. */
	record(rows: number, width: number, ms: number): void {
		if (!(ms > 0) || rows < 1 || width < 1) return;
		const perToken = ms / (rows * width);
		const move = (from: number | undefined, to: number) => (from === undefined ? to : from + this.weight * (to - from));
		if (rows === 1) {
			this.single = move(this.single, perToken);
		} else if (this.single === undefined) {
			// No pair timed alone yet: infer its cost from the batch with the gain believed so far.
			this.single = perToken / (1 - this.gain * (1 - 1 / rows));
		} else {
			this.gain = move(this.gain, (1 - perToken / this.single) / (1 - 1 / rows));
		}
	}

	costs(): TokenCosts {
		return { single: this.single ?? PRIOR_COSTS.single, gain: this.gain };
	}
}

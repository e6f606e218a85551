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

/** The costs at a batch's width (padded tokens a row): what batching saves differs at 128 and at 512 tokens. */
export type CostsAt = (width: number) => TokenCosts;

/**
 * Splits pairs (given by their token counts) into groups, each one forward pass, so the estimated
 * total time is least: sorted by length, contiguous runs of similar lengths go together, a pair
 * whose length would make the others pad too much goes alone. Returns indices into `lengths`,
 * each group longest first.
 */
export function planBatches(lengths: readonly number[], costs: TokenCosts | CostsAt): number[][] {
	const at: CostsAt = typeof costs === 'function' ? costs : () => costs;
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
			const total = (best[start] ?? Infinity) + rowCost(at(len(start)), rows) * rows * len(start);
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

/** Widths within a factor of two share a measured gain. */
const bucketOf = (width: number) => Math.floor(Math.log2(Math.max(1, width)));

/** Running estimates of `TokenCosts` from the forward passes timed so far. */
export class CostEstimator {
	private single: number | undefined;
	/** The gain measured at each width bucket; a bucket not measured yet takes its nearest's, or the prior. */
	private readonly gains = new Map<number, number>();
	/** When each width bucket's last batch was timed. */
	private readonly batchedAt = new Map<number, number>();

	constructor(
		/** How much each new measurement moves the estimate: recent runs count most (the load changes). */
		private readonly weight = 0.3,
		/**
		 * How far each pair timed alone moves its bucket's gain back toward the prior, once `retryAfterMs`
		 * has passed since the bucket's last batch. Batches measured slower are not run again, so not
		 * measured again: without this, one batch slowed by a busy moment would stop batching for the
		 * worker's life. With it, a batch is tried again after a few pairs alone (about seven for a gain
		 * measured at −0.1).
		 */
		private readonly relax = 0.05,
		/**
		 * How long a batch measured slow keeps batching off at its width. Counted in pairs alone, the
		 * retry came in every run of 8 candidates, and a batch of seven where batching does not pay cost
		 * that run about 5% (figure 1, N 8, 8 slots, on a quiet machine); by time it comes at most once
		 * in this long.
		 */
		private readonly retryAfterMs = 5 * 60_000,
		private readonly clock: () => number = Date.now,
	) {}

	/** A forward pass of `rows` pairs padded to `width` tokens took `ms`. */
	record(rows: number, width: number, ms: number): void {
		if (!(ms > 0) || rows < 1 || width < 1) return;
		const perToken = ms / (rows * width);
		const bucket = bucketOf(width);
		const gain = this.gains.get(bucket);
		if (rows === 1) {
			this.single = this.single === undefined ? perToken : this.single + this.weight * (perToken - this.single);
			const since = this.clock() - (this.batchedAt.get(bucket) ?? -Infinity);
			if (gain !== undefined && since >= this.retryAfterMs) this.gains.set(bucket, gain + this.relax * (PRIOR_COSTS.gain - gain));
		} else if (this.single === undefined) {
			// No pair timed alone yet: infer its cost from the batch with the gain believed so far.
			this.single = perToken / (1 - this.gainAt(width) * (1 - 1 / rows));
		} else {
			this.batchedAt.set(bucket, this.clock());
			const observed = (1 - perToken / this.single) / (1 - 1 / rows);
			// The prior is a guess for some CPU: the first measurement replaces it, later ones move it.
			this.gains.set(bucket, gain === undefined ? observed : gain + this.weight * (observed - gain));
		}
	}

	costs(width: number): TokenCosts {
		return { single: this.single ?? PRIOR_COSTS.single, gain: this.gainAt(width) };
	}

	private gainAt(width: number): number {
		const bucket = bucketOf(width);
		let nearest: number | undefined;
		let distance = Infinity;
		for (const [b, gain] of this.gains) {
			const d = Math.abs(b - bucket);
			if (d < distance) [nearest, distance] = [gain, d];
		}
		return nearest ?? PRIOR_COSTS.gain;
	}
}

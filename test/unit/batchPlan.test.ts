/** Which pairs the reward model runs as one batch, from the costs measured on this CPU. */
import * as assert from 'node:assert/strict';
import { CostEstimator, planBatches, PRIOR_COSTS, rowCost } from '../../src/reward/batchPlan';

const sorted = (groups: number[][]) => groups.map(g => [...g].sort((a, b) => a - b)).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));

describe('planBatches', () => {
	it('pairs of alike length go as one batch when a batch row costs less than a pair alone', () => {
		assert.deepEqual(sorted(planBatches([460, 470, 455, 462], PRIOR_COSTS)), [[0, 1, 2, 3]]);
	});

	it('one by one when a batch row costs more (a CPU where batching does not pay)', () => {
		assert.deepEqual(sorted(planBatches([460, 470, 455], { single: 1, gain: -0.2 })), [[0], [1], [2]]);
	});

	it('a pair much longer than the others goes alone rather than make them pad to its length', () => {
		assert.deepEqual(sorted(planBatches([120, 510, 130, 125], PRIOR_COSTS)), [[0, 2, 3], [1]]);
	});

	it('each index exactly once, for any lengths', () => {
		const lengths = [5, 300, 299, 12, 512, 511, 40, 41, 42, 7];
		for (const costs of [PRIOR_COSTS, { single: 1, gain: 0.9 }, { single: 1, gain: -3 }]) {
			const flat = planBatches(lengths, costs).flat();
			assert.deepEqual(
				[...flat].sort((a, b) => a - b),
				lengths.map((_, i) => i),
			);
		}
		assert.deepEqual(planBatches([], PRIOR_COSTS), []);
		assert.deepEqual(planBatches([9], PRIOR_COSTS), [[0]]);
	});
});

describe('CostEstimator', () => {
	it('starts from the prior; the first batch timed replaces the prior gain, later ones move it, recent ones weighing most', () => {
		const e = new CostEstimator(0.5);
		assert.deepEqual(e.costs(100), PRIOR_COSTS);
		e.record(1, 100, 100); // 1 ms a token alone
		assert.deepEqual(e.costs(100), { single: 1, gain: PRIOR_COSTS.gain }, 'the gain stays the prior until a batch is timed');
		e.record(2, 100, 160); // 0.8 ms a padded token in a batch of 2: 0.2 cheaper over 1 − 1/2, an observed gain of 0.4
		assert.ok(Math.abs(e.costs(100).gain - 0.4) < 1e-12, JSON.stringify(e.costs(100)));
		e.record(1, 200, 400); // 2 ms a token: the estimate moves halfway
		assert.equal(e.costs(100).single, 1.5);
		e.record(2, 100, 180); // 0.9 of 1.5 a token: an observed gain of 0.8, halfway from 0.4
		assert.ok(Math.abs(e.costs(100).gain - 0.6) < 1e-12, JSON.stringify(e.costs(100)));
		e.record(2, 10, 0); // nothing to learn from a zero time
		assert.equal(e.costs(100).single, 1.5);
	});

	it('a batch timed before any pair alone gives the single cost through the gain believed so far', () => {
		const e = new CostEstimator();
		e.record(4, 100, 400 * rowCost(PRIOR_COSTS, 4));
		assert.ok(Math.abs(e.costs(100).single - 1) < 1e-12, JSON.stringify(e.costs(100)));
	});

	it('batches stop as soon as one is measured slower than pairs alone', () => {
		const e = new CostEstimator();
		e.record(1, 400, 400);
		e.record(4, 400, 4 * 400 * 1.1); // every padded row 10% dearer than alone
		assert.ok(e.costs(400).gain < 0);
		assert.deepEqual(sorted(planBatches([400, 400, 400], w => e.costs(w))), [[0], [1], [2]]);
	});

	it('keeps what batching saves by width: batched at 128 tokens where it paid, one by one at 512 where it did not', () => {
		const e = new CostEstimator();
		e.record(1, 128, 128);
		e.record(4, 128, 4 * 128 * 0.8);
		e.record(1, 512, 512);
		e.record(4, 512, 4 * 512 * 1.1);
		const at = (w: number) => e.costs(w);
		assert.deepEqual(sorted(planBatches([128, 128, 128], at)), [[0, 1, 2]]);
		assert.deepEqual(sorted(planBatches([512, 512, 512], at)), [[0], [1], [2]]);
		// A width not measured yet takes its nearest measured one's gain.
		assert.deepEqual(sorted(planBatches([100, 100], at)), [[0, 1]]);
		assert.deepEqual(sorted(planBatches([700, 700], at)), [[0], [1]]);
	});

	it('tries a batch again after a while and a few pairs alone, so one slow moment does not stop batching for good', () => {
		let now = 0;
		const e = new CostEstimator(0.3, 0.05, 60_000, () => now);
		e.record(1, 400, 400);
		e.record(4, 400, 4 * 400 * 1.1);
		const plan = () => sorted(planBatches([400, 400, 400], w => e.costs(w)));
		for (let i = 0; i < 20; i++) e.record(1, 400, 400);
		assert.deepEqual(plan(), [[0], [1], [2]], 'one by one for the next runs, however many pairs');
		now = 60_000;
		e.record(1, 400, 400);
		assert.deepEqual(plan(), [[0], [1], [2]], 'still one by one after one more pair');
		for (let i = 0; i < 9; i++) e.record(1, 400, 400);
		assert.deepEqual(plan(), [[0, 1, 2]], 'a batch again after the time and ten pairs alone');
	});
});

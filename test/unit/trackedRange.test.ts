import * as assert from 'node:assert/strict';
import { TrackedRange } from '../../src/core/trackedRange';

describe('TrackedRange', () => {
	it('shifts with edits before it', () => {
		const r = new TrackedRange(10, 20);
		r.update([{ rangeOffset: 0, rangeLength: 2, text: 'abcde' }]);
		assert.deepEqual([r.start, r.end, r.changed], [13, 23, false]);
		r.update([{ rangeOffset: 13, rangeLength: 0, text: 'xy' }]); // insertion at its start
		assert.deepEqual([r.start, r.end, r.changed], [15, 25, false]);
	});

	it('ignores edits after it, including an insertion at its end', () => {
		const r = new TrackedRange(10, 20);
		r.update([
			{ rangeOffset: 20, rangeLength: 0, text: 'tail' },
			{ rangeOffset: 30, rangeLength: 5, text: '' },
		]);
		assert.deepEqual([r.start, r.end, r.changed], [10, 20, false]);
	});

	it('marks itself changed when an edit touches it', () => {
		for (const change of [
			{ rangeOffset: 15, rangeLength: 0, text: 'x' },
			{ rangeOffset: 5, rangeLength: 6, text: '' },
			{ rangeOffset: 19, rangeLength: 3, text: 'y' },
			{ rangeOffset: 0, rangeLength: 100, text: 'all new' },
		]) {
			const r = new TrackedRange(10, 20);
			r.update([change]);
			assert.equal(r.changed, true, JSON.stringify(change));
		}
	});
});

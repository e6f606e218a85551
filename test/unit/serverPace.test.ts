/**
 * The measurement behind holding scores: recorded chunk times (ms) and score calls, no clock of its own.
 * Figure 1b's CPU-bound server nearly stops while a score runs; figure 1's waiting server does not.
 */
import * as assert from 'node:assert/strict';
import { SLOWED_BELOW, ServerPace } from '../../src/core/serverPace';

/** One stream's chunks every `gapMs` from `from` (inclusive) to `to` (exclusive). */
function stream(pace: ServerPace, id: number, from: number, to: number, gapMs: number): number {
	let t = from;
	for (; t < to; t += gapMs) pace.chunk(id, t);
	return t;
}

describe('ServerPace', () => {
	it('finds the streams slowed when they stall while a score runs (a server on the same CPU)', () => {
		const pace = new ServerPace();
		// Candidate 1 streams at 20 ms a token, then is scored for 400 ms while candidate 2 makes a token every 200 ms.
		stream(pace, 0, 0, 1000, 20);
		pace.end(0, 1000);
		pace.scoreStarted(1000);
		stream(pace, 1, 1010, 1400, 200);
		pace.scoreEnded(1400);
		stream(pace, 1, 1420, 2000, 20);
		const reading = pace.read(2000);
		assert.ok(reading.ratio !== undefined && reading.ratio < 0.2, JSON.stringify(reading));
		assert.equal(pace.slowed(2000), true);
	});

	it('does not when the streams keep their pace through the score (a server elsewhere)', () => {
		const pace = new ServerPace();
		stream(pace, 0, 0, 1000, 20);
		pace.end(0, 1000);
		pace.scoreStarted(1000);
		stream(pace, 1, 1010, 1400, 21);
		pace.scoreEnded(1400);
		stream(pace, 1, 1400, 2000, 20);
		const reading = pace.read(2000);
		assert.ok(reading.ratio !== undefined && reading.ratio > 0.9, JSON.stringify(reading));
		assert.equal(pace.slowed(2000), false);
	});

	it('counts a stall that spans the whole score as a stall, not as missing data', () => {
		const pace = new ServerPace();
		stream(pace, 0, 0, 1000, 20);
		pace.scoreStarted(1000);
		// No chunk at all until the score ends.
		pace.scoreEnded(1500);
		stream(pace, 0, 1500, 1600, 20);
		assert.equal(pace.slowed(1600), true);
	});

	it('compares chunks, so a server that sends tokens in bursts is not taken for a slowed one', () => {
		const pace = new ServerPace();
		// Four tokens at once every 80 ms, before and during the score alike.
		const bursts = (from: number, to: number) => {
			for (let t = from; t < to; t += 80) for (let i = 0; i < 4; i++) pace.chunk(0, t);
		};
		bursts(0, 1000);
		pace.scoreStarted(1000);
		bursts(1040, 1500);
		pace.scoreEnded(1500);
		const reading = pace.read(1500);
		assert.ok(reading.ratio !== undefined && reading.ratio > SLOWED_BELOW, JSON.stringify(reading));
	});

	it('says nothing when the scores overlapped too little stream time to tell (candidates that end together)', () => {
		const pace = new ServerPace();
		for (const id of [0, 1, 2, 3]) stream(pace, id, 0, 1000, 20);
		pace.end(0, 1000);
		pace.scoreStarted(1000);
		// The others end within a few milliseconds, with no chunk while the score runs.
		for (const id of [1, 2, 3]) pace.end(id, 1003);
		pace.scoreEnded(1400);
		assert.equal(pace.read(1400).ratio, undefined);
		assert.equal(pace.slowed(1400), false);
	});

	it("leaves a stream's wait for its first token out of its pace", () => {
		const pace = new ServerPace();
		stream(pace, 0, 0, 1000, 20);
		pace.end(0, 1000);
		// Candidate 2's prompt takes 900 ms to process, while nothing is scored; then it streams as fast as 1 did.
		pace.scoreStarted(1000);
		stream(pace, 1, 1900, 2400, 20);
		pace.scoreEnded(2400);
		assert.equal(pace.slowed(2400), false);
	});
});

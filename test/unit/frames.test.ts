/** The picker draws at most once per animation frame, from the newest snapshot. */
import * as assert from 'node:assert/strict';
import { frameScheduler } from '../../src/webview/frames';

function fakeFrames() {
	const queued: Array<() => void> = [];
	return {
		request: (callback: () => void) => void queued.push(callback),
		/** The browser paints: every callback asked for so far runs. */
		tick: () => queued.splice(0).forEach(cb => cb()),
		get queued() {
			return queued.length;
		},
	};
}

describe('frameScheduler', () => {
	it('many requests between two frames draw once, in the frame', () => {
		const browser = fakeFrames();
		let state = 0;
		const drawn: number[] = [];
		const frames = frameScheduler(() => drawn.push(state), browser.request);
		for (state = 1; state <= 5; state++) frames.request();
		state = 5;
		assert.deepEqual(drawn, [], 'nothing drawn before the frame');
		assert.equal(browser.queued, 1, 'one frame asked for');
		browser.tick();
		assert.deepEqual(drawn, [5], 'the newest state, once');
		browser.tick();
		assert.deepEqual(drawn, [5], 'no frame without a request');
		frames.request();
		browser.tick();
		assert.deepEqual(drawn, [5, 5]);
	});

	it('flush draws a pending frame now and only once; without one it draws nothing', () => {
		const browser = fakeFrames();
		let draws = 0;
		const frames = frameScheduler(() => draws++, browser.request);
		assert.equal(frames.flush(), false);
		frames.request();
		assert.equal(frames.flush(), true);
		assert.equal(draws, 1);
		browser.tick();
		assert.equal(draws, 1, 'the frame finds nothing left to draw');
	});
});

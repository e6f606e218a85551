/**
 * The worker life both worker clients share: the idle clock that unloads a model, and the one load
 * every caller joins. The clients' own tests (reward.test.ts, builtin.test.ts) run these on real
 * worker threads; these pin the rules with no thread, on real timers.
 */
import * as assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadProgress } from '../../src/core/reward';
import { IdleClock, SharedLoad } from '../../src/core/workerLifetime';

describe('IdleClock', () => {
	/** Records each time it goes off; `next()` waits for the next one (a busy machine may delay a timer). */
	function recorder(): { fired: number[]; onIdle: (ms: number) => void; next: () => Promise<void> } {
		const fired: number[] = [];
		let wake: (() => void) | undefined;
		return {
			fired,
			onIdle: ms => {
				fired.push(ms);
				wake?.();
			},
			next: () => new Promise<void>(r => (wake = r)),
		};
	}

	it('goes off once, ms after the last call ends, never while a call is in progress', async () => {
		const { fired, onIdle, next } = recorder();
		const clock = new IdleClock(30, onIdle);
		clock.begin();
		clock.begin();
		clock.end();
		await sleep(80);
		assert.deepEqual(fired, [], 'one call is still in progress');
		const idle = next();
		clock.end();
		await idle;
		await sleep(80);
		assert.deepEqual(fired, [30], 'once');
	});

	it('takes a new time at once: a worker idle now starts again from it, and 0 keeps it', async () => {
		const { fired, onIdle, next } = recorder();
		const clock = new IdleClock(0, onIdle);
		clock.begin();
		clock.end();
		await sleep(50);
		assert.deepEqual(fired, [], '0 keeps the worker');
		const idle = next();
		clock.ms = 20; // the setting changed while the worker was idle
		await idle;
		assert.deepEqual(fired, [20]);
		clock.ms = 40;
		clock.ms = 0; // changed back before it went off
		await sleep(80);
		assert.deepEqual(fired, [20]);
	});

	it('never goes off once stopped', async () => {
		const fired: number[] = [];
		const clock = new IdleClock(20, ms => fired.push(ms));
		clock.begin();
		clock.end();
		clock.stop();
		clock.ms = 10;
		await sleep(60);
		assert.deepEqual(fired, []);
	});
});

describe('SharedLoad', () => {
	function deferred(): {
		load: SharedLoad<string>;
		progress: (p: LoadProgress) => void;
		finish: (v: string) => void;
		fail: (e: Error) => void;
	} {
		let progress!: (p: LoadProgress) => void;
		let finish!: (v: string) => void;
		let fail!: (e: Error) => void;
		const load = new SharedLoad<string>(
			p =>
				new Promise<string>((resolve, reject) => {
					progress = p;
					finish = resolve;
					fail = reject;
				}),
		);
		return { load, progress: p => progress(p), finish: v => finish(v), fail: e => fail(e) };
	}
	const file: LoadProgress = { status: 'progress', file: 'onnx/model.onnx', percent: 50, loaded: 5, total: 10 };

	it('gives every caller the answer and its progress; one that stops waiting leaves the others loading', async () => {
		const d = deferred();
		let abandoned = 0;
		const seen: string[] = [];
		const leaving = new AbortController();
		const a = d.load.join(
			new AbortController().signal,
			() => seen.push('a'),
			() => abandoned++,
		);
		const b = d.load.join(
			leaving.signal,
			() => seen.push('b'),
			() => abandoned++,
		);
		d.progress(file);
		leaving.abort();
		await assert.rejects(b, /cancel/i);
		d.progress(file);
		d.finish('model');
		assert.equal(await a, 'model');
		assert.deepEqual(seen, ['a', 'b', 'a'], 'a caller that left hears no more progress');
		assert.equal(abandoned, 0, 'someone still waited');
	});

	it('is abandoned once, when the last caller stops waiting for a load still under way', async () => {
		const d = deferred();
		let abandoned = 0;
		const one = new AbortController();
		const two = new AbortController();
		const a = d.load.join(one.signal, undefined, () => abandoned++);
		const b = d.load.join(two.signal, undefined, () => abandoned++);
		one.abort();
		await assert.rejects(a, /cancel/i);
		assert.equal(abandoned, 0);
		two.abort();
		await assert.rejects(b, /cancel/i);
		assert.equal(abandoned, 1);
	});

	it('is not abandoned when the last caller leaves after the load ended, and a failure reaches every caller', async () => {
		const d = deferred();
		let abandoned = 0;
		const leaving = new AbortController();
		const a = d.load.join(leaving.signal, undefined, () => abandoned++);
		const b = d.load.join(new AbortController().signal, undefined, () => abandoned++);
		d.fail(new Error('no such model'));
		await assert.rejects(a, /no such model/);
		await assert.rejects(b, /no such model/);
		leaving.abort();
		assert.equal(abandoned, 0);
	});
});

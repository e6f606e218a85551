/**
 * Figure 5a's split of ours' call (bench/runStamps.ts, bench/runStampsHook.js): a scorer started
 * through `RunStamps.fork` notes each pass, one inside each call the bench times, and nothing else
 * gets the hook: not the bench's own environment after the fork, not a scorer started without it.
 * The real worker bundle and onnxruntime on the tiny generated model.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunStamps, sharedNow } from '../../bench/runStamps';
import type { RewardPair } from '../../src/core/reward';
import { RewardWorkerClient } from '../../src/reward/rewardClient';
import { writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { ensureWorkerBundle } from '../fixtures/workerBundle';

const ROOT = path.join(__dirname, '..', '..');
const WORKER = path.join(ROOT, 'dist', 'rewardWorker.js');
const PAIR: RewardPair = { prompt: 'Rewrite this function.', response: 'The function returns the sum of the list.' };
const never = () => new AbortController().signal;

describe('figure 5a: ours own session.run read inside its scorer (bench/runStamps.ts)', () => {
	let tmp: string;
	let model: string;
	const clients: RewardWorkerClient[] = [];

	before(function () {
		this.timeout(60_000);
		ensureWorkerBundle('src/reward/worker.ts', WORKER, ['src/reward', 'src/core']);
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bon-runstamps-'));
		model = writeTinyRewardModel(path.join(tmp, 'model'));
	});

	after(() => {
		for (const c of clients) c.dispose();
		fs.rmSync(tmp, { recursive: true, force: true });
	});

	function client(): RewardWorkerClient {
		const c = new RewardWorkerClient({
			workerPath: WORKER,
			request: { model, dtype: 'fp32', cacheDir: path.join(tmp, 'cache'), allowRemote: false, threads: 1, warmUp: false },
			idleMs: 0,
		});
		clients.push(c);
		return c;
	}

	async function timedCall(c: RewardWorkerClient): Promise<{ from: number; to: number; scores: number[] }> {
		const from = sharedNow();
		const scores = await c.score([PAIR], never());
		return { from, to: sharedNow(), scores };
	}

	it('finds one pass inside each call of a scorer started through fork, and leaves the environment as it was', async () => {
		const env = { ...process.env };
		const stamps = new RunStamps(path.join(tmp, 'hooked.txt'));
		const c = client();
		await stamps.fork(() => c.load(never()));
		assert.deepEqual({ ...process.env }, env, "the bench's own environment after the fork");
		const plain = await timedCall(client());
		for (let i = 0; i < 3; i++) {
			const call = await timedCall(c);
			assert.deepEqual(call.scores, plain.scores, 'the hooked scorer scores as the plain one');
			const run = await stamps.runWithin(call.from, call.to);
			assert.ok(run > 0 && run <= call.to - call.from, `pass ${run} ms inside a call of ${call.to - call.from} ms`);
		}
	});

	it('finds nothing for a scorer started without it', async () => {
		const stamps = new RunStamps(path.join(tmp, 'plain.txt'));
		const c = client();
		await c.load(never());
		const call = await timedCall(c);
		await assert.rejects(stamps.runWithin(call.from, call.to), /the hook did not load/);
		assert.equal(fs.existsSync(path.join(tmp, 'plain.txt')), false);
	});
});

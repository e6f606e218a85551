/**
 * A reward model served by vLLM's pooling runner, against the loopback server's `/v1/models` and
 * `/pooling` (test/fixtures/fakeVllm.ts), in each shape vLLM answers `data[i].data`.
 */
import * as assert from 'node:assert/strict';
import { BestOfNError } from '../../src/core/errors';
import { BestOfNRun } from '../../src/core/run';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { rewriteTask } from '../../src/core/tasks/rewrite';
import { createBackend } from '../../src/generation/backends';
import { scoreOf, ServedRewardScorer } from '../../src/reward/servedScorer';
import { FakeVllm, type PoolingShape } from '../fixtures/fakeVllm';
import { at } from '../fixtures/present';

const RM = 'Skywork/Skywork-Reward-V2-Qwen3-0.6B';
/** A deterministic stand-in reward: longer answers score higher, and the prompt counts a little. */
const reward = (messages: ReadonlyArray<{ role: string; content: string }>) =>
	messages.find(m => m.role === 'assistant')!.content.length / 10 + messages.find(m => m.role === 'user')!.content.length / 1000;

describe('ServedRewardScorer against a vLLM pooling server', () => {
	let fake: FakeVllm;
	beforeEach(async () => {
		fake = new FakeVllm({ models: [RM], reward });
		await fake.start();
	});
	afterEach(async () => {
		await fake.close();
	});

	it('reads the model id from /v1/models and scores each pair as a user/assistant chat', async () => {
		const scorer = new ServedRewardScorer({ url: fake.url });
		const progress: string[] = [];
		const info = await scorer.load(new AbortController().signal, p => progress.push(p.status));
		assert.equal(info.id, RM);
		assert.equal(info.source, 'server');
		assert.deepEqual(progress, ['initiate', 'ready']);
		const pairs = [
			{ prompt: 'make it short', response: 'ok' },
			{ prompt: 'make it short', response: 'a longer answer' },
		];
		const scores = await scorer.score(pairs, new AbortController().signal);
		assert.deepEqual(
			scores,
			pairs.map(p =>
				reward([
					{ role: 'user', content: p.prompt },
					{ role: 'assistant', content: p.response },
				]),
			),
		);
		assert.deepEqual(at(fake.poolingRequests, 0).body, {
			model: RM,
			messages: [
				{ role: 'user', content: 'make it short' },
				{ role: 'assistant', content: 'ok' },
			],
			use_activation: false,
		});
	});

	it("asks for the raw reward: with the pooler's sigmoid, large rewards would all read 1.0 and tie", async () => {
		fake.reward = m => 20 + at(m, 1).content.length;
		const pairs = [
			{ prompt: 'p', response: 'good' },
			{ prompt: 'p', response: 'better one' },
		];
		const scores = await new ServedRewardScorer({ url: fake.url }).score(pairs, new AbortController().signal);
		assert.deepEqual(scores, [24, 30]);
		// What the same server answers a client that leaves the activation on: both read 1, a tie.
		const activated = async (response: string) => {
			const answer = await fetch(`${fake.url}/pooling`, {
				method: 'POST',
				body: JSON.stringify({
					model: RM,
					messages: [
						{ role: 'user', content: 'p' },
						{ role: 'assistant', content: response },
					],
				}),
			});
			return at(at(((await answer.json()) as { data: Array<{ data: number[] }> }).data, 0).data, 0);
		};
		assert.deepEqual(await Promise.all(pairs.map(p => activated(p.response))), [1, 1]);
	});

	for (const shape of ['list', 'nested', 'per-token', 'number'] as PoolingShape[]) {
		it(`takes the score from data[0].data shaped ${shape}`, async () => {
			fake.poolingShape = shape;
			const [score] = await new ServedRewardScorer({ url: `${fake.url}/v1/` }).score(
				[{ prompt: 'p', response: 'twelve chars' }],
				new AbortController().signal,
			);
			assert.equal(score, 1.2 + 0.001);
		});
	}

	it('sends the pairs concurrently', async () => {
		fake.poolingDelayMs = 400;
		const pairs = Array.from({ length: 5 }, (_, i) => ({ prompt: 'p', response: `answer ${i}` }));
		await new ServedRewardScorer({ url: fake.url }).score(pairs, new AbortController().signal);
		assert.equal(fake.maxPoolingActive, 5);
	});

	it('a cancel during scoring rejects cancelled and leaves nothing open', async () => {
		fake.poolingDelayMs = 5000;
		const scorer = new ServedRewardScorer({ url: fake.url });
		await scorer.load(new AbortController().signal);
		const controller = new AbortController();
		const scoring = scorer.score([{ prompt: 'p', response: 'r' }], controller.signal);
		setTimeout(() => controller.abort(), 50);
		const error = await scoring.catch(e => e);
		assert.ok(error instanceof BestOfNError && error.kind === 'cancelled', String(error));
		await fake.waitForIdle(1000);
	});

	it('nothing listening is reward-not-found naming the setting; the next load tries again', async () => {
		const gone = new FakeVllm({ models: [RM], reward });
		await gone.start();
		const url = gone.url;
		await gone.close();
		const scorer = new ServedRewardScorer({ url });
		const error = await scorer.load(new AbortController().signal).catch(e => e);
		assert.ok(error instanceof BestOfNError && error.kind === 'reward-not-found', String(error));
		assert.ok(error.message.includes(url) && error.message.includes('bestOfN.rewardModel'), error.message);
		assert.equal(error.setting, 'rewardModel');
	});

	it('a server without the pooling runner says how to start one', async () => {
		const generating = new FakeVllm({ models: ['Qwen/Qwen2.5-7B-Instruct'] });
		await generating.start();
		try {
			const error = await new ServedRewardScorer({ url: generating.url })
				.score([{ prompt: 'p', response: 'r' }], new AbortController().signal)
				.catch(e => e);
			assert.ok(error instanceof BestOfNError && error.kind === 'reward-failed', String(error));
			assert.ok(error.message.includes('no pooling API') && error.message.includes('--runner pooling'), error.message);
		} finally {
			await generating.close();
		}
	});

	it('a reward server that sends headers and then nothing fails the score after the idle timeout, naming the setting', async () => {
		const scorer = new ServedRewardScorer({ url: fake.url, idleMs: 1000 });
		await scorer.load(new AbortController().signal);
		fake.poolingSilence = true;
		const error = await scorer.score([{ prompt: 'p', response: 'r' }], new AbortController().signal).catch(e => e);
		assert.ok(error instanceof BestOfNError && error.kind === 'reward-failed', String(error));
		assert.ok(error.message.includes('sent nothing for 1 s') && error.message.includes('bestOfN.requestIdleSeconds'), error.message);
		assert.equal(error.setting, 'requestIdleSeconds');
		await fake.waitForIdle(1000);
	});

	for (const [fault, words] of [
		['silence', 'bestOfN.requestIdleSeconds'],
		['HTTP 500', 'HTTP 500: KV cache exhausted'],
	] as const) {
		for (const ranker of ['auto', 'reward'] as const) {
			it(`in a run, a reward server's ${fault} keeps every candidate; ranker ${ranker} ${ranker === 'auto' ? 'ranks by consensus' : 'leaves them unranked'}, saying why`, async () => {
				const gen = new FakeVllm({ models: ['Qwen/Qwen2.5-7B-Instruct'], respond: (_q, i) => `answer ${i}` });
				await gen.start();
				if (fault === 'silence') fake.poolingSilence = true;
				else fake.poolingError = { status: 500, message: 'KV cache exhausted' };
				try {
					const settings = {
						...DEFAULT_SETTINGS,
						backend: 'openai' as const,
						openaiBaseUrl: gen.baseUrl,
						model: 'Qwen/Qwen2.5-7B-Instruct',
						candidates: 3,
						rewardModel: fake.url,
						ranker,
						requestIdleSeconds: 1,
					};
					const { state } = await new BestOfNRun({
						runId: 1,
						task: rewriteTask({ instruction: 'i', text: 't', languageId: 'plaintext' }),
						settings,
						generator: createBackend(settings),
						scorer: new ServedRewardScorer({ url: fake.url, idleMs: settings.requestIdleSeconds * 1000 }),
					}).start();
					assert.equal(state.phase, 'done');
					assert.deepEqual(
						state.candidates.map(c => c.status),
						['done', 'done', 'done'],
					);
					assert.ok(state.notice?.text.includes(words), state.notice?.text);
					if (ranker === 'auto') {
						assert.equal(state.ranker.kind, 'consensus');
						assert.match(state.notice!.text, /^Ranked by consensus/);
						assert.ok(state.candidates.every(c => c.rank !== undefined));
					} else {
						assert.equal(state.notice!.severity, 'error');
						assert.ok(state.candidates.every(c => c.score === undefined));
					}
					await fake.waitForIdle(1000);
				} finally {
					await gen.close();
				}
			});
		}
	}

	it('scoreOf reads a number, a list, and the last row of per-token rows; nothing else', () => {
		assert.equal(scoreOf(2.5), 2.5);
		assert.equal(scoreOf([-1.25]), -1.25);
		assert.equal(scoreOf([[0.5]]), 0.5);
		assert.equal(scoreOf([[0.1], [0.2], [3]]), 3);
		assert.equal(scoreOf('base64…'), undefined);
		assert.equal(scoreOf([]), undefined);
	});

	it('in a run, the server model ranks and the picker names it', async () => {
		const gen = new FakeVllm({ models: ['Qwen/Qwen2.5-7B-Instruct'], respond: (_q, i) => 'x'.repeat(i + 1) });
		await gen.start();
		try {
			const settings = {
				...DEFAULT_SETTINGS,
				backend: 'openai' as const,
				openaiBaseUrl: gen.baseUrl,
				model: 'Qwen/Qwen2.5-7B-Instruct',
				candidates: 4,
				rewardModel: fake.url,
			};
			const run = new BestOfNRun({
				runId: 1,
				task: rewriteTask({ instruction: 'i', text: 't', languageId: 'plaintext' }),
				settings,
				generator: createBackend(settings),
				scorer: new ServedRewardScorer({ url: fake.url }),
			});
			const { state } = await run.start();
			assert.equal(state.ranker.kind, 'reward');
			assert.equal(state.ranker.label, RM);
			assert.deepEqual(
				state.candidates.map(c => c.text),
				['xxxx', 'xxx', 'xx', 'x'],
				'best first by the served scores',
			);
			assert.equal(fake.poolingRequests.length, 4);
		} finally {
			await gen.close();
		}
	});
});

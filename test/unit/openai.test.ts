/**
 * The OpenAI-compatible backend against a loopback server that speaks vLLM's flavour of the wire
 * format (test/fixtures/fakeVllm.ts): `n` choices interleaved in one SSE stream, `[DONE]`, the usage
 * chunk, HTTP errors, a cut stream, an error event, and a server that ignores `n`.
 */
import * as assert from 'node:assert/strict';
import { BestOfNError, type ErrorKind } from '../../src/core/errors';
import type { CandidateSink, GenerationBackend, GenerationRequest, GenerationResult } from '../../src/core/generation';
import { BestOfNRun } from '../../src/core/run';
import { DEFAULT_SETTINGS, type Settings } from '../../src/core/settings';
import { rewriteTask } from '../../src/core/tasks/rewrite';
import { createBackend } from '../../src/generation/backends';
import type { Logger } from '../../src/core/logger';
import { OpenAIGenerator } from '../../src/generation/openaiGenerator';
import { ServedRewardScorer } from '../../src/reward/servedScorer';
import { serverSentData } from '../../src/generation/sse';
import { defaultChoiceText, FakeVllm } from '../fixtures/fakeVllm';
import { at } from '../fixtures/present';

const MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const KEY = 'sk-test-5f2a9c0d1e7b4a3f';

function request(seed = 100, maxTokens = 256): GenerationRequest {
	return {
		model: MODEL,
		messages: [{ role: 'user', content: 'rewrite this' }],
		options: { temperature: 0.8, topP: 0.95, maxTokens, contextLength: 0, seed },
	};
}

interface Recorded {
	readonly order: Array<[number, string]>;
	readonly results: Map<number, GenerationResult>;
	readonly errors: Map<number, BestOfNError>;
	readonly sink: CandidateSink;
}

function recorder(): Recorded {
	const order: Array<[number, string]> = [];
	const results = new Map<number, GenerationResult>();
	const errors = new Map<number, BestOfNError>();
	return {
		order,
		results,
		errors,
		sink: {
			started: () => undefined,
			delta: (i, text) => order.push([i, text]),
			finished: (i, result) => results.set(i, result),
			failed: (i, e) => errors.set(i, e as BestOfNError),
		},
	};
}

function assertKind(error: unknown, kind: ErrorKind, ...includes: string[]): asserts error is BestOfNError {
	assert.ok(error instanceof BestOfNError, `expected a BestOfNError, got ${String(error)}`);
	assert.equal(error.kind, kind, error.message);
	for (const part of includes) assert.ok(error.message.includes(part), `"${error.message}" should include "${part}"`);
}

describe('OpenAI-compatible backend against a vLLM-like server', () => {
	let fake: FakeVllm;
	let generator: OpenAIGenerator;

	beforeEach(async () => {
		fake = new FakeVllm({ models: [MODEL], tokenDelayMs: 1 });
		await fake.start();
		generator = new OpenAIGenerator({ baseUrl: fake.baseUrl, ignoresN: new Set() });
	});
	afterEach(async () => {
		await fake.close();
	});

	it('asks for all N in one request with n; the interleaved choices come back whole, each by its index', async () => {
		const r = recorder();
		await generator.generateMany(request(), 4, 1, new AbortController().signal, r.sink);
		assert.equal(fake.requests.length, 1);
		const body = at(fake.requests, 0).body;
		assert.equal(body.n, 4);
		assert.equal(body.stream, true);
		assert.deepEqual(body.stream_options, { include_usage: true });
		assert.equal(body.seed, 100);
		assert.equal(body.max_tokens, 256);
		assert.equal(body.top_p, 0.95);
		for (let i = 0; i < 4; i++) {
			assert.equal(r.results.get(i)?.text, defaultChoiceText(at(fake.requests, 0), i));
			assert.equal(r.results.get(i)?.doneReason, 'stop');
		}
		const indices = r.order.map(([i]) => i);
		assert.ok(
			indices.some((index, k) => k > 0 && index < at(indices, k - 1)),
			`choices interleave in the stream: ${indices.join(',')}`,
		);
		assert.equal(r.errors.size, 0);
	});

	it('one candidate reads its token count from the usage chunk before [DONE]', async () => {
		const deltas: string[] = [];
		const result = await generator.generate(request(), new AbortController().signal, d => deltas.push(d));
		assert.equal(result.text, deltas.join(''));
		assert.equal(result.text, defaultChoiceText(at(fake.requests, 0), 0));
		assert.equal(result.tokens, result.text.trim().split(/\s+/).length);
		assert.equal(at(fake.requests, 0).body.n, undefined, 'n is only sent when it is more than one');
	});

	it('finish_reason "length" is the same cut flag as Ollama\'s done_reason', async () => {
		const r = recorder();
		await generator.generateMany(request(100, 3), 2, 1, new AbortController().signal, r.sink);
		for (const i of [0, 1]) {
			assert.equal(r.results.get(i)?.doneReason, 'length');
			assert.equal(r.results.get(i)?.text.trim().split(/\s+/).length, 3);
		}
	});

	it('a server that ignores n is asked for the rest one per request with distinct seeds, and remembered', async () => {
		fake.honoursN = false;
		const r = recorder();
		await generator.generateMany(request(500), 4, 2, new AbortController().signal, r.sink);
		assert.equal(fake.requests.length, 4);
		assert.deepEqual(
			fake.requests.map(q => [q.body.n, q.body.seed]),
			[
				[4, 500],
				[undefined, 501],
				[undefined, 502],
				[undefined, 503],
			],
		);
		assert.equal(new Set([...r.results.values()].map(x => x.text)).size, 4, 'four different candidates');
		fake.reset();
		const again = recorder();
		await generator.generateMany(request(700), 3, 3, new AbortController().signal, again.sink);
		assert.deepEqual(
			fake.requests.map(q => [q.body.n, q.body.seed]).sort(),
			[
				[undefined, 700],
				[undefined, 701],
				[undefined, 702],
			],
			'no second try with n for the same server',
		);
		assert.equal(again.results.size, 3);
	});

	it('a server that refuses n with HTTP 400 gets one request per candidate instead', async () => {
		fake.errorFor = q => ((q.body.n ?? 1) > 1 ? { status: 400, message: 'Only one completion choice is allowed' } : undefined);
		const r = recorder();
		await generator.generateMany(request(), 3, 1, new AbortController().signal, r.sink);
		assert.deepEqual(
			fake.requests.map(q => q.body.n),
			[3, undefined, undefined, undefined],
		);
		assert.equal(r.results.size, 3);
	});

	it('lists the served models from /v1/models, with the window vLLM gives each (max_model_len)', async () => {
		fake.models = [MODEL, 'meta-llama/Llama-3.1-8B-Instruct'];
		fake.maxModelLen = 4096;
		assert.deepEqual(
			(await generator.listModels()).map(m => [m.name, m.contextLength]),
			[
				[MODEL, 4096],
				['meta-llama/Llama-3.1-8B-Instruct', 4096],
			],
		);
		fake.maxModelLen = 32768;
		assert.equal((generator as GenerationBackend).pullModel, undefined, 'an OpenAI-compatible server cannot pull');
	});

	it('a model the server does not serve is model-not-found, in its words, naming the setting', async () => {
		const error = await generator
			.generate({ ...request(), model: 'nope/nope' }, new AbortController().signal, () => undefined)
			.catch(e => e);
		assertKind(error, 'model-not-found', '"nope/nope"', fake.baseUrl, 'does not exist', 'bestOfN.model');
		assert.equal(error.setting, 'model');
	});

	it('HTTP 500 is a server error in its words that fails only the candidates of that request', async () => {
		fake.errorFor = () => ({ status: 500, message: 'CUDA out of memory', type: 'InternalServerError' });
		const r = recorder();
		await generator.generateMany(request(), 2, 1, new AbortController().signal, r.sink);
		assert.equal(r.errors.size, 2);
		assertKind(r.errors.get(0), 'server', 'HTTP 500', 'CUDA out of memory');
	});

	it('an error event inside the stream fails the unfinished candidates with its words', async () => {
		fake.errorFor = () => ({ status: 500, message: 'engine dead', afterChunks: 4 });
		const r = recorder();
		await generator.generateMany(request(), 2, 1, new AbortController().signal, r.sink);
		assertKind(r.errors.get(0), 'server', 'engine dead');
		assertKind(r.errors.get(1), 'server', 'engine dead');
		await fake.waitForIdle();
	});

	it('a stream cut before [DONE] is stream-cut, and a finished choice stays finished', async () => {
		fake.respond = (_q, i) => (i === 0 ? 'short' : 'a much longer answer that goes on and on');
		fake.cutAfterChunks = 6;
		const r = recorder();
		await generator.generateMany(request(), 2, 1, new AbortController().signal, r.sink);
		assert.equal(r.results.get(0)?.text, 'short');
		assertKind(r.errors.get(1), 'stream-cut', fake.baseUrl, 'the candidate finished');
		fake.respond = () => 'a much longer answer that goes on and on';
		const single = await generator.generate(request(), new AbortController().signal, () => undefined).catch(e => e);
		assertKind(single, 'stream-cut');
	});

	it('a server that sends headers and then nothing fails the silent request after the idle timeout, naming the setting', async () => {
		const idle = new OpenAIGenerator({ baseUrl: fake.baseUrl, ignoresN: new Set(), idleMs: 1000 });
		fake.respond = (_q, i) => (i === 0 ? 'short' : 'a much longer answer that goes on and on');
		// With n, the choices share a request: one that finished before the silence stays finished.
		fake.faultFor = () => ({ kind: 'silence', afterChunks: 6 });
		const r = recorder();
		await idle.generateMany(request(), 2, 1, new AbortController().signal, r.sink);
		assert.equal(r.results.get(0)?.text, 'short');
		assertKind(r.errors.get(1), 'server', fake.baseUrl, 'sent nothing for 1 s', 'bestOfN.requestIdleSeconds');
		assert.equal(r.errors.get(1)?.setting, 'requestIdleSeconds');
		// One per request: only the silent request's candidate fails.
		fake.faultFor = q => (q.id === 3 ? { kind: 'silence', afterChunks: 0 } : undefined);
		const each = recorder();
		await new OpenAIGenerator({ baseUrl: fake.baseUrl, ignoresN: new Set([fake.baseUrl]), idleMs: 1000 }).generateMany(
			request(),
			3,
			3,
			new AbortController().signal,
			each.sink,
		);
		assert.deepEqual([...each.results.keys()].sort(), [0, 2]);
		assertKind(each.errors.get(1), 'server', 'sent nothing for 1 s');
		await fake.waitForIdle(1000);
	});

	it('cancel mid-stream closes the request at once and leaves nothing open at the server', async () => {
		fake.tokenDelayMs = 20;
		fake.respond = () => 'word '.repeat(200);
		const controller = new AbortController();
		const r = recorder();
		const running = generator.generateMany(request(), 4, 1, controller.signal, {
			...r.sink,
			delta: (i, t) => {
				r.order.push([i, t]);
				if (r.order.length === 8) controller.abort();
			},
		});
		await running;
		assert.equal(r.results.size + r.errors.size, 0, 'a cancelled candidate is neither finished nor failed');
		await fake.waitForIdle(1000);
		assert.equal(fake.openRequests, 0);
	});

	it('an unreachable base URL is unreachable, naming the setting', async () => {
		const closed = new FakeVllm();
		await closed.start();
		const url = closed.baseUrl;
		await closed.close();
		const error = await new OpenAIGenerator({ baseUrl: url })
			.generate(request(), new AbortController().signal, () => undefined)
			.catch(e => e);
		assertKind(error, 'unreachable', url, 'bestOfN.openai.baseUrl');
	});

	it('a base URL without the OpenAI API (missing /v1) says so', async () => {
		const error = await new OpenAIGenerator({ baseUrl: fake.url }).listModels().catch(e => e);
		assertKind(error, 'unreachable', 'no OpenAI-compatible API', '/v1');
	});
});

describe('API keys', () => {
	let fake: FakeVllm;
	beforeEach(async () => {
		fake = new FakeVllm({ models: [MODEL], apiKey: KEY });
		await fake.start();
	});
	afterEach(async () => {
		await fake.close();
	});

	it('sends the key as a bearer token, and only there', async () => {
		const backend = createBackend(
			{ ...DEFAULT_SETTINGS, backend: 'openai', openaiBaseUrl: fake.baseUrl, model: MODEL },
			{ apiKey: async () => KEY },
		);
		const result = await backend.generate(request(), new AbortController().signal, () => undefined);
		assert.ok(result.text);
		assert.deepEqual(fake.authorizations, [`Bearer ${KEY}`]);
		assert.ok(!JSON.stringify(at(fake.requests, 0).body).includes(KEY), 'not in the body');
	});

	it('without a key, or with a wrong one, is unauthorized and never quotes the key', async () => {
		const none = await new OpenAIGenerator({ baseUrl: fake.baseUrl }).listModels().catch(e => e);
		assertKind(none, 'unauthorized', 'HTTP 401', 'Unauthorized', 'needs an API key');
		const wrong = 'sk-wrong-0123456789abcdef';
		// OpenAI itself quotes a wrong key back, masked: the message must not carry even that.
		const quoting = new FakeVllm({ models: [MODEL] });
		await quoting.start();
		quoting.errorFor = () => ({
			status: 401,
			message: `Incorrect API key provided: ${wrong.slice(0, 8)}***cdef. You can find your API key at …`,
		});
		try {
			const error = await new OpenAIGenerator({ baseUrl: quoting.baseUrl, apiKey: async () => wrong })
				.generate(request(), new AbortController().signal, () => undefined)
				.catch(e => e);
			assertKind(error, 'unauthorized', 'was not accepted');
			assert.ok(!error.message.includes(wrong.slice(0, 8)), error.message);
			assert.ok(!JSON.stringify(error).includes(wrong), 'not in any property either');
		} finally {
			await quoting.close();
		}
	});
});

/** Every line logged, with any error's message, stack, own fields and causes written out. */
function capturingLogger(): Logger & { readonly text: () => string } {
	const lines: string[] = [];
	const write = (e: unknown): string => {
		if (!(e instanceof Error)) return typeof e === 'string' ? e : JSON.stringify(e);
		return [e.message, e.stack ?? '', JSON.stringify({ ...e }), e.cause === undefined ? '' : write(e.cause)].join('\n');
	};
	const log = (message: unknown, ...args: unknown[]) => lines.push([message, ...args].map(write).join(' '));
	return { trace: log, debug: log, info: log, warn: log, error: log, text: () => lines.join('\n') };
}

describe('API keys never leave the Authorization header', () => {
	it('a run with a served reward model: not in the log, the picker state, an error or a request body', async () => {
		const gen = new FakeVllm({ models: [MODEL], apiKey: KEY, tokenDelayMs: 1 });
		const rm = new FakeVllm({ models: ['Skywork/Skywork-Reward-V2-Qwen3-0.6B'], apiKey: KEY, reward: m => at(m, 1).content.length });
		// A server that quotes a refused key back, masked, as OpenAI's API does.
		const quoting = new FakeVllm({ models: [MODEL] });
		quoting.errorFor = q => ({
			status: 401,
			message: `Incorrect API key provided: ${q.authorization?.slice(7, 15)}***${KEY.slice(-4)}.`,
		});
		await Promise.all([gen.start(), rm.start(), quoting.start()]);
		try {
			const logger = capturingLogger();
			const settings: Settings = {
				...DEFAULT_SETTINGS,
				backend: 'openai',
				openaiBaseUrl: gen.baseUrl,
				model: MODEL,
				candidates: 3,
				rewardModel: rm.url,
				ranker: 'reward',
			};
			const task = rewriteTask({ instruction: 'shorter', text: 'some text here', languageId: 'plaintext' });
			const apiKey = async () => KEY;
			const ok = await new BestOfNRun({
				runId: 1,
				task,
				settings,
				generator: createBackend(settings, { logger, apiKey }),
				scorer: new ServedRewardScorer({ url: rm.url, logger, apiKey }),
				logger,
			}).start();
			assert.equal(ok.state.phase, 'done', ok.state.notice?.text);
			assert.equal(ok.state.ranker.kind, 'reward');
			assert.ok([...gen.authorizations, ...rm.authorizations].every(a => a === `Bearer ${KEY}`) && rm.authorizations.length > 0);

			const refusedSettings = { ...settings, openaiBaseUrl: quoting.baseUrl };
			const refused = await new BestOfNRun({
				runId: 2,
				task,
				settings: refusedSettings,
				generator: createBackend(refusedSettings, { logger, apiKey }),
				logger,
			}).start();
			assert.equal(refused.state.phase, 'failed');
			assertKind(refused.error, 'unauthorized', 'Incorrect API key provided: [key]');

			const seen = {
				log: logger.text(),
				states: JSON.stringify([ok.state, refused.state]),
				error: [refused.error.message, refused.error.stack, JSON.stringify({ ...refused.error })].join('\n'),
				bodies: JSON.stringify([...gen.requests, ...quoting.requests, ...rm.poolingRequests].map(q => q.body)),
			};
			assert.ok(seen.log.includes('Incorrect API key provided'), 'the log has the refusal (so this looks at real lines)');
			for (const [where, text] of Object.entries(seen)) {
				assert.ok(!text.includes(KEY), `the key is in the ${where}`);
				assert.ok(!text.includes(KEY.slice(0, 8)), `the start of the key is in the ${where}`);
			}
		} finally {
			await Promise.all([gen.close(), rm.close(), quoting.close()]);
		}
	});
});

describe('N = 8 against a server with 8 parallel slots', () => {
	const settings = (baseUrl: string, concurrency: number): Settings => ({
		...DEFAULT_SETTINGS,
		backend: 'openai',
		openaiBaseUrl: baseUrl,
		model: MODEL,
		candidates: 8,
		concurrency,
		rewardModel: '',
	});
	const task = rewriteTask({ instruction: 'shorter', text: 'some text here', languageId: 'plaintext' });

	it('honouring n: one request, all eight generating at once (one candidate time); ignoring n: eight requests', async () => {
		const fake = new FakeVllm({ models: [MODEL], parallel: 8, tokenDelayMs: 2 });
		await fake.start();
		try {
			const run = new BestOfNRun({
				runId: 1,
				task,
				settings: settings(fake.baseUrl, 1),
				generator: createBackend(settings(fake.baseUrl, 1)),
			});
			const { state } = await run.start();
			assert.equal(state.candidates.filter(c => c.status === 'done').length, 8);
			assert.equal(fake.requests.length, 1, 'one request with n=8');
			assert.equal(fake.maxActive, 8, 'the server generated all eight side by side');

			const ignoring = new FakeVllm({ models: [MODEL], parallel: 8, tokenDelayMs: 2, honoursN: false });
			await ignoring.start();
			try {
				const s = settings(ignoring.baseUrl, 8);
				const first = await new BestOfNRun({ runId: 2, task, settings: s, generator: createBackend(s) }).start();
				assert.equal(first.state.candidates.filter(c => c.status === 'done').length, 8);
				assert.equal(ignoring.requests.length, 8, 'one with n that came back with one choice, then seven');
				ignoring.reset();
				const second = await new BestOfNRun({ runId: 3, task, settings: s, generator: createBackend(s) }).start();
				assert.equal(second.state.candidates.filter(c => c.status === 'done').length, 8);
				assert.equal(ignoring.requests.length, 8);
				assert.ok(
					ignoring.requests.every(q => q.body.n === undefined),
					'remembered: no n any more',
				);
				assert.equal(ignoring.maxActive, 8, 'eight requests side by side with concurrency 8');

				// With Best-of-N's default concurrency (1), a server that ignores n costs eight candidates' time:
				// one request after another, never two generating at once.
				ignoring.reset();
				const one = settings(ignoring.baseUrl, 1);
				const serial = await new BestOfNRun({ runId: 4, task, settings: one, generator: createBackend(one) }).start();
				assert.equal(serial.state.candidates.filter(c => c.status === 'done').length, 8);
				assert.equal(ignoring.requests.length, 8);
				assert.equal(ignoring.maxActive, 1, 'one at a time');
			} finally {
				await ignoring.close();
			}
		} finally {
			await fake.close();
		}
	});
});

describe('serverSentData', () => {
	function streamOf(...pieces: string[]): ReadableStream<Uint8Array> {
		const encoder = new TextEncoder();
		return new ReadableStream({
			start(controller) {
				for (const p of pieces) controller.enqueue(encoder.encode(p));
				controller.close();
			},
		});
	}
	async function all(stream: ReadableStream<Uint8Array>): Promise<string[]> {
		const out: string[] = [];
		for await (const d of serverSentData(stream)) out.push(d);
		return out;
	}

	it('reads events split anywhere, with CRLF, comments, other fields and multi-line data', async () => {
		assert.deepEqual(
			await all(streamOf('data: {"a"', ':1}\r', '\n\r\n: keep-alive\n\nevent: x\ndata: one\ndata: two\n\ndata:[DONE]\n\n')),
			['{"a":1}', 'one\ntwo', '[DONE]'],
		);
	});

	it('drops an event the stream ended inside', async () => {
		assert.deepEqual(await all(streamOf('data: whole\n\ndata: half')), ['whole']);
	});
});

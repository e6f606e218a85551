/**
 * The reward path end to end on tiny generated models: real transformers.js, real onnxruntime, the
 * real worker bundle. The fixture's scores follow a formula (see tinyRewardModel.ts), so every
 * expectation below is an exact number, not just an order.
 */
import * as assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
// The module object itself (the namespace import's members are read-only): one test wraps a function on it.
import nodeFs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import type * as Ort from 'onnxruntime-node';
import { BestOfNError, type ErrorKind } from '../../src/core/errors';
import type { LoadProgress, RewardPair } from '../../src/core/reward';
import type { LoadRequest } from '../../src/core/workerProtocol';
import type { CandidateGenerator } from '../../src/core/generation';
import { BestOfNRun } from '../../src/core/run';
import { DEFAULT_SETTINGS, type Settings } from '../../src/core/settings';
import { rewriteTask } from '../../src/core/tasks/rewrite';
import { InProcessRewardScorer, RewardWorkerClient, type Isolation } from '../../src/reward/rewardClient';
import { SCORER_MMAP_THRESHOLD, SCORER_NODE_FLAGS, SCORER_TRIM_THRESHOLD, ScorerProcess } from '../../src/reward/scorerProcess';
import { effectiveMaxLength, encodePair, hubEndpoint, loadRewardModel, PromptTokens } from '../../src/reward/scorer';
import { FakeHub } from '../fixtures/fakeHub';
import { removeFaultyWorkers, writeFaultyWorker } from '../fixtures/faultyWorker';
import { MODEL_FILE_DAMAGES } from '../fixtures/damagedModelFiles';
import { tinyLogitOfTokens, tinyRewardLogit, tinyTokens, writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { at } from '../fixtures/present';
import { ensureWorkerBundle } from '../fixtures/workerBundle';
import { until } from '../fixtures/until';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKER = path.join(ROOT, 'dist', 'rewardWorker.js');
const never = () => new AbortController().signal;

const PAIRS: [RewardPair, RewardPair, RewardPair, RewardPair] = [
	{ prompt: 'explain this function', response: 'this code is good and clear' },
	{ prompt: 'explain this function', response: 'this code is broken and wrong , very wrong' },
	{ prompt: 'explain', response: 'the function returns a' },
	{ prompt: 'explain this function please', response: 'great correct code' },
];

let tmp: string;
let cacheDir: string;
/** The tiny models written once for this file, by what is special about each. */
let dirs: { base: string; short: string; hugeTokenizerMax: string; noOnnx: string; llama: string; batchDependent: string; optimum: string };

function request(model: string, extra: Partial<LoadRequest> = {}): LoadRequest {
	return { model, dtype: 'fp32', cacheDir, allowRemote: false, threads: 1, ...extra };
}

async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, ...patterns: (RegExp | string)[]): Promise<BestOfNError> {
	try {
		await promise;
	} catch (e) {
		assert.ok(e instanceof BestOfNError, `expected a BestOfNError, got ${String(e)}`);
		assert.equal(e.kind, kind, e.message);
		for (const p of patterns) {
			if (typeof p === 'string') assert.ok(e.message.includes(p), `"${e.message}" should mention ${p}`);
			else assert.match(e.message, p);
		}
		return e;
	}
	assert.fail(`expected a ${kind} rejection`);
}

/** Fails fast (instead of at mocha's 20 s timeout) when something that must happen does not. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
	});
	try {
		return await Promise.race([promise, timeout]);
	} finally {
		clearTimeout(timer);
	}
}

/** One score per pair, each the fixture formula's logit for its pair (plus `offset`). */
function assertFormulaScores(scores: readonly number[], pairs: readonly RewardPair[], offset = 0, what = 'pair'): void {
	assert.equal(scores.length, pairs.length, 'one score per pair');
	pairs.forEach((pair, i) => {
		const expected = tinyRewardLogit(pair) + offset;
		assert.ok(Math.abs(at(scores, i) - expected) < 1e-6, `${what} ${i}: ${at(scores, i)} vs ${expected}`);
	});
}

/** The score of one pair, the only one `scores` holds. */
function only(scores: readonly number[]): number {
	assert.equal(scores.length, 1, 'one score for one pair');
	return at(scores, 0, 'the score');
}

function restoreEnv(name: string, value: string | undefined): void {
	if (value === undefined) delete process.env[name];
	else process.env[name] = value;
}

/** The client's current worker, a process or a thread (white-box: tests only). */
function workerOf(client: RewardWorkerClient): Worker | ScorerProcess | undefined {
	return client['conn']?.worker;
}

/** Resolves with the worker's exit code, or its signal's name for a process a signal ended. */
function exitOf(worker: Worker | ScorerProcess): Promise<number | string> {
	return new Promise(resolve =>
		(worker as ScorerProcess).on('exit', (code: number | null, signal?: string | null) => resolve(signal ?? code ?? -1)),
	);
}

/**
 * Resolves once the client has posted a request of `type` to `worker`; `then` runs right after it
 * went out, before the client's next step.
 */
function whenSent(worker: Worker | ScorerProcess, type: string, then: () => void = () => undefined): Promise<void> {
	const post = worker.postMessage.bind(worker);
	return new Promise(resolve => {
		worker.postMessage = (m: unknown) => {
			post(m);
			if ((m as { type?: string }).type !== type) return;
			then();
			resolve();
		};
	});
}

/** A fault script's channel to the host, in a forked process or a thread (see faultyWorker.ts). */
const HOST_PORT = `(require('node:worker_threads').parentPort ?? process)`;

before(() => {
	ensureWorkerBundle('src/reward/worker.ts', WORKER, ['src/reward', 'src/core']);
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bon-reward-'));
	cacheDir = path.join(tmp, 'cache');
	dirs = {
		base: writeTinyRewardModel(path.join(tmp, 'base')),
		short: writeTinyRewardModel(path.join(tmp, 'short'), { maxLength: 16 }),
		hugeTokenizerMax: writeTinyRewardModel(path.join(tmp, 'huge'), { maxLength: 24, tokenizerMaxLength: 1e30 }),
		noOnnx: writeTinyRewardModel(path.join(tmp, 'no-onnx'), { withoutOnnx: true }),
		llama: writeTinyRewardModel(path.join(tmp, 'llama'), { modelType: 'llama' }),
		batchDependent: writeTinyRewardModel(path.join(tmp, 'batch-dependent'), {
			batchDependence: 1,
			onnxFiles: ['model.onnx', 'model_quantized.onnx'],
		}),
		// What `optimum-cli export onnx` writes: model.onnx beside config.json, no onnx/ folder.
		optimum: writeTinyRewardModel(path.join(tmp, 'optimum')),
	};
	fs.renameSync(path.join(dirs.optimum, 'onnx', 'model.onnx'), path.join(dirs.optimum, 'model.onnx'));
	fs.rmdirSync(path.join(dirs.optimum, 'onnx'));
});

after(() => {
	fs.rmSync(tmp, { recursive: true, force: true });
});

describe('reward scorer (in-process, real transformers.js)', () => {
	it('scores are raw logits equal to the fixture formula, in the predicted order', async () => {
		const model = await loadRewardModel(request(dirs.base));
		try {
			assert.deepEqual(model.info, { id: dirs.base, maxLength: 512, source: 'local' });
			const scores = await model.score(PAIRS);
			assertFormulaScores(scores, PAIRS);
			// A softmax over one label would make every score 1; raw logits can be negative.
			assert.ok(at(scores, 1) < 0);
			const order = scores
				.map((s, i) => [s, i] as const)
				.sort((a, b) => b[0] - a[0])
				.map(([, i]) => i);
			assert.deepEqual(order, [3, 0, 2, 1]);
		} finally {
			await model.dispose();
		}
	});

	it('builds exactly the tokenizer’s own pair input when the pair fits', async () => {
		const { AutoTokenizer } = require('@huggingface/transformers') as typeof Transformers;
		const tokenizer = await AutoTokenizer.from_pretrained(dirs.base);
		for (const pair of [...PAIRS, { prompt: 'only a prompt', response: '' }, { prompt: '', response: 'only a response' }]) {
			const own = encodePair(tokenizer, pair, 512);
			const theirs = tokenizer(pair.prompt, { text_pair: pair.response || null, return_tensor: false }) as unknown as Record<
				string,
				number[]
			>;
			assert.deepEqual(own.input_ids, theirs.input_ids, JSON.stringify(pair));
			assert.deepEqual(own.token_type_ids, theirs.token_type_ids, JSON.stringify(pair));
			assert.deepEqual(own.dropped, { prompt: 0, response: 0 });
		}
	});

	it('splits a prompt shared by several pairs once, and builds the same inputs as splitting it each time', async () => {
		const { AutoTokenizer } = require('@huggingface/transformers') as typeof Transformers;
		const tokenizer = await AutoTokenizer.from_pretrained(dirs.base);
		const split: string[] = [];
		const tokenize = tokenizer.tokenize.bind(tokenizer);
		tokenizer.tokenize = (...args: Parameters<typeof tokenize>) => {
			split.push(args[0]);
			return tokenize(...args);
		};
		const long: RewardPair = { prompt: `bad ${'the '.repeat(20)}good`, response: 'good code' };
		const pairs = [...PAIRS, long, long];
		// 512 fits every pair; 8 cuts the long prompt's head (and the others'), which must not cut the memo.
		for (const maxLength of [512, 8]) {
			const fresh = pairs.map(p => encodePair(tokenizer, p, maxLength));
			const prompts = new PromptTokens(tokenizer);
			split.length = 0;
			for (let round = 0; round < 2; round++) {
				assert.deepEqual(
					pairs.map(p => encodePair(tokenizer, p, maxLength, prompts)),
					fresh,
					`max ${maxLength}, round ${round}`,
				);
			}
			for (const prompt of new Set(pairs.map(p => p.prompt)))
				assert.equal(split.filter(t => t === prompt).length, 1, `"${prompt}" split once (max ${maxLength})`);
		}
		// It keeps the most recently used few: with room for two, a, b, a, c, b splits b again (c pushed it out).
		const two = new PromptTokens(tokenizer, 2);
		split.length = 0;
		for (const text of ['a', 'b', 'a', 'c', 'b']) two.tokens(text);
		assert.deepEqual(split, ['a', 'b', 'c', 'b']);
	});

	it('warms the tokenizer over a paragraph but runs only one pass of a few tokens, and scores stay the same', async () => {
		const ort = require('onnxruntime-node') as typeof Ort;
		// The scorer's sessions are this module's (it is external to every bundle and loaded once).
		const sessions = (ort.InferenceSession as unknown as { prototype: Ort.InferenceSession }).prototype;
		const warmed = await loadRewardModel(request(dirs.base));
		const cold = await loadRewardModel(request(dirs.base));
		// Put back as it was in `finally`, and called with the scorer's own session as `this`.
		// eslint-disable-next-line @typescript-eslint/unbound-method
		const run = sessions.run;
		/** The width of each forward pass, in the order run. */
		const passes: number[] = [];
		sessions.run = function (this: Ort.InferenceSession, ...args: Parameters<Ort.InferenceSession['run']>) {
			passes.push(args[0].input_ids!.dims[1]!);
			return run.apply(this, args);
		} as Ort.InferenceSession['run'];
		try {
			const done = await warmed.warmUp();
			// The tokenizer's code has seen a paragraph, as a first real pair would make it do.
			assert.ok(done.tokenized >= 100, `tokenized ${done.tokenized}`);
			// Its cost stays bounded: one pass, of a few tokens, whatever the paragraph's length.
			assert.deepEqual(passes, [done.passTokens]);
			assert.ok(done.passTokens <= 16, `a pass of ${done.passTokens}`);
			assert.deepEqual(await warmed.score(PAIRS), await cold.score(PAIRS));
		} finally {
			sessions.run = run;
			await warmed.dispose();
			await cold.dispose();
		}
	});

	it('a batch of N pairs gives the same fp32 scores as one pair at a time (padding is masked)', async () => {
		const model = await loadRewardModel(request(dirs.base));
		try {
			const batched = await model.score(PAIRS);
			const alone: number[] = [];
			for (const p of PAIRS) alone.push(...(await model.score([p])));
			assert.deepEqual(batched, alone);
		} finally {
			await model.dispose();
		}
	});

	it('fp32 scores pairs as one batch when batching costs less; a quantized dtype scores one pair at a time', async () => {
		// This fixture adds (batch − 1) to every logit, as batch-dependent quantized models drift.
		const pairs = PAIRS.slice(0, 3);
		const cheapBatches = { single: 1, gain: 0.9 };
		const fp32 = await loadRewardModel(request(dirs.batchDependent), undefined, { costs: cheapBatches });
		const q8 = await loadRewardModel(request(dirs.batchDependent, { dtype: 'q8' }), undefined, { costs: cheapBatches });
		try {
			assertFormulaScores(await fp32.score(pairs), pairs, 2, 'fp32 pair');
			assertFormulaScores(await q8.score(pairs), pairs, 0, 'q8 pair');
			// The heap readied before the first score: the longest input's (512 tokens) for fp32, 256
			// tokens' for the quantized dtype (a quarter: the attention's scores are length × length).
			assert.equal(q8.info.maxLength, 512);
			assert.ok(q8.firstPassBytes > 0);
			assert.equal(fp32.firstPassBytes, 4 * q8.firstPassBytes);
		} finally {
			await fp32.dispose();
			await q8.dispose();
		}
	});

	it('fp32 scores one pair at a time when batching costs more, and splits off a pair too long to pad the others to', async () => {
		const pairs = PAIRS.slice(0, 3);
		const dearBatches = await loadRewardModel(request(dirs.batchDependent), undefined, { costs: { single: 1, gain: -0.5 } });
		const long: RewardPair = { prompt: 'explain', response: Array(12).fill('good code , clear and correct').join(' ') };
		const mixed = await loadRewardModel(request(dirs.batchDependent), undefined, { costs: { single: 1, gain: 0.6 } });
		try {
			// (batch − 1) is 0 for every pair: each went alone.
			assertFormulaScores(await dearBatches.score(pairs), pairs);
			// The long pair alone (+0), the three short ones of similar length together (+2), in the given order.
			const scores = await mixed.score([PAIRS[0], long, PAIRS[1], PAIRS[2]]);
			assert.equal(scores.length, 4, 'one score per pair');
			assertFormulaScores([at(scores, 1)], [long], 0, 'long pair');
			assertFormulaScores([at(scores, 0), at(scores, 2), at(scores, 3)], pairs, 2, 'short pair');
		} finally {
			await dearBatches.dispose();
			await mixed.dispose();
		}
	});

	it('whatever the costs choose, batched and one-by-one fp32 scores agree pair for pair', async () => {
		const alone = await loadRewardModel(request(dirs.base), undefined, { costs: { single: 1, gain: -9 } });
		const batched = await loadRewardModel(request(dirs.base), undefined, { costs: { single: 1, gain: 0.99 } });
		const measured = await loadRewardModel(request(dirs.base));
		try {
			const one = await alone.score(PAIRS);
			const many = await batched.score(PAIRS);
			const chosen = await measured.score(PAIRS);
			assertFormulaScores(one, PAIRS, 0, 'alone');
			assert.deepEqual([many.length, chosen.length], [PAIRS.length, PAIRS.length], 'one score per pair');
			PAIRS.forEach((_, i) => {
				assert.ok(Math.abs(at(many, i) - at(one, i)) < 1e-5, `batched ${i}: ${at(many, i)} vs ${at(one, i)}`);
				assert.ok(Math.abs(at(chosen, i) - at(one, i)) < 1e-5, `measured ${i}: ${at(chosen, i)} vs ${at(one, i)}`);
			});
		} finally {
			await Promise.all([alone.dispose(), batched.dispose(), measured.dispose()]);
		}
	});

	it('truncation drops the prompt’s head and keeps the response whole', async () => {
		const model = await loadRewardModel(request(dirs.short));
		try {
			assert.equal(model.info.maxLength, 16);
			// 16 = [CLS] + 10 prompt tokens + [SEP] + 3 response tokens + [SEP]: the prompt's "bad" head goes.
			const longPrompt = { prompt: `bad ${'the '.repeat(200)}good good`, response: 'good good code' };
			const kept = tinyTokens(longPrompt.prompt).slice(-10);
			const score = only(await model.score([longPrompt]));
			assert.ok(Math.abs(score - tinyLogitOfTokens(kept, tinyTokens(longPrompt.response))) < 1e-6, `${score}`);
			assert.ok(Math.abs(score - 0.5) < 1e-6);

			// A response longer than the limit alone loses its tail (and the whole prompt).
			const longResponse = { prompt: 'great great', response: `${'good '.repeat(5)}${'the '.repeat(30)}bad` };
			const score2 = only(await model.score([longResponse]));
			assert.ok(Math.abs(score2 - tinyLogitOfTokens([], tinyTokens(longResponse.response).slice(0, 13))) < 1e-6, `${score2}`);

			// Mixed lengths in one batch keep their own scores.
			const batch = await model.score([longPrompt, PAIRS[0], longResponse]);
			assert.deepEqual(batch, [score, ...(await model.score([PAIRS[0]])), score2]);
		} finally {
			await model.dispose();
		}
	});

	it('takes the max length from the config when the tokenizer says 1e30, and 512 when nothing says', async () => {
		const model = await loadRewardModel(request(dirs.hugeTokenizerMax));
		await model.dispose();
		assert.equal(model.info.maxLength, 24);
		assert.equal(effectiveMaxLength(1e30, {}), 512);
		assert.equal(effectiveMaxLength(512, { max_position_embeddings: 514, model_type: 'roberta', pad_token_id: 1 }), 512);
		assert.equal(effectiveMaxLength(1e30, { max_position_embeddings: 514, model_type: 'xlm-roberta', pad_token_id: 1 }), 512);
		assert.equal(effectiveMaxLength(8192, { max_position_embeddings: 512 }), 512);
	});

	it('calls beforeSession once, after the tokenizer is built and before onnxruntime opens the model', async () => {
		const events: string[] = [];
		// The tokenizer's file read shows where the hook falls: a collection before the parse frees nothing.
		const readFileSync = nodeFs.readFileSync;
		nodeFs.readFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
			if (String(file).endsWith('tokenizer.json')) events.push('read tokenizer.json');
			return (readFileSync as (...args: unknown[]) => unknown)(file, ...rest);
		}) as typeof fs.readFileSync;
		let model: Awaited<ReturnType<typeof loadRewardModel>>;
		try {
			model = await loadRewardModel(request(dirs.base), p => events.push(`${p.status} ${p.file}`), {
				beforeSession: () => events.push('beforeSession'),
			});
		} finally {
			nodeFs.readFileSync = readFileSync;
		}
		try {
			assert.deepEqual(events, [
				'read tokenizer.json',
				'beforeSession',
				'initiate onnx/model.onnx',
				'done onnx/model.onnx',
				`ready ${dirs.base}`,
			]);
			assertFormulaScores(await model.score([PAIRS[0]]), [PAIRS[0]]);
		} finally {
			await model.dispose();
		}
	});

	it('loads a folder laid out by optimum-cli (model.onnx beside config.json)', async () => {
		const model = await loadRewardModel(request(dirs.optimum));
		try {
			assertFormulaScores(await model.score([PAIRS[0]]), [PAIRS[0]]);
		} finally {
			await model.dispose();
		}
	});

	it('a missing folder is reward-not-found, naming it', async () => {
		const missing = path.join(tmp, 'no-such-folder');
		await rejectsWith(loadRewardModel(request(missing)), 'reward-not-found', missing, 'does not exist', 'bestOfN.rewardModel');
	});

	it('a folder without an ONNX export is reward-no-onnx, with the file looked for and the optimum-cli command', async () => {
		await rejectsWith(
			loadRewardModel(request(dirs.noOnnx)),
			'reward-no-onnx',
			path.join('onnx', 'model.onnx'),
			`optimum-cli export onnx --model ${dirs.noOnnx} --task text-classification <folder>`,
		);
		// The file depends on the dtype, and the message says which dtype the folder does have.
		await rejectsWith(
			loadRewardModel(request(dirs.base, { dtype: 'q8' })),
			'reward-no-onnx',
			'model_quantized.onnx',
			'model.onnx (dtype fp32), which bestOfN.rewardDtype can select',
		);
	});

	it('a Hub id with downloads off and nothing cached is reward-not-found', async () => {
		await rejectsWith(
			loadRewardModel(request('best-of-n/no-such-reward-model')),
			'reward-not-found',
			'best-of-n/no-such-reward-model',
			'downloads are turned off',
		);
	});

	it('a model type transformers.js cannot classify with (llama) is reward-failed, saying so', async () => {
		await rejectsWith(loadRewardModel(request(dirs.llama)), 'reward-failed', '"llama"', 'cannot run for sequence classification');
	});

	describe('from a Hub (a local stand-in, through HF_ENDPOINT)', () => {
		let hub: FakeHub;
		let saved: string | undefined;
		const { env } = require('@huggingface/transformers') as typeof Transformers;

		before(async () => {
			hub = new FakeHub().serve('test/base', dirs.base).serve('test/no-onnx', dirs.noOnnx);
			await hub.start();
			saved = process.env.HF_ENDPOINT;
			// As people write it: no trailing slash (the scorer adds the one transformers.js wants).
			process.env.HF_ENDPOINT = hub.url;
		});

		after(async () => {
			restoreEnv('HF_ENDPOINT', saved);
			await hub.close();
		});

		it('HF_ENDPOINT names the Hub when it is an http(s) URL; anything else keeps the default', () => {
			assert.equal(hubEndpoint({ HF_ENDPOINT: 'https://hf-mirror.com' }), 'https://hf-mirror.com/');
			assert.equal(hubEndpoint({ HF_ENDPOINT: ' http://127.0.0.1:8080/ ' }), 'http://127.0.0.1:8080/');
			assert.equal(hubEndpoint({ HF_ENDPOINT: 'https://mirror.example/hf?x=1#y' }), 'https://mirror.example/hf/');
			for (const value of [undefined, '', '  ', 'hf-mirror.com', 'ftp://mirror.example/', 'file:///srv/hub']) {
				assert.equal(hubEndpoint({ HF_ENDPOINT: value }), undefined, String(value));
			}
		});

		it('downloads into cacheDir with progress, then loads from the cache with downloads off', async () => {
			const progress: LoadProgress[] = [];
			const model = await loadRewardModel(request('test/base', { allowRemote: true }), p => progress.push(p));
			await model.dispose();
			assert.equal(model.info.source, 'hub');
			assert.equal(env.remoteHost, `${hub.url}/`);
			assert.ok(
				hub.filesRequested('test/base').includes('onnx/model.onnx'),
				`the fake Hub served ${hub.filesRequested('test/base').join(', ')}`,
			);
			assert.ok(fs.existsSync(path.join(cacheDir, 'test', 'base', 'onnx', 'model.onnx')), 'the model is cached under cacheDir');
			assert.ok(progress.some(p => p.file === 'onnx/model.onnx' && p.status === 'progress' && p.percent === 100));
			assert.deepEqual(progress.at(-1), { file: 'test/base', status: 'ready' });

			const served = hub.requests.length;
			const offline = await loadRewardModel(request('test/base', { allowRemote: false }));
			try {
				assert.equal(hub.requests.length, served, 'nothing fetched when downloads are off');
				assertFormulaScores(await offline.score([PAIRS[0]]), [PAIRS[0]]);
			} finally {
				await offline.dispose();
			}
			// Another dtype's file was never downloaded: offline that is "not cached", not "no export".
			await rejectsWith(
				loadRewardModel(request('test/base', { dtype: 'q8' })),
				'reward-not-found',
				'onnx/model_quantized.onnx is not in the download cache',
			);
		});

		it('a Hub model without onnx/ is reward-no-onnx; an unknown id is reward-not-found, naming the mirror', async () => {
			await rejectsWith(
				loadRewardModel(request('test/no-onnx', { allowRemote: true })),
				'reward-no-onnx',
				'onnx/model.onnx',
				'optimum-cli export onnx --model test/no-onnx',
			);
			await rejectsWith(
				loadRewardModel(request('test/unknown', { allowRemote: true })),
				'reward-not-found',
				'test/unknown',
				'no such model',
				`mirror at ${hub.url}/ (HF_ENDPOINT)`,
			);
		});

		it('an unreachable Hub is reward-not-found, saying it could not be reached', async () => {
			const closed = http.createServer();
			closed.listen(0, '127.0.0.1');
			await once(closed, 'listening');
			const port = (closed.address() as AddressInfo).port;
			closed.close();
			await once(closed, 'close');
			process.env.HF_ENDPOINT = `http://127.0.0.1:${port}`;
			try {
				await rejectsWith(
					loadRewardModel(request('test/base2', { allowRemote: true })),
					'reward-not-found',
					`mirror at http://127.0.0.1:${port}/`,
					'could not be reached',
				);
			} finally {
				process.env.HF_ENDPOINT = hub.url;
			}
		});

		it('without HF_ENDPOINT the scorer puts transformers.js’s default Hub back', async () => {
			assert.equal(hubEndpoint(), `${hub.url}/`);
			await loadRewardModel(request('test/base', { allowRemote: true, cacheDir: path.join(tmp, 'cache-default-hub') })).then(m =>
				m.dispose(),
			);
			assert.equal(env.remoteHost, `${hub.url}/`);
			delete process.env.HF_ENDPOINT;
			try {
				// Downloads off and nothing cached: no request goes out, but the Hub is chosen first.
				await rejectsWith(loadRewardModel(request('test/not-cached')), 'reward-not-found', 'downloads are turned off');
				assert.equal(env.remoteHost, 'https://huggingface.co/');
			} finally {
				process.env.HF_ENDPOINT = hub.url;
			}
		});

		it('the worker downloads from HF_ENDPOINT too (it inherits the environment)', async () => {
			const fresh = path.join(tmp, 'cache-worker');
			const c = new RewardWorkerClient({
				workerPath: WORKER,
				request: request('test/base', { allowRemote: true, cacheDir: fresh }),
				idleMs: 0,
			});
			hub.reset();
			try {
				const progress: LoadProgress[] = [];
				const info = await c.load(never(), p => progress.push(p));
				assert.deepEqual(info, { id: 'test/base', maxLength: 512, source: 'hub' });
				// Each file once; transformers.js's size probes (`Range: bytes=0-0`) come on top.
				assert.deepEqual(hub.filesDownloaded('test/base').sort(), [
					'config.json',
					'onnx/model.onnx',
					'tokenizer.json',
					'tokenizer_config.json',
				]);
				assert.ok(progress.some(p => p.file === 'onnx/model.onnx' && p.status === 'progress' && p.percent === 100));
				assert.ok(fs.existsSync(path.join(fresh, 'test', 'base', 'onnx', 'model.onnx')));
				assertFormulaScores(await c.score([PAIRS[0]], never()), [PAIRS[0]]);
			} finally {
				c.dispose();
			}
		});

		it('an abort mid-download terminates the worker, which closes the download at the Hub', async () => {
			hub.chunkBytes = 16;
			hub.chunkDelayMs = 50;
			const c = new RewardWorkerClient({
				workerPath: WORKER,
				request: request('test/base', { allowRemote: true, cacheDir: path.join(tmp, 'cache-abort') }),
				idleMs: 0,
			});
			hub.reset();
			try {
				const controller = new AbortController();
				const loading = c.load(controller.signal);
				const exited = exitOf(workerOf(c)!);
				await until('a download to start', () => hub.openResponses > 0, 5000);
				controller.abort();
				await rejectsWith(within(loading, 1000, 'the rejection'), 'cancelled');
				assert.equal(c.running, false);
				await within(exited, 1000, 'the worker’s exit');
				await hub.waitForIdle(1000);
				const cut = hub.requests.at(-1)!.file!;
				assert.ok(!fs.existsSync(path.join(tmp, 'cache-abort', 'test', 'base', cut)), `the half-downloaded ${cut} was not cached`);
			} finally {
				hub.chunkBytes = 64 * 1024;
				hub.chunkDelayMs = 0;
				c.dispose();
			}
		});
	});

	it('InProcessRewardScorer memoizes the load and honours an aborted signal', async () => {
		const scorer = new InProcessRewardScorer(request(dirs.base));
		try {
			const info = await scorer.load(never());
			assert.equal(await scorer.load(never()), info);
			const scores = await scorer.score(PAIRS, never());
			assertFormulaScores(scores, PAIRS);
			const aborted = new AbortController();
			aborted.abort();
			await rejectsWith(scorer.score(PAIRS, aborted.signal), 'cancelled');
		} finally {
			await scorer.dispose();
		}
	});
});

for (const isolation of ['process', 'thread'] as const satisfies readonly Isolation[])
	describe(`reward worker (dist/rewardWorker.js, in a ${isolation})`, () => {
		const clients: RewardWorkerClient[] = [];
		function client(model = dirs.base, idleMs = 0): RewardWorkerClient {
			const c = new RewardWorkerClient({ workerPath: WORKER, request: request(model), idleMs, isolation });
			clients.push(c);
			return c;
		}
		afterEach(() => {
			for (const c of clients.splice(0)) c.dispose();
			removeFaultyWorkers();
		});

		/**
		 * A client whose first worker ends the way the system ends it (out of memory, a kill) the moment
		 * the first score request reaches it: a process is killed by SIGKILL; a thread, which no signal
		 * can end alone, exits with the code a killed process has (137). The real bundle, plus a hook that
		 * ends it there. Only the first worker dies (a marker file says it happened); the ones started after it
		 * are the real bundle at work.
		 */
		function dyingClient(): { c: RewardWorkerClient; killed: () => boolean } {
			const dying = writeFaultyWorker(
				WORKER,
				marker => `
	const fs = require('node:fs');
	${HOST_PORT}.on('message', m => {
		if (m.type !== 'score' || fs.existsSync(${marker})) return;
		fs.writeFileSync(${marker}, '');
		${isolation === 'process' ? "process.kill(process.pid, 'SIGKILL')" : 'process.exit(137)'};
	});`,
			);
			const c = new RewardWorkerClient({ workerPath: dying.file, request: request(dirs.base), idleMs: 0, isolation });
			clients.push(c);
			return { c, killed: dying.fired };
		}

		/** Pairs that keep the worker busy for a while (tokenizing ~200k words). */
		const heavy = Array.from({ length: 200 }, () => ({ prompt: 'the code '.repeat(400), response: 'good' }));

		it('answers each request exactly once, progress carrying the load’s id', async () => {
			// Its stdout (the warm-up's debug line) piped, as the host pipes it, rather than in the test report.
			const worker = isolation === 'process' ? ScorerProcess.start(WORKER) : new Worker(WORKER, { stdout: true });
			const messages: { type: string; id: number; kind?: string }[] = [];
			(worker as ScorerProcess).on('message', m => messages.push(m as (typeof messages)[number]));
			try {
				worker.postMessage({ type: 'score', id: 1, pairs: PAIRS });
				worker.postMessage({ type: 'load', id: 2, request: request(dirs.base) });
				worker.postMessage({ type: 'load', id: 3, request: request(dirs.base) });
				worker.postMessage({ type: 'score', id: 4, pairs: PAIRS });
				worker.postMessage({ type: 'load', id: 5, request: request(dirs.noOnnx) });
				await until('five answers', () => messages.filter(m => m.type !== 'progress').length >= 5, 30_000);
				const answers = messages.filter(m => m.type !== 'progress');
				assert.deepEqual(
					answers.map(m => [m.id, m.type, m.kind]),
					[
						[1, 'error', 'reward-failed'],
						[2, 'loaded', undefined],
						[3, 'loaded', undefined],
						[4, 'scores', undefined],
						[5, 'error', 'reward-no-onnx'],
					],
				);
				const progressIds = new Set(messages.filter(m => m.type === 'progress').map(m => m.id));
				assert.deepEqual([...progressIds], [2], 'only the first load reads files; a repeated load is answered from memory');
			} finally {
				await worker.terminate();
			}
		});

		it('scores through the worker equal the in-process scores, with load progress forwarded', async () => {
			const c = client();
			const progress: LoadProgress[] = [];
			const info = await c.load(never(), p => progress.push(p));
			assert.deepEqual(info, { id: dirs.base, maxLength: 512, source: 'local' });
			assert.ok(progress.some(p => p.file === 'onnx/model.onnx' && p.status === 'done'));
			const inProcess = await loadRewardModel(request(dirs.base));
			try {
				assert.deepEqual(await c.score(PAIRS, never()), await inProcess.score(PAIRS));
			} finally {
				await inProcess.dispose();
			}
		});

		it('warms the session after a load, but not when a score is already waiting: that score goes first', async () => {
			/** A client whose log (the worker's own lines included) is kept in `lines`. */
			const logging = () => {
				const lines: string[] = [];
				const add = (m: string) => void lines.push(m);
				const logger = { trace: add, debug: add, info: add, warn: add, error: add };
				const c = new RewardWorkerClient({ workerPath: WORKER, request: request(dirs.base), idleMs: 0, logger, isolation });
				clients.push(c);
				return { c, lines };
			};
			// A candidate that completed during the load: its score is sent as soon as the load answers.
			const waiting = logging();
			assertFormulaScores(await waiting.c.score([PAIRS[0]], never()), [PAIRS[0]]);
			await until('the worker to say what it did', () => waiting.lines.some(l => /warm/.test(l)));
			assert.ok(
				waiting.lines.some(l => l.includes('warm-up skipped: a request is waiting')),
				waiting.lines.join('\n'),
			);
			assert.ok(!waiting.lines.some(l => l.includes('session warmed up')));
			// Nothing waiting: the session is warmed while generation goes on.
			const idle = logging();
			await idle.c.load(never());
			await until('the warm-up', () => idle.lines.some(l => l.includes('session warmed up')));
			// What it did, for whoever looks into a slow first score: a small pass, the tokenizer over a paragraph.
			assert.ok(
				idle.lines.some(l => /session warmed up \(a pass of \d+ tokens; the tokenizer over \d{3,}\)/.test(l)),
				idle.lines.join('\n'),
			);
			// Then, in a scorer process on Linux (glibc keeps freed heap there), the heap a first pass at the
			// model's longest input takes, in slices a request stops; scores as before. Not in a thread: the
			// host's heap is not set up to keep it.
			const readied = idle.lines.some(l => /the heap readied.* \d+ MB in \d+ slices \(the longest [\d.]+ ms\), freed in/.test(l));
			assert.equal(readied, isolation === 'process' && process.platform === 'linux', idle.lines.join('\n'));
			assertFormulaScores(await idle.c.score(PAIRS, never()), PAIRS);
		});

		it('loads once per worker: two scores and a later load reuse the warm model', async () => {
			const c = client();
			assert.equal(c.running, false, 'nothing starts before the first call');
			await c.score([PAIRS[0]], never());
			const worker = workerOf(c)!;
			const sent: string[] = [];
			const post = worker.postMessage.bind(worker);
			worker.postMessage = (m: { type: string }) => {
				sent.push(m.type);
				post(m);
			};
			await c.score([PAIRS[1]], never());
			await c.load(never());
			await c.score([PAIRS[2]], never());
			assert.deepEqual(sent, ['score', 'score']);
			assert.equal(workerOf(c), worker);
		});

		it('a loaded worker that ends between two scores: the next score starts a fresh worker, which loads the model again', async () => {
			const c = client();
			await c.score([PAIRS[0]], never());
			const first = workerOf(c)!;
			// Between calls, as an idle scorer ends when the system kills it (nothing of onnxruntime runs).
			await first.terminate();
			await until('the client to see the exit', () => !c.running, 2000);
			const scores = await c.score([PAIRS[1]], never());
			assertFormulaScores(scores, [PAIRS[1]]);
			assert.ok(workerOf(c) && workerOf(c) !== first);
		});

		it('a worker that dies mid-score rejects the pending call with worker-crashed; the next call starts a fresh worker', async () => {
			// The worker ends itself: ending a thread from outside inside an onnxruntime run aborts the
			// whole process, this test's included.
			const { c, killed } = dyingClient();
			await c.load(never());
			const first = workerOf(c)!;
			const pending = c.score(heavy, never());
			await rejectsWith(
				within(pending, 2000, 'the rejection'),
				'worker-crashed',
				'stopped unexpectedly',
				'the next run starts a fresh worker',
			);
			assert.ok(killed());
			assert.equal(c.running, false);

			const scores = await c.score(PAIRS, never());
			assertFormulaScores(scores, PAIRS);
			assert.ok(workerOf(c) && workerOf(c) !== first);
		});

		if (isolation === 'thread')
			it('dispose during a score lets the score end before the thread is terminated', async () => {
				// Terminating a thread inside an onnxruntime run can abort the whole process (the built-in
				// generator's test shows it), e.g. when a run switches reward models while the last one scores.
				const c = client();
				await c.load(never());
				const worker = workerOf(c) as Worker;
				const order: string[] = [];
				// First in line: the client's own listener answers the score by terminating.
				worker.prependListener('message', (m: { type: string }) => m.type === 'scores' && order.push('scored'));
				const terminate = worker.terminate.bind(worker);
				worker.terminate = () => {
					order.push('terminate');
					return terminate();
				};
				const scoreSent = whenSent(worker, 'score');
				const pending = c.score(heavy, never());
				await scoreSent;
				c.dispose();
				await rejectsWith(pending, 'cancelled');
				assert.equal(c.running, false, 'the client lets go of the worker at once');
				await within(exitOf(worker), 15_000, 'the worker’s exit');
				assert.deepEqual(order, ['scored', 'terminate']);
			});

		if (isolation === 'process')
			it('dispose during a score kills the process at once: the score is not waited for', async () => {
				const c = client();
				await c.load(never());
				const worker = workerOf(c) as ScorerProcess;
				const answers: string[] = [];
				worker.on('message', m => answers.push((m as { type: string }).type));
				const exited = exitOf(worker);
				const scoreSent = whenSent(worker, 'score');
				const pending = c.score(heavy, never());
				await scoreSent;
				c.dispose();
				await rejectsWith(pending, 'cancelled');
				assert.equal(c.running, false);
				assert.equal(await within(exited, 15_000, 'the process’s exit'), 'SIGKILL');
				assert.deepEqual(answers, [], 'the process ended before it answered the score');
			});

		if (isolation === 'process')
			it('runs in a process of its own, started with glibc’s mmap threshold raised, that exits when the host goes', async function () {
				if (process.platform !== 'linux') this.skip(); // /proc
				const c = client();
				await c.load(never());
				const worker = workerOf(c) as ScorerProcess;
				assert.notEqual(worker.threadId, process.pid);
				const environ = fs.readFileSync(`/proc/${worker.threadId}/environ`, 'utf8').split('\0');
				assert.ok(
					environ.includes(`MALLOC_MMAP_THRESHOLD_=${SCORER_MMAP_THRESHOLD}`),
					environ.filter(v => v.startsWith('MALLOC')).join(' '),
				);
				// No block mapped on its own, and freed heap kept: what the readied heap needs (heapTouch.ts).
				assert.ok(
					environ.includes('MALLOC_MMAP_MAX_=0') && environ.includes(`MALLOC_TRIM_THRESHOLD_=${SCORER_TRIM_THRESHOLD}`),
					environ.filter(v => v.startsWith('MALLOC')).join(' '),
				);
				// Its own V8 flags (a garbage collection the worker calls, a small young generation), not the host's.
				const argv = fs.readFileSync(`/proc/${worker.threadId}/cmdline`, 'utf8').split('\0').filter(Boolean);
				assert.deepEqual(argv.slice(1), [...SCORER_NODE_FLAGS, WORKER]);
				assertFormulaScores(await c.score(PAIRS, never()), PAIRS);

				// A host that dies (its end of the channel closes) takes its scorer with it.
				const orphan = fork(WORKER, [], { execArgv: [], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
				await new Promise<void>(resolve => orphan.once('spawn', resolve));
				const gone = once(orphan, 'exit');
				orphan.disconnect();
				assert.deepEqual(await within(gone, 15_000, 'the orphan’s exit'), [0, null]);
			});

		if (isolation === 'process')
			describe('what the scorer process started (a first load’s graph optimiser) ends with it', () => {
				/**
				 * The real bundle, plus a hook that starts a long-lived child as the graph optimiser's
				 * would be (a first load of a large model) and writes its pid to the marker; `thenCrash`:
				 * the scorer then dies as the OOM killer would end it.
				 */
				function scorerWithChild(thenCrash = false): { file: string; child: () => number | undefined } {
					const faulty = writeFaultyWorker(
						WORKER,
						marker => `
	const fs = require('node:fs');
	if (!fs.existsSync(${marker})) {
		const child = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
		fs.writeFileSync(${marker}, String(child.pid));
		${thenCrash ? "setTimeout(() => process.kill(process.pid, 'SIGKILL'), 100);" : ''}
	}`,
					);
					return {
						file: faulty.file,
						child: () => (faulty.fired() ? Number(fs.readFileSync(faulty.marker, 'utf8')) : undefined),
					};
				}

				/** Whether `pid` runs (a zombie, exited but not yet reaped by whoever inherited it, does not). */
				function running(pid: number): boolean {
					try {
						return !/^\d+ \(.*\) [ZX]/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
					} catch {
						return false;
					}
				}

				/** Waits for the child's pid, checks it runs, calls `end`, and waits for the child to end. */
				async function endsWith(scorer: { child: () => number | undefined }, end: () => unknown): Promise<void> {
					const child = await until('the scorer’s child', scorer.child, 30_000);
					assert.ok(running(child), 'the child runs while its scorer does');
					try {
						await end();
						await until(`the end of child ${child}`, () => !running(child), 10_000);
					} finally {
						// A failed test leaves nothing running.
						if (running(child)) process.kill(child, 'SIGKILL');
					}
				}

				beforeEach(function () {
					if (process.platform !== 'linux') this.skip(); // /proc; Windows has no process groups
				});

				it('when the client disposes of it', async () => {
					const scorer = scorerWithChild();
					const c = new RewardWorkerClient({ workerPath: scorer.file, request: request(dirs.base), idleMs: 0, isolation });
					clients.push(c);
					await c.load(never());
					const exited = exitOf(workerOf(c)!);
					await endsWith(scorer, () => c.dispose());
					assert.equal(await within(exited, 15_000, 'the scorer’s exit'), 'SIGKILL');
				});

				it('when it crashes', async () => {
					const scorer = scorerWithChild(true);
					const c = new RewardWorkerClient({ workerPath: scorer.file, request: request(dirs.base), idleMs: 0, isolation });
					clients.push(c);
					// Whether the load answered before the kill does not matter here.
					const load = c.load(never()).catch(() => undefined);
					const exited = exitOf(workerOf(c)!);
					await endsWith(scorer, () => within(exited, 15_000, 'the scorer’s exit'));
					assert.equal(await exited, 'SIGKILL');
					await load;
				});

				it('when its host goes', async () => {
					const scorer = scorerWithChild();
					// Started as ScorerProcess.start starts it: a process group of its own.
					const orphan = fork(scorer.file, [], { execArgv: [], detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
					const gone = once(orphan, 'exit');
					await endsWith(scorer, () => orphan.disconnect());
					await within(gone, 15_000, 'the orphan’s exit');
				});
			});

		if (isolation === 'process')
			it('scores in a worker thread when no process can be started, saying so in the log', async () => {
				const lines: string[] = [];
				const add = (m: string) => void lines.push(m);
				const logger = { trace: add, debug: add, info: add, warn: add, error: add };
				const c = new RewardWorkerClient({ workerPath: WORKER, request: request(dirs.base), idleMs: 0, logger, isolation });
				clients.push(c);
				const execPath = process.execPath;
				process.execPath = path.join(tmp, 'no-such-node');
				try {
					assertFormulaScores(await c.score(PAIRS, never()), PAIRS);
				} finally {
					process.execPath = execPath;
				}
				assert.ok(workerOf(c) instanceof Worker);
				assert.ok(
					lines.some(l => l.includes('process could not start') && l.includes('scoring in a worker thread instead')),
					lines.join('\n'),
				);
			});

		it('unloads after idleMs without calls, and the next score works', async () => {
			const c = client(dirs.base, 200);
			await c.score([PAIRS[0]], never());
			const exited = exitOf(workerOf(c)!);
			assert.equal(c.running, true);
			await new Promise(r => setTimeout(r, 300));
			assert.equal(c.running, false);
			await within(exited, 1000, 'the worker’s exit'); // the thread really ended
			assertFormulaScores(await c.score([PAIRS[0]], never()), [PAIRS[0]]);
			assert.equal(c.running, true);
		});

		it('an abort during load rejects cancelled at once; the worker ends after the step it is in', async () => {
			const c = client();
			const controller = new AbortController();
			// Abort as soon as the worker reports the first file: the load is under way. The bound starts
			// at the abort, not at the call: starting a worker thread on a loaded machine is not the point.
			let aborted!: () => void;
			const abortedP = new Promise<void>(r => (aborted = r));
			const loading = c.load(controller.signal, () => {
				controller.abort();
				aborted();
			});
			loading.catch(() => {});
			const exited = exitOf(workerOf(c)!);
			await abortedP;
			await rejectsWith(within(loading, 1000, 'the rejection'), 'cancelled');
			assert.equal(c.running, false);
			// A thread ends once the step in progress returns (never inside onnxruntime), 10 s at most.
			const code = await within(exited, 15_000, 'the worker’s exit');
			// It ends itself (code 0) once the load's step has returned: terminated in the middle of opening
			// the session (code 1), a native exception can abort the whole process, the host with it.
			if (isolation === 'thread') assert.equal(code, 0, 'the thread ended itself rather than being terminated');
		});

		if (isolation === 'thread')
			it('a close after the load ends the thread by itself (code 0), never by terminate, so never inside its warm-up pass', async () => {
				const c = client();
				await c.load(never());
				const worker = workerOf(c) as Worker;
				const exited = exitOf(worker);
				// Around the warm-up pass, which begins ~100 ms after the load's answer when no request comes
				// (worker.ts). The tiny model's pass takes too little to be hit reliably, so what is checked
				// is the way the thread ends: a terminate (code 1) is what could land inside the pass.
				await new Promise(r => setTimeout(r, 150));
				c.dispose();
				assert.equal(await within(exited, 15_000, 'the worker’s exit'), 0);
			});

		it('an abort during score rejects at once; the warm worker stays for the next call', async () => {
			const c = client();
			await c.load(never());
			const worker = workerOf(c)!;
			const controller = new AbortController();
			// Abort right after the score request went out, while the worker is busy with it.
			void whenSent(worker, 'score', () => controller.abort());
			const scoring = c.score(heavy, controller.signal);
			await rejectsWith(within(scoring, 50, 'the rejection'), 'cancelled');
			assert.equal(workerOf(c), worker);
			assertFormulaScores(await c.score([PAIRS[0]], never()), [PAIRS[0]]);
		});

		it('dispose terminates the worker and cancels calls in flight', async () => {
			const c = client();
			await c.load(never());
			const exited = exitOf(workerOf(c)!);
			const scoring = c.score(heavy, never());
			await new Promise(r => setImmediate(r));
			c.dispose();
			await rejectsWith(within(scoring, 1000, 'the rejection'), 'cancelled');
			assert.equal(c.running, false);
			// A thread ends once the score in progress returns (never inside onnxruntime), 10 s at most.
			await within(exited, 15_000, 'the worker’s exit');
		});

		it('an error thrown outside a request still answers it with error; the worker exits and the next call starts fresh', async () => {
			// The real bundle plus a fault: a throw from a callback while a "boom" score is in progress.
			const faulty = writeFaultyWorker(
				WORKER,
				() => `
	${HOST_PORT}.on('message', m => {
		if (m.type === 'score' && m.pairs[0].prompt === 'boom') setImmediate(() => { throw new Error('boom'); });
	});`,
			);
			const c = new RewardWorkerClient({ workerPath: faulty.file, request: request(dirs.base), idleMs: 0, isolation });
			clients.push(c);
			await c.load(never());
			const first = workerOf(c);
			const boom = c.score(
				heavy.map(p => ({ ...p, prompt: 'boom' })),
				never(),
			);
			const queued = c.score([PAIRS[0]], never());
			await rejectsWith(within(boom, 2000, 'the answer'), 'reward-failed', 'boom');
			await rejectsWith(within(queued, 2000, 'the rejection'), 'worker-crashed');
			assertFormulaScores(await c.score([PAIRS[0]], never()), [PAIRS[0]]);
			assert.notEqual(workerOf(c), first);
		});

		it('damaged model files: the load error names the file, through the worker', async () => {
			for (const [file, damage, says] of MODEL_FILE_DAMAGES) {
				const dir = writeTinyRewardModel(path.join(tmp, `damaged-${file.replace(/\W/g, '-')}`));
				const target = path.join(dir, file);
				fs.writeFileSync(target, damage(fs.readFileSync(target)));
				const error = await rejectsWith(
					client(dir).load(never()),
					'reward-failed',
					`has a damaged file: ${target} `,
					says,
					'truncated',
				);
				assert.equal(error.setting, 'rewardModel');
			}
		});

		for (const ranker of ['auto', 'reward'] as const) {
			it(`killed mid-scoring (ranker ${ranker}): candidates stay, ${ranker === 'auto' ? 'ranked by consensus' : 'unranked'}, the message says the worker stopped; the next run gets a fresh worker`, async () => {
				const { c, killed } = dyingClient();
				const texts = ['this code is good and clear', 'this code is broken and wrong', 'great correct code'];
				const generator: CandidateGenerator = {
					generate: async request => ({ text: at(texts, request.options.seed - 1, 'the text for this seed') }),
				};
				const settings: Settings = { ...DEFAULT_SETTINGS, candidates: 3, concurrency: 1, ranker, rewardModel: dirs.base };
				const task = rewriteTask({ instruction: 'explain this function', text: 'x', languageId: 'plaintext' });
				const start = () => new BestOfNRun({ runId: 1, task, settings, generator, scorer: c, seed: 1 }).start();

				await c.load(never());
				const first = workerOf(c)!;
				// The worker dies as the first score request reaches it (as a thread ends on an OOM kill or SIGKILL).
				const { state } = await start();
				assert.ok(killed(), 'the worker was killed as it scored');
				assert.equal(state.phase, 'done');
				assert.equal(state.candidates.length, 3);
				assert.ok(
					state.candidates.every(k => k.status === 'done' && texts.includes(k.text)),
					'every candidate stays',
				);
				assert.match(
					state.notice!.text,
					isolation === 'process'
						? /The reward worker stopped unexpectedly \(killed by SIGKILL\).*the next run starts a fresh worker/
						: /The reward worker stopped unexpectedly \(exit code 137\).*the next run starts a fresh worker/,
				);
				if (ranker === 'auto') {
					assert.equal(state.ranker.kind, 'consensus');
					assert.ok(state.candidates.every(k => k.rank !== undefined));
				} else {
					assert.equal(state.notice!.severity, 'error');
					assert.ok(state.candidates.every(k => k.score === undefined));
				}

				const next = await start();
				assert.equal(next.state.ranker.kind, 'reward');
				assert.equal(next.state.notice, undefined);
				assert.ok(workerOf(c) && workerOf(c) !== first, 'a fresh worker');
				for (const k of next.state.candidates) {
					assert.ok(Math.abs(k.score! - tinyRewardLogit(task.rewardPair(k.text))) < 1e-6);
				}
			});
		}

		it('load errors come back with their kind, and a failed load is retried by the next call', async () => {
			const dir = writeTinyRewardModel(path.join(tmp, `converted-later-${isolation}`), { withoutOnnx: true });
			const c = client(dir);
			await rejectsWith(c.load(never()), 'reward-no-onnx', 'optimum-cli');
			const worker = workerOf(c);
			// The user converts the model meanwhile; the same worker is asked again.
			writeTinyRewardModel(dir);
			assertFormulaScores(await c.score([PAIRS[0]], never()), [PAIRS[0]]);
			assert.equal(workerOf(c), worker);
		});
	});

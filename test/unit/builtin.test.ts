/**
 * The built-in generator end to end on a tiny random-weight Qwen2-shaped model (tinyCausalModel.ts):
 * real transformers.js generation with a KV cache, real onnxruntime, the real worker bundle.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import type { BuiltinLoadRequest } from '../../src/core/builtinProtocol';
import { BestOfNError, type ErrorKind } from '../../src/core/errors';
import type { CandidateSink, GenerationRequest, GenerationResult } from '../../src/core/generation';
import { builtinModelCached, formatBytes, planBuiltinDownload } from '../../src/generation/builtinDownload';
import { BuiltinGenerator } from '../../src/generation/builtinGenerator';
import { loadBuiltinModel } from '../../src/generation/builtinModel';
import { BestOfNRun } from '../../src/core/run';
import { DEFAULT_SETTINGS, type Settings } from '../../src/core/settings';
import { rewriteTask } from '../../src/core/tasks/rewrite';
import { FakeHub } from '../fixtures/fakeHub';
import { removeFaultyWorkers, writeFaultyWorker } from '../fixtures/faultyWorker';
import { MODEL_FILE_DAMAGES } from '../fixtures/damagedModelFiles';
import { writeTinyCausalModel } from '../fixtures/tinyCausalModel';
import { writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { until } from '../fixtures/until';
import { at } from '../fixtures/present';
import { ensureWorkerBundle } from '../fixtures/workerBundle';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKER = path.join(ROOT, 'dist', 'generatorWorker.js');
const never = () => new AbortController().signal;

let tmp: string;
/** The tiny models written once for this file, by what is special about each. */
let dirs: { tiny: string; ends: string; noOnnx: string; reward: string };

function load(model: string, extra: Partial<BuiltinLoadRequest> = {}): BuiltinLoadRequest {
	return { model, dtype: 'fp32', cacheDir: path.join(tmp, 'cache'), allowRemote: false, threads: 1, ...extra };
}

function ask(maxTokens = 24, seed = 11): GenerationRequest {
	return {
		model: 'builtin',
		messages: [
			{ role: 'system', content: 'You rewrite code.' },
			{ role: 'user', content: 'Make it shorter: return a + b;' },
		],
		options: { temperature: 0.9, topP: 0.95, maxTokens, contextLength: 0, seed },
	};
}

async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, ...patterns: RegExp[]): Promise<void> {
	await assert.rejects(promise, (e: unknown) => {
		assert.ok(e instanceof BestOfNError, `expected a BestOfNError, got ${String(e)}`);
		assert.equal(e.kind, kind, e.message);
		for (const p of patterns) assert.match(e.message, p);
		return true;
	});
}

/** Collects what `generateMany` reports, per candidate. */
class Collect implements CandidateSink {
	readonly events: string[] = [];
	readonly text: string[] = [];
	readonly results: (GenerationResult | undefined)[] = [];
	readonly errors: unknown[] = [];
	started(i: number, _seed: number): void {
		this.events.push(`started ${i}`);
	}
	delta(i: number, text: string): void {
		if (!this.results[i]) this.events.push(`delta ${i}`);
		this.text[i] = (this.text[i] ?? '') + text;
	}
	finished(i: number, r: GenerationResult): void {
		this.events.push(`finished ${i}`);
		this.results[i] = r;
	}
	failed(i: number, e: unknown): void {
		this.events.push(`failed ${i}`);
		this.errors[i] = e;
	}
}

before(() => {
	ensureWorkerBundle('src/generation/builtinWorker.ts', WORKER, ['src/generation', 'src/core']);
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bon-builtin-'));
	dirs = {
		tiny: writeTinyCausalModel(path.join(tmp, 'tiny')),
		ends: writeTinyCausalModel(path.join(tmp, 'ends'), { eosLogit: 3 }),
		noOnnx: writeTinyCausalModel(path.join(tmp, 'no-onnx'), { withoutOnnx: true }),
		reward: writeTinyRewardModel(path.join(tmp, 'reward')),
	};
});

after(() => {
	fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the tiny causal model fixture, through transformers.js', () => {
	it('generates with AutoModelForCausalLM and its KV cache; left padding changes nothing', async () => {
		const T = require('@huggingface/transformers') as typeof Transformers;
		T.env.allowRemoteModels = false;
		const tokenizer = await T.AutoTokenizer.from_pretrained(dirs.tiny);
		const model = await T.AutoModelForCausalLM.from_pretrained(dirs.tiny, { dtype: 'fp32' });
		try {
			const greedy = async (texts: string[]) =>
				tokenizer.batch_decode(
					(await model.generate({
						...tokenizer(texts, { padding: true }),
						max_new_tokens: 6,
						do_sample: false,
					})) as Transformers.Tensor,
					{
						skip_special_tokens: true,
					},
				);
			const alone = at(await greedy(['short']), 0);
			const both = await greedy(['short', 'a much longer prompt than the other']);
			const [padded, long] = [at(both, 0), at(both, 1)];
			assert.equal(padded, alone, 'a left-padded row generates what it generates alone');
			assert.ok(alone.length > 'short'.length && long.startsWith('a much longer prompt'));
			const prompt = tokenizer.apply_chat_template([{ role: 'user', content: 'hi' }], {
				tokenize: false,
				add_generation_prompt: true,
			});
			assert.equal(prompt, '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
		} finally {
			await model.dispose();
		}
	});
});

describe('builtinModel (in process)', () => {
	it('samples distinct rows, streams each, and is reproducible with a seed', async () => {
		const m = await loadBuiltinModel(load(dirs.tiny));
		try {
			assert.equal(m.info.modelType, 'qwen2');
			const batch = { messages: ask().messages, rows: 4, temperature: 0.9, topP: 0.95, maxTokens: 20, seed: 5 };
			const streamed = ['', '', '', ''];
			let deltas = 0;
			const first = await m.generate(
				batch,
				() => false,
				(row, text) => {
					streamed[row] += text;
					deltas++;
				},
			);
			assert.equal(new Set(first.rows.map(r => r.text)).size, 4, 'four distinct samples');
			assert.deepEqual(
				first.rows.map(r => [r.tokens, r.doneReason]),
				Array.from({ length: 4 }, () => [20, 'length']),
			);
			assert.deepEqual(
				streamed,
				first.rows.map(r => r.text),
				'the streamed pieces add up to each text',
			);
			assert.ok(deltas >= 40, `token by token (${deltas} deltas for 80 tokens)`);
			const again = await m.generate(
				batch,
				() => false,
				() => {},
			);
			assert.deepEqual(
				again.rows.map(r => r.text),
				first.rows.map(r => r.text),
				'same seed, same texts',
			);
			const other = await m.generate(
				{ ...batch, seed: 6 },
				() => false,
				() => {},
			);
			assert.notDeepEqual(
				other.rows.map(r => r.text),
				first.rows.map(r => r.text),
			);
		} finally {
			await m.dispose();
		}
	});

	it('ends a row at the end token, reported as stop', async () => {
		const m = await loadBuiltinModel(load(dirs.ends));
		try {
			const { rows } = await m.generate(
				{ messages: ask().messages, rows: 2, temperature: 1, topP: 1, maxTokens: 200, seed: 1 },
				() => false,
				() => {},
			);
			for (const r of rows) {
				assert.equal(r.doneReason, 'stop');
				assert.ok(r.tokens < 200);
				assert.ok(!r.text.includes('<|im_end|>'));
			}
		} finally {
			await m.dispose();
		}
	});

	it('names what is missing or unusable, and the setting to change', async () => {
		await rejectsWith(
			loadBuiltinModel(load(path.join(tmp, 'nowhere'))),
			'model-not-found',
			/does not exist/,
			/bestOfN\.builtin\.model/,
		);
		await rejectsWith(loadBuiltinModel(load(dirs.noOnnx)), 'model-not-found', /no ONNX export for dtype fp32/, /onnx\/model\.onnx/);
		await rejectsWith(
			loadBuiltinModel(load(dirs.tiny, { dtype: 'q4f16' })),
			'model-not-found',
			/model_q4f16\.onnx/,
			/model\.onnx \(dtype fp32\)/,
		);
		await rejectsWith(loadBuiltinModel(load(dirs.reward)), 'builtin-failed', /"bert" model/, /text generation/);
		await rejectsWith(loadBuiltinModel(load('someone/some-model')), 'model-not-found', /downloads are turned off/);
	});
});

describe('BuiltinGenerator (dist/generatorWorker.js)', () => {
	const clients: BuiltinGenerator[] = [];
	function client(extra: { idleMs?: number; batch?: boolean; model?: string } = {}): BuiltinGenerator {
		const c = new BuiltinGenerator({
			workerPath: WORKER,
			request: load(extra.model ?? dirs.tiny),
			idleMs: extra.idleMs ?? 0,
			batch: extra.batch,
		});
		clients.push(c);
		return c;
	}
	/** What the host sends the worker (white-box: tests only). */
	function spy(c: BuiltinGenerator): { type: string; batch?: { rows: number } }[] {
		const sent: { type: string; batch?: { rows: number } }[] = [];
		const conn = c['connection']();
		const post = conn.worker.postMessage.bind(conn.worker);
		conn.worker.postMessage = (m: { type: string; batch?: { rows: number } }) => {
			sent.push(m);
			post(m);
		};
		return sent;
	}
	afterEach(() => {
		for (const c of clients.splice(0)) c.dispose();
		removeFaultyWorkers();
	});

	it('streams N distinct candidates from one batch, and measures tokens per second', async () => {
		const c = client();
		assert.equal(c.running, false, 'nothing starts before the first call');
		const sent = spy(c);
		const sink = new Collect();
		await c.generateMany(ask(16), 4, 1, never(), sink);
		assert.deepEqual(
			sent.map(m => [m.type, m.batch?.rows]),
			[
				['load', undefined],
				['generate', 4],
			],
		);
		assert.equal(new Set(sink.results.map(r => r?.text)).size, 4);
		assert.deepEqual(
			sink.text,
			sink.results.map(r => r?.text),
			'deltas add up to each result',
		);
		for (let i = 0; i < 4; i++)
			assert.ok(sink.events.indexOf(`delta ${i}`) < sink.events.indexOf(`finished ${i}`), 'text streams before the end');
		assert.ok(sink.results.every(r => r?.tokens === 16 && r.doneReason === 'length'));
		assert.equal(c.lastSpeed?.tokens, 64);
		assert.ok((c.lastSpeed?.tokensPerSecond ?? 0) > 0);
	});

	it('joins concurrent generate calls for one prompt into one batch', async () => {
		const c = client();
		const sent = spy(c);
		const request = ask(12);
		const results = await Promise.all(
			[0, 1, 2].map(i => c.generate({ ...request, options: { ...request.options, seed: 40 + i } }, never(), () => {})),
		);
		assert.deepEqual(
			sent.filter(m => m.type === 'generate').map(m => m.batch?.rows),
			[3],
		);
		assert.equal(new Set(results.map(r => r.text)).size, 3);
	});

	it('one after another when batching is off, each candidate with its own seed', async () => {
		const c = client({ batch: false });
		const sent = spy(c);
		const sink = new Collect();
		await c.generateMany(ask(10), 3, 1, never(), sink);
		assert.deepEqual(
			sent.filter(m => m.type === 'generate').map(m => m.batch?.rows),
			[1, 1, 1],
		);
		assert.equal(new Set(sink.results.map(r => r?.text)).size, 3);
	});

	it('cancel stops between tokens and frees the worker; the next run reuses the loaded model', async () => {
		const c = client();
		const sent = spy(c);
		const controller = new AbortController();
		const sink = new Collect();
		const long = c.generateMany(ask(1500), 2, 1, controller.signal, sink);
		await until('streaming', () => sink.text.some(t => (t?.length ?? 0) > 3), 30_000);
		controller.abort();
		await rejectsWith(long, 'cancelled');
		assert.deepEqual(sink.results, [], 'a cancelled candidate never finishes');
		// The worker ends the batch at its next token and answers the next request with the warm model.
		const next = await c.generate(ask(5), never(), () => {});
		assert.equal(next.tokens, 5);
		assert.deepEqual(
			sent.map(m => m.type),
			['load', 'generate', 'cancel', 'generate'],
			'one load: the second run used the model already in memory',
		);
	});

	it('dispose during a generation cancels it before ending the thread, and this process lives on', async () => {
		// Terminating a thread inside an onnxruntime step aborted the whole process (and would take the
		// extension host with it, e.g. when bestOfN.builtin.model changes mid-run): several tries, since
		// the step has to be caught running.
		for (let i = 0; i < 4; i++) {
			const c = client();
			const sent = spy(c);
			const worker = c['connection']().worker;
			const exited = new Promise<number>(resolve => worker.once('exit', resolve));
			const sink = new Collect();
			const long = c.generateMany(ask(1500), 2, 1, never(), sink);
			await until('streaming', () => sink.text.some(t => (t?.length ?? 0) > 3), 30_000);
			c.dispose();
			await long;
			assert.deepEqual(sink.results, [], 'no candidate finishes');
			for (const e of sink.errors) assert.equal(e instanceof BestOfNError && e.kind, 'cancelled', String(e));
			assert.equal(sink.errors.length, 2, 'both candidates end as cancelled');
			assert.equal(c.running, true, 'the thread ends its step first');
			assert.deepEqual(sent.map(m => m.type).slice(-1), ['cancel'], 'the generation is cancelled, not cut off');
			await exited;
			await until('the thread to be gone', () => !c.running, 15_000);
		}
	});

	it('cancelling one joined candidate ends its row only', async () => {
		const c = client();
		const one = new AbortController();
		let streamed = 0;
		const calls = [one.signal, never()].map(signal => c.generate(ask(60), signal, () => streamed++));
		await until('streaming', () => streamed > 4, 30_000);
		one.abort();
		await rejectsWith(at(calls, 0), 'cancelled');
		const other = await at(calls, 1);
		assert.equal(other.tokens, 60);
	});

	it('unloads after idleMs without calls, ending the thread that held the model, and starts again on the next', async () => {
		const c = client({ idleMs: 0 }); // 0 keeps it: the idle time below is the one that applies
		await c.generate(ask(3), never(), () => {});
		// The model lives in the worker thread's memory (its isolate and onnxruntime session): the thread exiting frees it.
		const worker = c['connection']().worker;
		let exitCode: number | undefined;
		worker.once('exit', code => (exitCode = code));
		assert.equal(c.running, true);
		// A new idle time reaches the worker idle now, without waiting for another call (the setting's promise).
		c.idleMs = 50;
		await until('idle unload', () => !c.running, 5_000);
		assert.notEqual(exitCode, undefined, 'running turns false only once the thread has exited');
		assert.equal(worker.threadId, -1, 'the thread is gone');
		const again = await c.generate(ask(3), never(), () => {});
		assert.equal(again.tokens, 3);
		assert.equal(c.running, true, 'a fresh thread loaded the model again');
	});

	/** A whole run on `c`, as the extension and the CLI make one: what a person would see of it. */
	function run(c: BuiltinGenerator, settings: Partial<Settings> = {}) {
		const task = rewriteTask({ instruction: 'make it shorter', text: 'return a + b;', languageId: 'plaintext' });
		const all: Settings = { ...DEFAULT_SETTINGS, candidates: 3, concurrency: 1, maxTokens: 40, ranker: 'consensus', ...settings };
		return new BestOfNRun({ runId: 1, task, settings: all, generator: c, seed: 1 }).start();
	}

	/**
	 * A generator whose worker thread ends the way the system ends it (out of memory, a kill) at its
	 * first token after `generations` finished generations: the real bundle, plus a hook that exits the
	 * thread there with code 137. Only the first worker dies (a marker file says it happened); the ones
	 * started after it are the real bundle at work.
	 */
	function dyingClient(generations: number, extra: { batch?: boolean } = {}): { c: BuiltinGenerator; killed: () => boolean } {
		// Between tokens (as a delta is sent) no onnxruntime call is in flight on the thread.
		const dying = writeFaultyWorker(
			WORKER,
			marker => `
	const fs = require('node:fs');
	const port = require('node:worker_threads').parentPort;
	const post = port.postMessage.bind(port);
	let generated = 0;
	port.postMessage = m => {
		if (m.type === 'generated') generated++;
		if (m.type === 'delta' && generated === ${generations} && !fs.existsSync(${marker})) {
			fs.writeFileSync(${marker}, '');
			process.exit(137);
		}
		post(m);
	};`,
		);
		const c = new BuiltinGenerator({ workerPath: dying.file, request: load(dirs.tiny), idleMs: 0, batch: extra.batch });
		clients.push(c);
		return { c, killed: dying.fired };
	}

	const STOPPED = /The built-in model's worker stopped unexpectedly \(exit code 137\); the next run starts a fresh one/;

	it('killed mid-generation: the run fails saying the worker stopped, and the next run gets a fresh worker', async () => {
		const { c, killed } = dyingClient(0);
		const { state } = await run(c);
		assert.ok(killed(), 'the worker was killed while it streamed');
		assert.equal(state.phase, 'failed');
		assert.equal(state.candidates.length, 3);
		for (const k of state.candidates) {
			assert.equal(k.status, 'failed');
			assert.match(k.error ?? '', STOPPED);
		}
		assert.match(state.notice?.text ?? '', STOPPED);
		assert.equal(c.running, false, 'the dead worker is let go');

		const next = await run(c);
		assert.equal(next.state.phase, 'done', next.state.notice?.text);
		assert.ok(next.state.candidates.every(k => k.status === 'done' && k.text.length > 0));
		assert.ok(c.running, 'a fresh worker made them');
	});

	it('killed during one of several candidates made one after another: only that candidate fails', async () => {
		const { c, killed } = dyingClient(1, { batch: false });
		const { state } = await run(c);
		assert.ok(killed());
		assert.equal(state.phase, 'done', state.notice?.text);
		// Candidates are listed best first; by their id, they are in the order they were made.
		const byId = [...state.candidates].sort((a, b) => a.id - b.id);
		assert.deepEqual(
			byId.map(k => k.status),
			['done', 'failed', 'done'],
		);
		assert.match(byId[1]?.error ?? '', STOPPED);
		assert.ok(byId[2]?.text, 'the candidate after it came from a fresh worker');
	});

	it('damaged model files: every candidate fails with a message naming the file; the next run loads the repaired model', async () => {
		for (const [file, damage, says] of MODEL_FILE_DAMAGES) {
			const dir = writeTinyCausalModel(path.join(tmp, `damaged-${file.replace(/\W/g, '-')}`));
			const target = path.join(dir, file);
			fs.writeFileSync(target, damage(fs.readFileSync(target)));
			const c = client({ model: dir });
			const { state } = await run(c);
			assert.equal(state.phase, 'failed', file);
			for (const k of [...state.candidates.map(k => k.error), state.notice?.text]) {
				assert.ok(k?.includes(`has a damaged file: ${target} `), `${file}: ${k}`);
				assert.match(k ?? '', says);
				assert.match(k ?? '', /truncated.*bestOfN\.builtin\.model/);
			}
			// The file is copied again; the next run asks again rather than remembering the failure.
			writeTinyCausalModel(dir);
			const next = await run(c);
			assert.equal(next.state.phase, 'done', `${file}: ${next.state.notice?.text ?? ''}`);
		}
	});

	it('fails each candidate with the load error', async () => {
		const c = client({ model: dirs.noOnnx });
		const sink = new Collect();
		await c.generateMany(ask(3), 2, 1, never(), sink);
		assert.deepEqual(sink.events, ['started 0', 'started 1', 'failed 0', 'failed 1']);
		assert.ok(sink.errors[0] instanceof BestOfNError && sink.errors[0].kind === 'model-not-found');
	});
});

describe('the built-in model download, sized before it starts', () => {
	let hub: FakeHub;
	let saved: string | undefined;
	before(async () => {
		hub = new FakeHub();
		hub.serve('test-org/tiny-chat', dirs.tiny);
		await hub.start();
		saved = process.env.HF_ENDPOINT;
		process.env.HF_ENDPOINT = hub.url;
	});
	after(async () => {
		if (saved === undefined) delete process.env.HF_ENDPOINT;
		else process.env.HF_ENDPOINT = saved;
		await hub.close();
	});

	it('states the bytes of every file a load reads, downloads only on request, then needs nothing', async () => {
		const cacheDir = path.join(tmp, 'download-cache');
		assert.equal(builtinModelCached('test-org/tiny-chat', 'fp32', cacheDir), false);
		const plan = await planBuiltinDownload('test-org/tiny-chat', 'fp32', cacheDir);
		const size = (f: string) => fs.statSync(path.join(dirs.tiny, f)).size;
		assert.deepEqual(
			plan.files.map(f => [f.file, f.bytes]),
			['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx'].map(f => [f, size(f)]),
		);
		assert.equal(
			plan.bytes,
			plan.files.reduce((n, f) => n + f.bytes, 0),
		);
		assert.equal(hub.filesDownloaded('test-org/tiny-chat').length, 0, 'sizing downloads nothing');

		const c = new BuiltinGenerator({
			workerPath: WORKER,
			request: load('test-org/tiny-chat', { cacheDir, allowRemote: true }),
			idleMs: 0,
		});
		try {
			const progress: string[] = [];
			await c.load(never(), p => progress.push(`${p.status} ${p.file}`));
			assert.ok(progress.includes('done onnx/model.onnx'), progress.join('\n'));
		} finally {
			c.dispose();
		}
		assert.equal(builtinModelCached('test-org/tiny-chat', 'fp32', cacheDir), true);
		assert.deepEqual(await planBuiltinDownload('test-org/tiny-chat', 'fp32', cacheDir), {
			model: 'test-org/tiny-chat',
			files: [],
			bytes: 0,
		});
	});

	it('names a missing export or model, and an unreachable Hub', async () => {
		const cacheDir = path.join(tmp, 'other-cache');
		await rejectsWith(
			planBuiltinDownload('test-org/tiny-chat', 'q4', cacheDir),
			'model-not-found',
			/no ONNX export for dtype q4/,
			/bestOfN\.builtin\.dtype/,
		);
		await rejectsWith(planBuiltinDownload('test-org/nothing', 'q8', cacheDir), 'model-not-found', /no config\.json/);
		process.env.HF_ENDPOINT = 'http://127.0.0.1:9';
		try {
			await rejectsWith(planBuiltinDownload('test-org/tiny-chat', 'fp32', cacheDir), 'unreachable', /127\.0\.0\.1:9/);
		} finally {
			process.env.HF_ENDPOINT = hub.url;
		}
		assert.equal(formatBytes(639_000_000), '639 MB');
		assert.equal(formatBytes(1_340_000_000), '1.3 GB');
	});
});

/**
 * Faults of a model server during a run, on each backend through the real clients and the loopback
 * servers: each one costs only the candidates of the request it hit, the others are ranked, and the
 * failed candidate's message says what happened. A candidate goes out one per request here (Ollama
 * always; the OpenAI-compatible server ignores `n`), so "its own candidates" is exactly one.
 */
import * as assert from 'node:assert/strict';
import type { PickerState } from '../../src/core/protocol';
import { BestOfNRun } from '../../src/core/run';
import { DEFAULT_SETTINGS, type Settings } from '../../src/core/settings';
import { rewriteTask } from '../../src/core/tasks/rewrite';
import { createBackend } from '../../src/generation/backends';
import { FakeOllama, type StreamFault } from '../fixtures/fakeOllama';
import { FakeVllm } from '../fixtures/fakeVllm';
import { at } from '../fixtures/present';

const OLLAMA_MODEL = 'llama3.1:8b';
const VLLM_MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const task = rewriteTask({ instruction: 'improve', text: 'old text', languageId: 'plaintext' });
/** Each candidate's text: this, then its seed (distinct texts, or the run would merge them). */
const REPLY = 'one two three four five six seven eight';

/** One backend's server, with the faults the tests inject into the request of candidate 2. */
interface Server {
	readonly settings: Settings;
	/** Requests of generation so far. */
	requests(): number;
	/** Candidate 2's request gets this (the others are healthy). */
	fault(kind: 'http500' | 'errorLine' | StreamFault['kind'] | undefined): void;
	removeModel(): void;
	restart(): void;
	tokenDelay(ms: number): void;
	waitForIdle(): Promise<void>;
	close(): Promise<void>;
}

async function ollamaServer(): Promise<Server> {
	const fake = new FakeOllama({ models: [OLLAMA_MODEL], respond: r => `${REPLY} ${r.seed}`, tokenDelayMs: 2 });
	const { url } = await fake.start();
	// Candidate i is request i+1 (concurrency 1).
	const second = (id: number) => id === 2;
	return {
		settings: { ...DEFAULT_SETTINGS, backend: 'ollama', ollamaHost: url, model: OLLAMA_MODEL },
		requests: () => fake.requests.length,
		fault(kind) {
			fake.errorFor =
				kind === 'http500'
					? r => (second(r.id) ? { status: 500, error: 'llama runner process has terminated: signal: killed' } : undefined)
					: kind === 'errorLine'
						? r => (second(r.id) ? { status: 500, error: 'CUDA error: out of memory', afterChunks: 2 } : undefined)
						: undefined;
			fake.faultFor =
				kind === 'http500' || kind === 'errorLine' || kind === undefined
					? undefined
					: r => (second(r.id) ? { kind, afterChunks: 2 } : undefined);
		},
		removeModel: () => (fake.models = []),
		restart: () => fake.restart(),
		tokenDelay: ms => (fake.tokenDelayMs = ms),
		waitForIdle: () => fake.waitForIdle(1500),
		close: () => fake.close(),
	};
}

async function vllmServer(): Promise<Server> {
	// Ignoring `n`, as Ollama's /v1 does: the first request carries candidate 1, then one request each.
	const fake = new FakeVllm({ models: [VLLM_MODEL], respond: r => `${REPLY} ${r.body.seed}`, tokenDelayMs: 2, honoursN: false });
	await fake.start();
	const second = (id: number) => id === 2;
	return {
		settings: { ...DEFAULT_SETTINGS, backend: 'openai', openaiBaseUrl: fake.baseUrl, model: VLLM_MODEL },
		requests: () => fake.requests.length,
		fault(kind) {
			fake.errorFor =
				kind === 'http500'
					? r => (second(r.id) ? { status: 500, message: 'KV cache exhausted', type: 'InternalServerError' } : undefined)
					: kind === 'errorLine'
						? r => (second(r.id) ? { status: 500, message: 'engine core died', afterChunks: 3 } : undefined)
						: undefined;
			fake.faultFor =
				kind === 'http500' || kind === 'errorLine' || kind === undefined
					? undefined
					: r => (second(r.id) ? { kind, afterChunks: 3 } : undefined);
		},
		removeModel: () => (fake.models = []),
		restart: () => fake.restart(),
		tokenDelay: ms => (fake.tokenDelayMs = ms),
		waitForIdle: () => fake.waitForIdle(1500),
		close: () => fake.close(),
	};
}

function run(settings: Settings, over: Partial<Settings> = {}, onState?: (state: PickerState) => void) {
	const all = { ...settings, candidates: 3, concurrency: 1, ranker: 'consensus' as const, requestIdleSeconds: 1, ...over };
	const r = new BestOfNRun({ runId: 1, task, settings: all, generator: createBackend(all), seed: 7 });
	if (onState) r.onState(onState);
	return r.start();
}

/** Candidate 2 failed with a message matching `message`; candidates 1 and 3 are done and ranked. */
function assertOnlySecondFailed(state: PickerState, message: RegExp): void {
	assert.equal(state.phase, 'done', state.notice?.text);
	const byId = [...state.candidates].sort((a, b) => a.id - b.id);
	assert.deepEqual(
		byId.map(c => c.status),
		['done', 'failed', 'done'],
		byId.map(c => c.error ?? '').join(' | '),
	);
	assert.match(at(byId, 1).error ?? '', message);
	assert.ok(
		byId.filter(c => c.status === 'done').every(c => c.text === `${REPLY} ${c.seed}` && c.rank !== undefined),
		'the others are whole and ranked',
	);
}

const BACKENDS = [
	{ name: 'Ollama', start: ollamaServer, server: /^Ollama at http:\/\/127\.0\.0\.1:\d+/ },
	{ name: 'OpenAI-compatible', start: vllmServer, server: /^The server at http:\/\/127\.0\.0\.1:\d+\/v1/ },
];

for (const backend of BACKENDS) {
	describe(`faults on the ${backend.name} backend: each costs only its own candidate`, () => {
		let server: Server;
		beforeEach(async () => {
			server = await backend.start();
		});
		afterEach(async () => {
			await server.close();
		});

		const cases: Array<[string, Parameters<Server['fault']>[0], RegExp]> = [
			[
				'HTTP 500, in the server’s words',
				'http500',
				backend.name === 'Ollama'
					? /: llama runner process has terminated: signal: killed$/
					: /answered HTTP 500: KV cache exhausted$/,
			],
			[
				'an error line mid-stream, in the server’s words',
				'errorLine',
				backend.name === 'Ollama' ? /: CUDA error: out of memory$/ : /: engine core died$/,
			],
			[
				'a malformed stream line, saying so',
				'malformed',
				/sent a stream (line|event) that is not JSON before the candidate finished/,
			],
			['headers and then silence, naming the idle setting', 'silence', /sent nothing for 1 s .*raise bestOfN\.requestIdleSeconds\./],
			[
				'a connection reset mid-stream, saying the connection closed',
				'reset',
				/connection to .* closed before the candidate finished: the server stopped, restarted or dropped it/,
			],
		];
		for (const [name, fault, message] of cases) {
			it(name, async () => {
				server.fault(fault);
				const { state, error } = await run(server.settings);
				assert.equal(error, undefined);
				assertOnlySecondFailed(state, message);
				const failed = state.candidates.find(c => c.status === 'failed')!;
				if (fault !== 'reset') assert.match(failed.error!, backend.server, 'names the server');
				assert.equal(server.requests(), 3, 'the run went on with the next request');
				await server.waitForIdle();
			});
		}

		it('a server restarted mid-run: the stream in flight fails, the next request succeeds', async () => {
			// Slow enough that the run reports the second candidate's text before it ends.
			server.tokenDelay(40);
			let restarted = false;
			const { state } = await run(server.settings, { candidates: 3 }, s => {
				const second = s.candidates.find(c => c.id === 1);
				if (!restarted && second?.status === 'streaming' && second.text) {
					restarted = true;
					server.restart();
				}
			});
			assert.ok(restarted);
			assertOnlySecondFailed(state, /connection to .* closed before the candidate finished: the server stopped, restarted/);
			await server.waitForIdle();
		});

		it('a model removed between runs fails the next run once, naming the model and what to do', async () => {
			server.fault(undefined);
			const first = await run(server.settings);
			assert.equal(first.state.phase, 'done');
			const before = server.requests();
			server.removeModel();
			const { state, error } = await run(server.settings);
			assert.equal(state.phase, 'failed');
			assert.equal(error?.kind, 'model-not-found');
			assert.equal(error?.setting, 'model');
			assert.match(
				state.notice!.text,
				backend.name === 'Ollama'
					? /^Model "llama3\.1:8b" is not installed on .*Pull it with `ollama pull llama3\.1:8b`\./
					: /^Model "Qwen\/Qwen2\.5-7B-Instruct" is not served at .*Set bestOfN\.model to a model it serves\./,
			);
			assert.equal(server.requests() - before, 1, 'not asked again for every candidate');
		});
	});
}

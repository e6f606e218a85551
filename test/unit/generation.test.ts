/**
 * OllamaGenerator and the admin calls, through the real `ollama` client, against the fake server.
 * The cancellation tests read the server's own counters: a rejected promise is not enough, the
 * server must also see the request gone.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BestOfNError, type ErrorKind } from '../../src/core/errors';
import type { GenerationOptions, GenerationRequest } from '../../src/core/generation';
import { toBestOfNError } from '../../src/generation/ollamaErrors';
import { listModels, listRunning, pullModel, serverVersion, type PullProgress } from '../../src/generation/ollamaAdmin';
import { ollamaCatalog } from '../../src/generation/modelCatalog';
import { OllamaGenerator } from '../../src/generation/ollamaGenerator';
import { createBackend } from '../../src/generation/backends';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { FakeOllama } from '../fixtures/fakeOllama';
import { at } from '../fixtures/present';

const MODEL = 'llama3.1:8b';
const OPTIONS: GenerationOptions = { temperature: 0.8, topP: 0.95, maxTokens: 256, contextLength: 0, seed: 1 };

function request(overrides: Partial<GenerationOptions> = {}, model = MODEL): GenerationRequest {
	return {
		model,
		messages: [
			{ role: 'system', content: 'You rewrite code.' },
			{ role: 'user', content: 'Make it shorter.' },
		],
		options: { ...OPTIONS, ...overrides },
	};
}

const longText = () => Array.from({ length: 400 }, (_, i) => `w${i}`).join(' ');
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<BestOfNError> {
	try {
		await promise;
	} catch (e) {
		assert.ok(e instanceof BestOfNError, `expected a BestOfNError, got ${String(e)}`);
		return e;
	}
	assert.fail('expected a rejection');
}

function assertKind(e: BestOfNError, kind: ErrorKind, ...mentions: string[]): void {
	assert.equal(e.kind, kind, e.message);
	for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" should mention ${m}`);
}

/** A port that was just free: nothing listens there. */
async function closedPort(): Promise<number> {
	const server = http.createServer();
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise(resolve => server.close(resolve));
	return port;
}

describe('OllamaGenerator against the fake server', () => {
	let fake: FakeOllama;
	let host: string;
	let generator: OllamaGenerator;

	beforeEach(async () => {
		fake = new FakeOllama({ models: [MODEL], tokenDelayMs: 1, parallel: 4 });
		host = (await fake.start()).url;
		generator = new OllamaGenerator({ host });
	});
	afterEach(async () => {
		await fake.close();
	});

	it('delivers deltas in order that join to the final text, with the server counters', async () => {
		fake.respond = () => 'const x = 1; return x;';
		const deltas: string[] = [];
		const result = await generator.generate(request(), new AbortController().signal, d => deltas.push(d));
		assert.deepEqual(deltas, ['const', ' x', ' =', ' 1;', ' return', ' x;']);
		assert.equal(result.text, 'const x = 1; return x;');
		assert.equal(result.tokens, 6);
		assert.equal(result.doneReason, 'stop');
		assert.ok(result.evalMs !== undefined && result.evalMs > 0 && result.evalMs < 10_000, `evalMs ${result.evalMs}`);
	});

	it('reports done_reason "length" when maxTokens stops the candidate', async () => {
		fake.respond = () => longText();
		const result = await generator.generate(request({ maxTokens: 16 }), new AbortController().signal, () => undefined);
		assert.equal(result.doneReason, 'length');
		assert.equal(result.tokens, 16);
	});

	it('sends each seed and the options exactly, and different seeds give different texts', async () => {
		const texts = await Promise.all(
			[11, 22, 33].map(seed =>
				generator.generate(request({ seed, contextLength: seed === 33 ? 4096 : 0 }), new AbortController().signal, () => undefined),
			),
		);
		assert.equal(new Set(texts.map(t => t.text)).size, 3);
		const bySeed = new Map(fake.requests.map(r => [r.seed, r.body]));
		assert.deepEqual([...bySeed.keys()].sort(), [11, 22, 33]);
		assert.deepEqual(bySeed.get(11)!.options, { seed: 11, temperature: 0.8, top_p: 0.95, num_predict: 256 });
		assert.deepEqual(bySeed.get(33)!.options, { seed: 33, temperature: 0.8, top_p: 0.95, num_predict: 256, num_ctx: 4096 });
		for (const body of bySeed.values()) {
			assert.equal(body.model, MODEL);
			assert.equal(body.stream, true);
			assert.equal(body.keep_alive, undefined, "Ollama's own keep_alive applies");
			assert.deepEqual(body.messages, request().messages);
		}
		// Same seed, same options: same text.
		const again = await generator.generate(request({ seed: 22 }), new AbortController().signal, () => undefined);
		assert.equal(again.text, at(texts, 1).text);
	});

	it('aborting mid-stream rejects as cancelled at once and leaves nothing open on the server', async () => {
		fake.tokenDelayMs = 10;
		fake.respond = () => longText();
		const controller = new AbortController();
		const deltas: string[] = [];
		const pending = generator.generate(request(), controller.signal, d => deltas.push(d));
		while (deltas.length < 3) await sleep(2);
		assert.equal(fake.openRequests, 1);
		const abortedAt = Date.now();
		controller.abort();
		const error = await rejection(pending);
		assertKind(error, 'cancelled');
		assert.ok(Date.now() - abortedAt < 1000, `rejected ${Date.now() - abortedAt} ms after abort`);
		const deltasAtAbort = deltas.length;
		await fake.waitForIdle(1500);
		assert.equal(fake.active, 0);
		await sleep(30);
		assert.equal(deltas.length, deltasAtAbort, 'no delta arrives after the abort');
	});

	it('aborting a request still queued on the server drops it there too', async () => {
		fake.parallel = 1;
		fake.tokenDelayMs = 10;
		// the first holds the slot for ~2 s (200 words, under the request's num_predict)
		const holder = Array.from({ length: 200 }, (_, i) => `h${i}`).join(' ');
		fake.respond = r => (r.seed === 1 ? holder : 'queued text');
		const first = generator.generate(request({ seed: 1 }), new AbortController().signal, () => undefined);
		const controller = new AbortController();
		const queued = generator.generate(request({ seed: 2 }), controller.signal, () => undefined);
		while (fake.openRequests < 2) await sleep(2);
		assert.equal(fake.active, 1, 'the second request is waiting for the slot');
		const abortedAt = Date.now();
		controller.abort();
		assertKind(await rejection(queued), 'cancelled');
		assert.ok(Date.now() - abortedAt < 1000, `rejected ${Date.now() - abortedAt} ms after abort`);
		for (const deadline = Date.now() + 1000; fake.openRequests > 1 && Date.now() < deadline;) await sleep(2);
		assert.equal(fake.openRequests, 1, 'only the running request is still open');
		assert.equal((await first).text, holder);
		await fake.waitForIdle(1500);
		assert.equal(fake.maxConcurrent, 1);
	});

	it('aborting one candidate leaves the others running', async () => {
		fake.tokenDelayMs = 3;
		fake.respond = r => `candidate ${r.seed} a b c d e f g`;
		const keep = new AbortController();
		const drop = new AbortController();
		const kept = generator.generate(request({ seed: 1 }), keep.signal, () => undefined);
		const dropped = generator.generate(request({ seed: 2 }), drop.signal, () => drop.abort());
		assertKind(await rejection(dropped), 'cancelled');
		assert.equal((await kept).text, 'candidate 1 a b c d e f g');
		await fake.waitForIdle(1500);
	});

	it('aborting before the start sends nothing', async () => {
		const controller = new AbortController();
		controller.abort();
		let deltas = 0;
		assertKind(await rejection(generator.generate(request(), controller.signal, () => deltas++)), 'cancelled');
		await sleep(20);
		assert.equal(fake.requests.length, 0);
		assert.equal(deltas, 0);
	});

	it('with parallel=1, three concurrent candidates run one at a time and all finish', async () => {
		fake.parallel = 1;
		fake.tokenDelayMs = 2;
		const results = await Promise.all(
			[1, 2, 3].map(seed => generator.generate(request({ seed }), new AbortController().signal, () => undefined)),
		);
		assert.equal(fake.maxConcurrent, 1);
		assert.equal(fake.requests.length, 3);
		assert.equal(new Set(results.map(r => r.text)).size, 3);
		for (const r of results) assert.ok(r.text.length > 0 && r.tokens! > 0);
	});

	it('a host where nothing listens is unreachable, naming the host', async () => {
		const nowhere = `http://127.0.0.1:${await closedPort()}`;
		const error = await rejection(
			new OllamaGenerator({ host: nowhere }).generate(request(), new AbortController().signal, () => undefined),
		);
		assertKind(error, 'unreachable', nowhere, 'ollama serve', 'bestOfN.ollama.host');
		assert.equal(
			error.message,
			`Could not reach Ollama at ${nowhere}. Start it with \`ollama serve\`, or point bestOfN.ollama.host at your server.`,
		);
	});

	it('a host name that does not resolve says so instead of asking to start Ollama', async () => {
		const unresolvable = 'http://nonexistent.invalid:11434';
		const error = await rejection(
			new OllamaGenerator({ host: unresolvable }).generate(request(), new AbortController().signal, () => undefined),
		);
		assert.equal(error.kind, 'unreachable', error.message);
		// ENOTFOUND normally; a machine without a resolver answers EAI_AGAIN.
		assert.match(
			error.message,
			/^Could not resolve the host name in http:\/\/nonexistent\.invalid:11434 \((ENOTFOUND|EAI_AGAIN)\)\. Check bestOfN\.ollama\.host/,
		);
		assert.ok(!error.message.includes('ollama serve'), error.message);
		assertKind(await rejection(listModels(unresolvable)), 'unreachable', 'Could not resolve the host name in');
	});

	it('an https:// host in front of plain HTTP is a TLS failure, with its code', async () => {
		const tlsHost = host.replace(/^http:/, 'https:');
		const error = await rejection(
			new OllamaGenerator({ host: tlsHost }).generate(request(), new AbortController().signal, () => undefined),
		);
		assertKind(
			error,
			'unreachable',
			`Could not make a trusted HTTPS connection to ${tlsHost} (ERR_SSL_WRONG_VERSION_NUMBER).`,
			'plain HTTP',
		);
		assert.ok(!error.message.includes('ollama serve'), error.message);
	});

	it('an unknown model is model-not-found, naming the model and the pull command', async () => {
		const error = await rejection(generator.generate(request({}, 'mistral:7b'), new AbortController().signal, () => undefined));
		assertKind(error, 'model-not-found', '"mistral:7b"', host, '`ollama pull mistral:7b`');
	});

	it('reads the scheduler\'s "try pulling it first" wording as model-not-found too', async () => {
		fake.errorFor = () => ({ status: 404, error: 'model "llama3.1:8b" not found, try pulling it first' });
		const error = await rejection(generator.generate(request(), new AbortController().signal, () => undefined));
		assertKind(error, 'model-not-found', '"llama3.1:8b"', '`ollama pull llama3.1:8b`');
	});

	it('a stream cut before the final line is stream-cut, also when cut before any output', async () => {
		fake.respond = () => 'a b c d e f g h';
		fake.cutAfterChunks = 3;
		const deltas: string[] = [];
		const error = await rejection(generator.generate(request(), new AbortController().signal, d => deltas.push(d)));
		assertKind(error, 'stream-cut', host, 'the candidate finished');
		assert.deepEqual(deltas, ['a', ' b', ' c']);
		fake.cutAfterChunks = 0;
		assertKind(await rejection(generator.generate(request(), new AbortController().signal, () => undefined)), 'stream-cut', host);
		await fake.waitForIdle(1500);
	});

	it("a server error is kind server, in the server's own words", async () => {
		fake.errorFor = () => ({ status: 500, error: 'llama runner process has terminated: signal: killed' });
		const error = await rejection(generator.generate(request(), new AbortController().signal, () => undefined));
		assertKind(error, 'server', host, 'llama runner process has terminated: signal: killed');
		fake.errorFor = () => ({ status: 500, error: 'CUDA error: out of memory', afterChunks: 2 });
		assertKind(
			await rejection(generator.generate(request(), new AbortController().signal, () => undefined)),
			'server',
			'CUDA error: out of memory',
		);
	});

	it('a server that sends headers and then nothing fails the candidate after the idle timeout, naming the setting', async () => {
		const idleGenerator = new OllamaGenerator({ host, idleMs: 1000 });
		fake.respond = () => 'a b c d e f';
		for (const afterChunks of [0, 3]) {
			fake.faultFor = () => ({ kind: 'silence', afterChunks });
			const deltas: string[] = [];
			const error = await rejection(idleGenerator.generate(request(), new AbortController().signal, d => deltas.push(d)));
			assertKind(error, 'server', host, 'sent nothing for 1 s', 'bestOfN.requestIdleSeconds');
			assert.equal(error.setting, 'requestIdleSeconds');
			assert.equal(deltas.length, afterChunks, 'what arrived before the silence was streamed');
			await fake.waitForIdle(1500);
		}
		fake.faultFor = undefined;
		fake.tokenDelayMs = 100;
		const slow = await idleGenerator.generate(request(), new AbortController().signal, () => undefined);
		assert.equal(slow.text, 'a b c d e f', 'a stream slower than nothing, 100 ms a piece against 1 s idle, finishes');
	});

	it('a host that answers but is not Ollama says so instead of dumping its page', async () => {
		const other = http.createServer((_req, res) => {
			res.writeHead(404, { 'Content-Type': 'text/html' });
			res.end('<!doctype html><html><body><h1>Not Found</h1></body></html>');
		});
		await new Promise<void>(resolve => other.listen(0, '127.0.0.1', resolve));
		const otherHost = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
		try {
			const error = await rejection(
				new OllamaGenerator({ host: otherHost }).generate(request(), new AbortController().signal, () => undefined),
			);
			assertKind(error, 'unreachable', otherHost, 'HTTP 404', 'text/html', 'not Ollama');
			assert.ok(!error.message.includes('<'), error.message);
			const listing = await rejection(listModels(otherHost));
			assertKind(listing, 'unreachable', 'not Ollama');
		} finally {
			other.closeAllConnections();
			await new Promise(resolve => other.close(resolve));
		}
	});
});

describe('Ollama admin calls against the fake server', () => {
	let fake: FakeOllama;
	let host: string;

	beforeEach(async () => {
		fake = new FakeOllama({ models: ['llama3.1:8b', 'qwen2.5-coder:1.5b'], pullDelayMs: 1 });
		host = (await fake.start()).url;
	});
	afterEach(async () => {
		await fake.close();
	});

	it('lists installed models with sizes and details, and reads the version', async () => {
		const models = await listModels(host);
		assert.deepEqual(
			models.map(m => [m.name, m.parameterSize, m.family]),
			[
				['llama3.1:8b', '8.0B', 'llama'],
				['qwen2.5-coder:1.5b', '1.5B', 'qwen'],
			],
		);
		for (const m of models) {
			assert.ok(m.size > 0);
			assert.ok(!Number.isNaN(Date.parse(m.modifiedAt)), m.modifiedAt);
		}
		assert.equal(await serverVersion(host), fake.version);
	});

	it('the catalog lists size, quantization and which models Ollama holds in memory (/api/ps)', async () => {
		await fake.close();
		fake = new FakeOllama({ models: ['llama3.1:8b', 'qwen2.5-coder:7b-instruct-q8_0', 'phi3:3.8b'], loaded: ['phi3:3.8b'] });
		host = (await fake.start()).url;
		const catalog = ollamaCatalog(host);
		const before = await catalog.listModels(new AbortController().signal);
		assert.deepEqual(
			before.map(m => [m.name, m.parameterSize, m.quantization, m.loaded]),
			[
				['llama3.1:8b', '8.0B', 'Q4_K_M', false],
				['qwen2.5-coder:7b-instruct-q8_0', '7.0B', 'Q8_0', false],
				['phi3:3.8b', '3.8B', 'Q4_K_M', true],
			],
		);
		assert.ok(before.every(m => m.sizeBytes! > 0));
		// A generation request loads its model, as Ollama's scheduler does.
		const running = await listRunning(host);
		assert.deepEqual(
			running.map(m => m.name),
			['phi3:3.8b'],
		);
		assert.ok(Date.parse(at(running, 0).expiresAt) > Date.now());
		const response = await fetch(`${host}/api/generate`, {
			method: 'POST',
			body: JSON.stringify({ model: 'llama3.1:8b', prompt: 'hi', stream: false }),
		});
		assert.equal(response.status, 200);
		await response.text();
		const after = await catalog.listModels(new AbortController().signal);
		assert.deepEqual(
			after.filter(m => m.loaded).map(m => m.name),
			['llama3.1:8b', 'phi3:3.8b'],
		);
	});

	it('pull streams progress up to success, then the model is listed', async () => {
		const progress: PullProgress[] = [];
		await pullModel(host, 'phi3:3.8b', new AbortController().signal, p => progress.push(p));
		assert.equal(at(progress, 0).status, 'pulling manifest');
		assert.equal(at(progress, -1).status, 'success');
		const percents = progress.filter(p => p.percent !== undefined).map(p => p.percent!);
		const bytes = progress.filter(p => p.total !== undefined);
		assert.ok(bytes.length > 0 && bytes.every(p => p.completed! <= p.total!), 'byte counts with every percentage');
		assert.ok(percents.includes(0) && percents.includes(100), `percents ${percents.join(',')}`);
		assert.ok(percents.every(p => p >= 0 && p <= 100));
		assert.ok((await listModels(host)).some(m => m.name === 'phi3:3.8b'));
	});

	it('aborting a pull rejects as cancelled, leaves no open request and installs nothing', async () => {
		fake.pullDelayMs = 10;
		const controller = new AbortController();
		const seen: PullProgress[] = [];
		const pending = pullModel(host, 'gemma2:2b', controller.signal, p => {
			seen.push(p);
			if (seen.length === 2) controller.abort();
		});
		assertKind(await rejection(pending), 'cancelled');
		await fake.waitForIdle(1500);
		assert.equal(fake.openPulls, 0);
		await sleep(100);
		assert.ok(!(await listModels(host)).some(m => m.name === 'gemma2:2b'));
		assert.equal(seen.length, 2, 'no progress after the abort');
	});

	it("a pull of a name the registry lacks is a server error in Ollama's words", async () => {
		fake.pullable = () => false;
		const error = await rejection(pullModel(host, 'no-such-model', new AbortController().signal, () => undefined));
		assertKind(error, 'server', host, 'file does not exist');
	});

	it('the backend the factory builds for Ollama lists models and can pull', async () => {
		const backend = createBackend({ ...DEFAULT_SETTINGS, ollamaHost: host });
		assert.equal(backend.id, 'ollama');
		assert.equal(backend.host, host);
		assert.deepEqual(
			(await backend.listModels()).map(m => m.name),
			['llama3.1:8b', 'qwen2.5-coder:1.5b'],
		);
		assert.ok(backend.pullModel, 'Ollama can pull');
		await backend.pullModel('phi3:mini', new AbortController().signal, () => undefined);
		assert.ok((await backend.listModels()).some(m => m.name === 'phi3:mini'));
	});

	it('admin calls map an unreachable host and honour an aborted signal', async () => {
		const nowhere = `http://127.0.0.1:${await closedPort()}`;
		assertKind(await rejection(listModels(nowhere)), 'unreachable', nowhere);
		assertKind(await rejection(serverVersion(nowhere)), 'unreachable', nowhere);
		const controller = new AbortController();
		controller.abort();
		assertKind(await rejection(listModels(host, controller.signal)), 'cancelled');
	});
});

describe('toBestOfNError on what fetch throws', () => {
	const HOST = 'http://ollama.lan:11434';
	const REFUSED = `Could not reach Ollama at ${HOST}. Start it with \`ollama serve\`, or point bestOfN.ollama.host at your server.`;

	/** Shaped like undici's: the TypeError fetch throws, with the real error one level down. */
	function undiciError(message: 'fetch failed' | 'terminated', code?: string): TypeError {
		const cause = code === undefined ? undefined : Object.assign(new Error('x'), { code });
		return Object.assign(new TypeError(message), { cause });
	}
	const map = (e: unknown, unfinished?: string) => toBestOfNError(e, { host: HOST, model: MODEL, unfinished });

	it("no response headers within fetch's 5 minutes is a non-fatal server error about the queue", () => {
		const error = map(undiciError('fetch failed', 'UND_ERR_HEADERS_TIMEOUT'));
		assertKind(error, 'server', HOST, '5 minutes', '(UND_ERR_HEADERS_TIMEOUT)', 'OLLAMA_NUM_PARALLEL', 'bestOfN.concurrency');
		assert.ok(!error.message.includes('ollama serve'), error.message);
	});

	it("a body silent for fetch's 5 minutes is a server error, not a cut stream", () => {
		const error = map(undiciError('terminated', 'UND_ERR_BODY_TIMEOUT'), 'the candidate finished');
		assertKind(error, 'server', HOST, '5 minutes', 'before the candidate finished', '(UND_ERR_BODY_TIMEOUT)', 'bestOfN.concurrency');
	});

	it('a cancelled request stays cancelled whatever fetch said', () => {
		const controller = new AbortController();
		controller.abort();
		const error = toBestOfNError(undiciError('fetch failed', 'UND_ERR_HEADERS_TIMEOUT'), { host: HOST, signal: controller.signal });
		assertKind(error, 'cancelled');
	});

	it('DNS failures name the host setting and the code, not `ollama serve`', () => {
		const notFound = map(undiciError('fetch failed', 'ENOTFOUND'));
		assert.equal(notFound.kind, 'unreachable');
		assert.equal(notFound.message, `Could not resolve the host name in ${HOST} (ENOTFOUND). Check bestOfN.ollama.host.`);
		const again = map(undiciError('fetch failed', 'EAI_AGAIN'));
		assertKind(again, 'unreachable', `Could not resolve the host name in ${HOST} (EAI_AGAIN).`, 'bestOfN.ollama.host', 'network');
		assert.ok(!again.message.includes('ollama serve'), again.message);
	});

	it('TLS failures say the HTTPS connection is not trusted, with the code', () => {
		const codes = [
			'DEPTH_ZERO_SELF_SIGNED_CERT',
			'SELF_SIGNED_CERT_IN_CHAIN',
			'CERT_HAS_EXPIRED',
			'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
			'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
			'ERR_TLS_CERT_ALTNAME_INVALID',
			'ERR_SSL_WRONG_VERSION_NUMBER',
			'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
		];
		for (const code of codes) {
			const error = map(undiciError('fetch failed', code));
			assertKind(error, 'unreachable', `Could not make a trusted HTTPS connection to ${HOST} (${code}).`);
			assert.ok(!error.message.includes('ollama serve'), error.message);
		}
		assertKind(map(undiciError('fetch failed', 'CERT_HAS_EXPIRED')), 'unreachable', "does not trust the server's certificate");
		assertKind(map(undiciError('fetch failed', 'ERR_TLS_CERT_ALTNAME_INVALID')), 'unreachable', 'not issued for that name');
	});

	it('a refused connection keeps its wording exactly; other connection failures add their code', () => {
		assert.equal(map(undiciError('fetch failed', 'ECONNREFUSED')).message, REFUSED);
		assert.equal(map(undiciError('fetch failed')).message, REFUSED);
		assertKind(map(undiciError('fetch failed', 'ECONNREFUSED')), 'unreachable');
		assertKind(
			map(undiciError('fetch failed', 'UND_ERR_CONNECT_TIMEOUT')),
			'unreachable',
			`Could not reach Ollama at ${HOST} (UND_ERR_CONNECT_TIMEOUT)`,
			'bestOfN.ollama.host',
		);
		assertKind(map(undiciError('fetch failed', 'EHOSTUNREACH')), 'unreachable', '(EHOSTUNREACH)');
	});

	it('a socket dropped mid-body is still stream-cut', () => {
		assertKind(
			map(undiciError('terminated', 'UND_ERR_SOCKET'), 'the candidate finished'),
			'stream-cut',
			HOST,
			'the candidate finished',
		);
		assertKind(map(undiciError('terminated')), 'stream-cut', HOST);
	});
});

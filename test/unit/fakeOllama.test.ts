/**
 * The fake must be believable to the real `ollama` client and honest about what it counts, or the
 * generation tests built on it prove nothing. These tests talk to it with ollama-js and raw HTTP.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { Ollama, type ChatResponse } from 'ollama';
import { FakeOllama, defaultRespond, type FakeRequest } from '../fixtures/fakeOllama';
import { until } from '../fixtures/until';
import { at } from '../fixtures/present';

interface RawResponse {
	status: number;
	contentType: string;
	body: string;
}

async function raw(url: string, method: string, body?: string): Promise<RawResponse> {
	const response = await fetch(url, { method, body, headers: { 'Content-Type': 'application/json' } });
	return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
}

/** Opens a streamed chat with node:http and hands back the request once the first line has arrived. */
function openStream(url: string, body: object): Promise<{ req: http.ClientRequest; firstLine: string }> {
	return new Promise((resolve, reject) => {
		const req = http.request(`${url}/api/chat`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, res => {
			let buffer = '';
			res.on('data', (b: Buffer) => {
				buffer += b.toString();
				const nl = buffer.indexOf('\n');
				if (nl >= 0) resolve({ req, firstLine: buffer.slice(0, nl) });
			});
			res.on('error', () => undefined);
		});
		req.on('error', () => undefined);
		req.on('error', reject);
		req.end(JSON.stringify(body));
	});
}

/** Posts a chat with node:http and resolves with the whole body once the response ends or dies. */
function collect(url: string, body: object): Promise<{ text: string; complete: boolean }> {
	return new Promise(resolve => {
		let text = '';
		const req = http.request(`${url}/api/chat`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, res => {
			res.on('data', (b: Buffer) => (text += b.toString()));
			res.on('end', () => resolve({ text, complete: true }));
			res.on('error', () => resolve({ text, complete: false }));
			res.on('aborted', () => resolve({ text, complete: false }));
		});
		req.on('error', () => resolve({ text, complete: false }));
		req.end(JSON.stringify(body));
	});
}

/** Polls until `condition` holds; fails after `ms`. */

const chat = (model: string, content: string, extra: object = {}) => ({ model, messages: [{ role: 'user', content }], ...extra });

describe('fake Ollama server', () => {
	let fake: FakeOllama;
	let url: string;

	beforeEach(async () => {
		fake = new FakeOllama({ models: ['llama3.1:8b', 'qwen2.5-coder'], tokenDelayMs: 1 });
		({ url } = await fake.start());
	});
	afterEach(async () => {
		await fake.close();
	});

	it('answers version, tags and show in the shapes ollama-js reads', async () => {
		const client = new Ollama({ host: url });
		assert.equal((await client.version()).version, fake.version);
		const { models } = await client.list();
		assert.deepEqual(
			models.map(m => m.name),
			['llama3.1:8b', 'qwen2.5-coder:latest'],
		);
		const llama = at(models, 0);
		assert.equal(llama.model, 'llama3.1:8b');
		assert.match(llama.digest, /^[0-9a-f]{64}$/);
		assert.ok(llama.size > 1e9);
		assert.equal(typeof llama.modified_at, 'string');
		assert.deepEqual(llama.details, {
			parent_model: '',
			format: 'gguf',
			family: 'llama',
			families: ['llama'],
			parameter_size: '8.0B',
			quantization_level: 'Q4_K_M',
		});
		const shown = await client.show({ model: 'qwen2.5-coder' });
		assert.equal(shown.details.family, 'qwen');
		assert.deepEqual(shown.capabilities, ['completion']);
	});

	it('streams chat as NDJSON pieces and a final line with the counters', async () => {
		fake.respond = () => 'one two three four';
		const res = await raw(`${url}/api/chat`, 'POST', JSON.stringify(chat('llama3.1:8b', 'hi')));
		assert.equal(res.status, 200);
		assert.equal(res.contentType, 'application/x-ndjson');
		const lines = res.body
			.trim()
			.split('\n')
			.map(l => JSON.parse(l) as ChatResponse);
		assert.deepEqual(
			lines.slice(0, -1).map(l => [l.done, l.message.role, l.message.content]),
			[
				[false, 'assistant', 'one'],
				[false, 'assistant', ' two'],
				[false, 'assistant', ' three'],
				[false, 'assistant', ' four'],
			],
		);
		const last = at(lines, -1);
		assert.equal(last.done, true);
		assert.equal(last.done_reason, 'stop');
		assert.equal(last.message.content, '');
		assert.equal(last.eval_count, 4);
		for (const key of ['total_duration', 'load_duration', 'prompt_eval_count', 'eval_duration'] as const) {
			assert.ok(Number.isInteger(last[key]) && last[key] > 0, `${key} = ${last[key]}`);
		}
	});

	it('streams generate with response pieces and answers stream:false in one object', async () => {
		fake.respond = () => 'alpha beta';
		const client = new Ollama({ host: url });
		const pieces: string[] = [];
		for await (const part of await client.generate({ model: 'llama3.1:8b', prompt: 'p', stream: true }))
			pieces.push(part.response ?? '');
		assert.deepEqual(pieces, ['alpha', ' beta', '']);
		const whole = await client.chat({ model: 'llama3.1:8b', messages: [{ role: 'user', content: 'x' }], stream: false });
		assert.equal(whole.message.content, 'alpha beta');
		assert.equal(whole.done, true);
		assert.equal(whole.eval_count, 2);
	});

	it('gives different seeds different texts, and the same seed the same text', async () => {
		const text = (seed: number) =>
			defaultRespond({ options: { seed, temperature: 0.8 }, seed, prompt: 'rewrite this' } as unknown as FakeRequest);
		assert.equal(text(1), text(1));
		assert.notEqual(text(1), text(2));
		assert.notEqual(text(2), text(3));
		const greedy = (seed: number) =>
			defaultRespond({ options: { seed, temperature: 0 }, seed, prompt: 'rewrite this' } as unknown as FakeRequest);
		assert.equal(greedy(1), greedy(2));
	});

	it('stops at num_predict with done_reason "length"', async () => {
		fake.respond = () => 'a b c d e f';
		const client = new Ollama({ host: url });
		const whole = await client.chat({ model: 'llama3.1:8b', messages: [], stream: false, options: { num_predict: 3 } });
		assert.equal(whole.message.content, 'a b c');
		assert.equal(whole.done_reason, 'length');
		assert.equal(whole.eval_count, 3);
	});

	it('answers errors the way Ollama does', async () => {
		const missing = await raw(`${url}/api/chat`, 'POST', JSON.stringify(chat('nope:1b', 'x')));
		assert.equal(missing.status, 404);
		assert.match(missing.contentType, /^application\/json/);
		assert.deepEqual(JSON.parse(missing.body), { error: "model 'nope:1b' not found" });
		const badJson = await raw(`${url}/api/chat`, 'POST', '{not json');
		assert.equal(badJson.status, 400);
		assert.equal(typeof (JSON.parse(badJson.body) as { error?: unknown }).error, 'string');
		const empty = await raw(`${url}/api/generate`, 'POST', '');
		assert.deepEqual([empty.status, JSON.parse(empty.body)], [400, { error: 'missing request body' }]);
		const noRoute = await raw(`${url}/v2/whatever`, 'GET');
		assert.deepEqual([noRoute.status, noRoute.contentType.split(';')[0], noRoute.body], [404, 'text/plain', '404 page not found']);
		const wrongMethod = await raw(`${url}/api/chat`, 'GET');
		assert.equal(wrongMethod.status, 405);
		fake.errorFor = () => ({ status: 500, error: 'llama runner process has terminated' });
		const injected = await raw(`${url}/api/chat`, 'POST', JSON.stringify(chat('llama3.1:8b', 'x')));
		assert.deepEqual([injected.status, JSON.parse(injected.body)], [500, { error: 'llama runner process has terminated' }]);
		// Bodies that never parsed are not requests.
		assert.deepEqual(
			fake.requests.map(r => r.model),
			['nope:1b', 'llama3.1:8b'],
		);
		await fake.waitForIdle(1500);
	});

	it('sends an injected mid-stream error as an error line, which ollama-js throws', async () => {
		fake.respond = () => 'a b c d';
		fake.errorFor = () => ({ status: 500, error: 'out of memory', afterChunks: 2 });
		const client = new Ollama({ host: url });
		const seen: string[] = [];
		await assert.rejects(async () => {
			for await (const part of await client.chat({ model: 'llama3.1:8b', messages: [], stream: true }))
				seen.push(part.message.content);
		}, /out of memory/);
		assert.deepEqual(seen, ['a', ' b']);
	});

	it('records every chat and generate body in arrival order', async () => {
		const client = new Ollama({ host: url });
		await client.chat({ model: 'llama3.1:8b', messages: [{ role: 'user', content: 'first' }], options: { seed: 7 } });
		await client.generate({ model: 'qwen2.5-coder', prompt: 'second' });
		assert.deepEqual(
			fake.requests.map(r => [r.id, r.endpoint, r.prompt, r.seed, r.stream]),
			[
				[1, 'chat', 'first', 7, false],
				[2, 'generate', 'second', undefined, false],
			],
		);
		assert.ok(at(fake.requests, 0).receivedAt <= at(fake.requests, 1).receivedAt);
		assert.equal(at(fake.requests, 0).options.seed, 7);
	});

	it('runs `parallel` requests at once and queues the rest first come, first served', async () => {
		fake.parallel = 2;
		fake.tokenDelayMs = 10;
		fake.respond = r => `${r.prompt} a b c d e`;
		const finished: string[] = [];
		const runs: Promise<void>[] = [];
		for (const name of ['r1', 'r2', 'r3', 'r4', 'r5']) {
			runs.push(collect(url, chat('llama3.1:8b', name)).then(() => void finished.push(name)));
			await until('fake.requests.length === runs.length', () => fake.requests.length === runs.length);
		}
		assert.equal(fake.openRequests, 5, 'queued requests count as open');
		assert.ok(fake.active <= 2);
		await Promise.all(runs);
		assert.equal(fake.maxConcurrent, 2);
		fake.parallel = 1;
		fake.reset();
		finished.length = 0;
		const serial: Promise<void>[] = [];
		for (const name of ['s1', 's2', 's3']) {
			serial.push(collect(url, chat('llama3.1:8b', name)).then(() => void finished.push(name)));
			await until('fake.requests.length === serial.length', () => fake.requests.length === serial.length);
		}
		await Promise.all(serial);
		assert.equal(fake.maxConcurrent, 1);
		assert.deepEqual(finished, ['s1', 's2', 's3']);
	});

	it('starts queued requests at once when parallel is raised at run time', async () => {
		fake.tokenDelayMs = 20;
		fake.respond = () => 'a b c d e f g h';
		const runs = [
			collect(url, chat('llama3.1:8b', '1')),
			collect(url, chat('llama3.1:8b', '2')),
			collect(url, chat('llama3.1:8b', '3')),
		];
		await until('fake.openRequests === 3', () => fake.openRequests === 3);
		assert.equal(fake.active, 1);
		fake.parallel = 3;
		assert.equal(fake.active, 3);
		await Promise.all(runs);
		assert.equal(fake.maxConcurrent, 3);
	});

	it('holds a stream before a chunk for as long as beforeChunk says: no headers, no bytes until then', async () => {
		fake.respond = () => 'a b c';
		let open = () => {};
		const held = new Promise<void>(resolve => (open = resolve));
		const seen: number[] = [];
		fake.beforeChunk = async (_request, index) => {
			seen.push(index);
			if (index === 0) await held;
		};
		let headers = false;
		const req = http.request(
			`${url}/api/chat`,
			{ method: 'POST', headers: { 'Content-Type': 'application/json' } },
			() => (headers = true),
		);
		req.on('error', () => undefined);
		req.end(JSON.stringify(chat('llama3.1:8b', 'x')));
		await until('the first chunk held', () => seen.length === 1);
		await new Promise(r => setTimeout(r, 50));
		assert.equal(headers, false, 'nothing reaches the client while the first chunk is held');
		open();
		await until('the headers', () => headers);
		await until('every chunk', () => seen.length === 3);
		assert.deepEqual(seen, [0, 1, 2]);
		req.destroy();
	});

	it('notices a client that goes away mid-stream at once and stops generating', async () => {
		fake.tokenDelayMs = 10;
		let produced = 0;
		fake.respond = () => {
			produced++;
			return Array.from({ length: 500 }, (_, i) => `w${i}`).join(' ');
		};
		const { req, firstLine } = await openStream(url, chat('llama3.1:8b', 'x'));
		assert.equal((JSON.parse(firstLine) as ChatResponse).done, false);
		assert.equal(fake.openRequests, 1);
		const t0 = Date.now();
		req.destroy();
		await fake.waitForIdle(1500);
		assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
		assert.equal(fake.active, 0);
		assert.equal(produced, 1);
	});

	it('drops a queued request whose client left, so the next one gets the slot', async () => {
		fake.tokenDelayMs = 5;
		fake.respond = r => (r.prompt === 'first' ? 'a b c d e f g h i j' : 'short');
		const first = collect(url, chat('llama3.1:8b', 'first'));
		await until('fake.active === 1', () => fake.active === 1);
		const leaver = http.request(`${url}/api/chat`, { method: 'POST' });
		leaver.on('error', () => undefined);
		leaver.end(JSON.stringify(chat('llama3.1:8b', 'leaver')));
		await until('fake.openRequests === 2', () => fake.openRequests === 2);
		assert.equal(fake.active, 1);
		leaver.destroy();
		await until('fake.openRequests === 1', () => fake.openRequests === 1, 250);
		const third = collect(url, chat('llama3.1:8b', 'third'));
		assert.equal((await first).complete, true);
		const after = await third;
		assert.match(after.text, /"done":true/);
		assert.deepEqual(
			fake.requests.map(r => r.prompt),
			['first', 'leaver', 'third'],
		);
		assert.equal(fake.maxConcurrent, 1);
		await fake.waitForIdle(1500);
	});

	it('cuts a stream when shouldCut says so: some lines, then no final line', async () => {
		fake.respond = () => 'a b c d e f';
		fake.shouldCut = r => (r.prompt === 'cut me' ? 3 : undefined);
		const cut = await collect(url, chat('llama3.1:8b', 'cut me'));
		assert.equal(cut.complete, false);
		const lines = cut.text
			.trim()
			.split('\n')
			.map(l => JSON.parse(l) as ChatResponse);
		assert.deepEqual(
			lines.map(l => l.message.content),
			['a', ' b', ' c'],
		);
		const whole = await collect(url, chat('llama3.1:8b', 'leave me'));
		assert.equal(whole.complete, true);
		assert.match(whole.text, /"done":true/);
		await fake.waitForIdle(1500);
	});

	it('streams pull progress, adds the model to tags, and refuses names it cannot find', async () => {
		const client = new Ollama({ host: url });
		const statuses: string[] = [];
		let sawBytes = false;
		for await (const line of await client.pull({ model: 'phi3:3.8b', stream: true })) {
			statuses.push(line.status);
			if (line.total > 0 && line.completed === line.total) sawBytes = true;
		}
		assert.equal(at(statuses, 0), 'pulling manifest');
		assert.match(at(statuses, 1), /^pulling [0-9a-f]{12}$/);
		assert.deepEqual(statuses.slice(-3), ['verifying sha256 digest', 'writing manifest', 'success']);
		assert.ok(sawBytes);
		assert.ok((await client.list()).models.some(m => m.name === 'phi3:3.8b'));
		assert.deepEqual(fake.pulls, ['phi3:3.8b']);

		fake.pullable = name => name !== 'no-such-model';
		await assert.rejects(async () => {
			for await (const _ of await client.pull({ model: 'no-such-model', stream: true })) void _;
		}, /file does not exist/);
		assert.equal(fake.hasModel('no-such-model'), false);
	});

	it('stops a pull whose client left, without installing the model', async () => {
		fake.pullDelayMs = 10;
		const req = http.request(`${url}/api/pull`, { method: 'POST' }, res => res.once('data', () => req.destroy()));
		req.on('error', () => undefined);
		req.end(JSON.stringify({ model: 'gemma2:2b' }));
		await until('fake.pulls.length === 1', () => fake.pulls.length === 1);
		await fake.waitForIdle(1500);
		assert.equal(fake.openPulls, 0);
		await new Promise(resolve => setTimeout(resolve, 200));
		assert.equal(fake.hasModel('gemma2:2b'), false);
	});

	it('close() ends open streams and frees the port', async () => {
		fake.tokenDelayMs = 50;
		fake.respond = () => 'a b c d e f g h i j k l m n o p';
		const pending = collect(url, chat('llama3.1:8b', 'x'));
		await until('fake.active === 1', () => fake.active === 1);
		await fake.close();
		assert.equal((await pending).complete, false);
		assert.equal(fake.openRequests, 0);
		await assert.rejects(fetch(`${url}/api/version`), /fetch failed/);
	});

	it('runs standalone and prints its URL', async function () {
		this.timeout(15000);
		const script = path.join(__dirname, '..', 'fixtures', 'fakeOllama.ts');
		const child = spawn(process.execPath, [require.resolve('tsx/cli'), script, '--port', '0', '--models', 'a:1b,b', '--delay', '1'], {
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		try {
			const standaloneUrl = await new Promise<string>((resolve, reject) => {
				let out = '';
				child.stdout.on('data', (b: Buffer) => {
					out += b.toString();
					const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
					if (match) resolve(at(match, 1));
				});
				child.once('exit', code => reject(new Error(`exited with ${code}: ${out}`)));
			});
			const { models } = await new Ollama({ host: standaloneUrl }).list();
			assert.deepEqual(
				models.map(m => m.name),
				['a:1b', 'b:latest'],
			);
		} finally {
			child.kill('SIGTERM');
		}
	});
});

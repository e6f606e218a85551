/**
 * The CLI as a user runs it: the built `dist/cli.js` in a child process, against the loopback
 * Ollama-API server and a tiny ONNX reward model loaded by the real worker through transformers.js.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { toJson } from '../../src/cli/main';
import { rewardPrompt } from '../../src/core/prompt';
import { explainRewardPrompt } from '../../src/core/tasks/explain';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { FakeHub } from '../fixtures/fakeHub';
import { defaultRespond, FakeOllama } from '../fixtures/fakeOllama';
import { FakeVllm } from '../fixtures/fakeVllm';
import { tinyRewardLogit, writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { writeTinyCausalModel } from '../fixtures/tinyCausalModel';
import { until } from '../fixtures/until';
import { at, cycle } from '../fixtures/present';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');
const REPLIES = ['this code is good and clear', 'this code is broken and wrong', 'the function returns a', 'great correct code'];

interface Result {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	/** From the last byte the CLI wrote to stdout or stderr (or its start) to its exit. */
	lingerMs: number;
}

/** What `--json` prints. */
const cliJson = (r: Result) => JSON.parse(r.stdout) as ReturnType<typeof toJson>;

/** An exiting CLI takes milliseconds; something that keeps its event loop alive (a socket, the worker) shows here. */
const MAX_LINGER_MS = 2000;

function run(args: string[], stdin = '', onSpawn?: (child: ChildProcess) => void, env: NodeJS.ProcessEnv = {}): Promise<Result> {
	return new Promise((resolve, reject) => {
		// HF_ENDPOINT: the default reward model is a Hub id; a test must never reach the real Hub.
		const childEnv = { ...process.env, XDG_CACHE_HOME: cacheDir, HF_ENDPOINT: closedHub, ...env };
		const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: childEnv });
		let stdout = '';
		let stderr = '';
		let lastOutput = Date.now();
		let exitedAt = 0;
		// Stdout and stderr as strings, so a multi-byte character split across chunks stays whole.
		child.stdout.setEncoding('utf8').on('data', (d: string) => ((stdout += d), (lastOutput = Date.now())));
		child.stderr.setEncoding('utf8').on('data', (d: string) => ((stderr += d), (lastOutput = Date.now())));
		child.on('error', reject);
		child.on('exit', () => (exitedAt = Date.now()));
		child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, lingerMs: exitedAt - lastOutput }));
		child.stdin.end(stdin);
		onSpawn?.(child);
	});
}

let fake: FakeOllama;
let modelDir: string;
let quantizedDir: string;
let cacheDir: string;
/** A Hub address where nothing listens (set in before()). */
let closedHub: string;

/** Rebuilds the CLI bundle when it is missing or older than the sources, so a stale build is never tested. */
function ensureBuilt(): void {
	const newest = (dir: string): number =>
		Math.max(
			...fs
				.readdirSync(dir, { recursive: true, withFileTypes: true })
				.filter(e => e.isFile())
				.map(e => fs.statSync(path.join(e.parentPath, e.name)).mtimeMs),
		);
	const stale = !fs.existsSync(cli) || fs.statSync(cli).mtimeMs < newest(path.join(root, 'src'));
	if (stale) {
		const r = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, stdio: 'inherit' });
		assert.equal(r.status, 0, 'the build failed');
	}
}

describe('CLI: best-of-n rewrite', function () {
	this.timeout(30_000);

	before(async () => {
		ensureBuilt();
		fake = new FakeOllama({ models: ['llama3.1:8b'], respond: r => cycle(REPLIES, r.id - 1) });
		await fake.start();
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-cli-rm-'));
		quantizedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-cli-rm-q8-'));
		cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-cli-cache-'));
		writeTinyRewardModel(modelDir);
		// Like a Hub repo that ships only the quantized export.
		writeTinyRewardModel(quantizedDir, { onnxFiles: ['model_quantized.onnx'] });
		const closed = new FakeHub();
		closedHub = (await closed.start()).url;
		await closed.close();
	});

	beforeEach(() => {
		fake.respond = r => cycle(REPLIES, r.id - 1);
		fake.shouldCut = undefined;
		fake.tokenDelayMs = 0;
		fake.chunkSize = 'word';
		fake.parallel = 1;
		fake.beforeChunk = undefined;
	});

	after(async () => {
		await fake?.close();
		fs.rmSync(modelDir, { recursive: true, force: true });
		fs.rmSync(quantizedDir, { recursive: true, force: true });
		fs.rmSync(cacheDir, { recursive: true, force: true });
	});

	it('--json ranks N candidates by the reward model, best first', async () => {
		const input = 'the function returns a';
		const r = await run(
			[
				'rewrite',
				'--instruction',
				'make it better',
				'--n',
				'4',
				'--host',
				fake.url,
				'--model',
				'llama3.1:8b',
				'--reward-model',
				modelDir,
				'--json',
			],
			input,
		);
		assert.equal(r.code, 0, r.stderr);
		const out = cliJson(r);
		assert.equal(out.ranker, 'reward');
		assert.equal(out.failed, 0);
		assert.equal(out.candidates.length, 4);
		const prompt = rewardPrompt({ instruction: 'make it better', text: input, languageId: 'plaintext' });
		const expected = [...REPLIES].sort((a, b) => tinyRewardLogit({ prompt, response: b }) - tinyRewardLogit({ prompt, response: a }));
		assert.deepEqual(
			out.candidates.map(c => c.text),
			expected,
		);
		assert.deepEqual(
			out.candidates.map(c => c.rank),
			[1, 2, 3, 4],
		);
		const scores = out.candidates.map(c => c.score ?? NaN);
		assert.ok(scores.every(Number.isFinite), `every candidate has a score: ${scores.join(', ')}`);
		assert.deepEqual(
			scores,
			[...scores].sort((a, b) => b - a),
			'scores are non-increasing',
		);
		assert.ok(Math.abs(at(scores, 0) - tinyRewardLogit({ prompt, response: at(expected, 0) })) < 1e-4, 'the score is the raw logit');
		// Ollama's own generation time for each (its eval_duration), beside the wall time that includes queueing.
		assert.ok(
			out.candidates.every(c => typeof c.evalMs === 'number' && c.evalMs > 0),
			`evalMs: ${out.candidates.map(c => c.evalMs).join(', ')}`,
		);
	});

	it("without --reward-model ranks by the extension's default reward model, fetched from the Hub", async () => {
		const hub = new FakeHub();
		hub.serveTinyModel(DEFAULT_SETTINGS.rewardModel);
		const { url } = await hub.start();
		const ownCache = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-cli-cache-'));
		try {
			const args = ['rewrite', '-i', 'improve', '--n', '4', '--host', fake.url, '--json'];
			const r = await run(args, 'the function returns a', undefined, { HF_ENDPOINT: url, XDG_CACHE_HOME: ownCache });
			assert.equal(r.code, 0, r.stderr);
			const out = JSON.parse(r.stdout);
			assert.equal(out.ranker, 'reward');
			assert.equal(out.rankerLabel, DEFAULT_SETTINGS.rewardModel);
			assert.equal(out.model, DEFAULT_SETTINGS.model);
			assert.ok(hub.requests.some(q => q.model === DEFAULT_SETTINGS.rewardModel && q.status === 200));
		} finally {
			await hub.close();
			fs.rmSync(ownCache, { recursive: true, force: true });
		}
	});

	it('falls back to consensus, and says why, when the default reward model cannot be had', async () => {
		const r = await run(['rewrite', '-i', 'improve', '--n', '4', '--host', fake.url], 'the function returns a');
		assert.equal(r.code, 0, r.stderr);
		assert.match(
			r.stdout,
			/^4 of 4 candidates from llama3\.1:8b, ranked by consensus\nRanked by consensus: Could not load the reward model /,
		);
		assert.match(r.stdout, /Set --reward-model to a local folder, or to a Hub id with an ONNX export, or set --ranker to consensus\./);
		assert.doesNotMatch(r.stdout, /bestOfN\./, 'flags, not settings, are named');
		// The picker's formatting: consensus similarities unsigned, two decimals.
		assert.match(r.stdout, /\n#1 {2}score 0\.\d\d\n/);
	});

	it('cleans chatty replies as the extension does', async () => {
		const code = 'const add = (a, b) => a + b;';
		fake.respond = () => `Here is a more concise version:\n\n\`\`\`js\n${code}\n\`\`\`\n\nThis uses an arrow function.`;
		const args = [
			'rewrite',
			'-i',
			'shorter',
			'--n',
			'2',
			'--host',
			fake.url,
			'--language',
			'javascript',
			'--ranker',
			'consensus',
			'--json',
		];
		const r = await run(args, 'function add(a, b) {\n  return a + b;\n}\n');
		assert.equal(r.code, 0, r.stderr);
		const out = JSON.parse(r.stdout);
		assert.deepEqual(
			out.candidates.map((c: { text: string }) => c.text),
			[`${code}\n`],
		);
	});

	it('reads --input FILE and prints a readable ranked list, ranking by consensus when asked', async () => {
		const file = path.join(cacheDir, 'in.ts');
		fs.writeFileSync(file, 'return a+b;\n');
		fake.respond = r => cycle(['return a + b;', 'return a + b;', 'return b + a;', 'print(1)'], r.id - 1);
		const r = await run([
			'rewrite',
			'--instruction',
			'format',
			'--input',
			file,
			'--n',
			'4',
			'--host',
			fake.url,
			'--model',
			'llama3.1:8b',
			'--ranker',
			'consensus',
		]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^3 of 4 candidates from llama3\.1:8b, ranked by consensus \(--ranker consensus\)/);
		assert.match(r.stdout, /#1 {2}score [01]\.\d\d {2}\(×2\)\n {4}return a \+ b;/, 'the duplicated candidate wins with its count');
		assert.ok(r.stdout.indexOf('print(1)') > r.stdout.indexOf('return b + a;'), 'the outlier ranks last');
	});

	it('explain: explanations of stdin ranked by the reward model judging (request to explain, explanation), as --json', async () => {
		const input = 'SELECT name FROM users WHERE id = ?;';
		const r = await run(
			[
				'explain',
				'--language',
				'sql',
				'--n',
				'4',
				'--host',
				fake.url,
				'--model',
				'llama3.1:8b',
				'--reward-model',
				modelDir,
				'--json',
			],
			input,
		);
		assert.equal(r.code, 0, r.stderr);
		const sent = at(fake.requests, -1).prompt;
		assert.match(sent, /^Language: sql\n\nExplain this selection:\n```sql\nSELECT name FROM users WHERE id = \?;\n```$/);
		const out = JSON.parse(r.stdout);
		const prompt = explainRewardPrompt({ text: input, languageId: 'sql', fileName: '', before: '', after: '' });
		const expected = [...REPLIES].sort((a, b) => tinyRewardLogit({ prompt, response: b }) - tinyRewardLogit({ prompt, response: a }));
		assert.deepEqual(
			out.candidates.map((c: { text: string }) => c.text),
			expected,
		);
		assert.equal(out.ranker, 'reward');
	});

	it('explain: --input FILE names the file and takes its language; it refuses --instruction', async () => {
		const file = path.join(cacheDir, 'total.py');
		fs.writeFileSync(file, 'total = sum(p.price for p in items)\n');
		fake.respond = () => '```markdown\nSums the **prices**.\n```';
		const r = await run(['explain', '--input', file, '--n', '2', '--host', fake.url, '--model', 'llama3.1:8b']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(at(fake.requests, -1).prompt, /^File: total\.py \(python\)/);
		assert.match(
			r.stdout,
			/#1 {2}score \+?[0-9.]+ {2}\(×2\)\n {4}Sums the \*\*prices\*\*\./,
			'the Markdown fence around the reply is gone',
		);
		const refused = await run(['explain', '--instruction', 'x', '--host', fake.url], 'a');
		assert.equal(refused.code, 2);
		assert.match(refused.stderr, /explain takes no --instruction/);
	});

	it('exits 0 and reports failures when some candidates fail', async () => {
		fake.shouldCut = req => ((req.id - 1) % 4 === 1 ? 1 : undefined);
		fake.chunkSize = 4;
		try {
			const r = await run(
				[
					'rewrite',
					'-i',
					'improve',
					'--n',
					'4',
					'--host',
					fake.url,
					'--model',
					'llama3.1:8b',
					'--reward-model',
					modelDir,
					'--json',
				],
				'some text',
			);
			assert.equal(r.code, 0, r.stderr);
			const out = cliJson(r);
			assert.equal(out.failed, 1);
			assert.equal(out.candidates.length, 3);
			assert.match(r.stderr, /candidate \d failed: The connection to http:\/\/127\.0\.0\.1:\d+ closed before the candidate finished/);
		} finally {
			fake.chunkSize = 'word';
		}
	});

	it('--idle-timeout fails a candidate whose server went silent, naming the flag; the others are ranked', async () => {
		// A server of its own: the second request it gets is the one that goes silent.
		const silent = new FakeOllama({ models: ['llama3.1:8b'], respond: r => at(REPLIES, r.id - 1) });
		silent.faultFor = r => (r.id === 2 ? { kind: 'silence', afterChunks: 1 } : undefined);
		const { url } = await silent.start();
		try {
			const r = await run(
				['rewrite', '-i', 'improve', '--n', '3', '--host', url, '--ranker', 'consensus', '--idle-timeout', '2', '--json'],
				'some text',
			);
			assert.equal(r.code, 0, r.stderr);
			const out = cliJson(r);
			assert.equal(out.candidates.length, 2, r.stdout + r.stderr);
			assert.equal(out.failed, 1);
			assert.match(
				r.stderr,
				/candidate 2 failed: Ollama at http:\/\/127\.0\.0\.1:\d+ sent nothing for 2 s before the candidate finished/,
			);
			assert.match(r.stderr, /raise --idle-timeout\./);
			assert.doesNotMatch(r.stderr, /bestOfN\./, 'the CLI names its flag, not the setting');
			await silent.waitForIdle(1000);
			const bad = await run(['rewrite', '-i', 'x', '--host', url, '--idle-timeout', 'soon'], 'text');
			assert.equal(bad.code, 2);
			assert.match(bad.stderr, /--idle-timeout must be a number, not "soon"/);
		} finally {
			await silent.close();
		}
	});

	it('refuses a run past the caps with exit 2, naming the flags, before asking the server anything', async () => {
		const before = fake.requests.length;
		const many = await run(['rewrite', '-i', 'x', '--host', fake.url, '--n', '16', '--max-tokens', '8192'], 'text');
		assert.equal(many.code, 2);
		assert.match(many.stderr, /131,072 tokens \(--n 16 × --max-tokens 8,192\).*Lower --n or --max-tokens\./);
		const huge = await run(['rewrite', '-i', 'x', '--host', fake.url, '--ranker', 'consensus'], 'x'.repeat(300_000));
		assert.equal(huge.code, 2);
		assert.match(huge.stderr, /The input has 300,000 characters, more than the 262,144 one run may send/);
		assert.equal(fake.requests.length, before, 'nothing was sent');
	});

	it('names an unreachable host in one line and exits 1', async () => {
		const closed = new FakeOllama();
		const { url } = await closed.start();
		await closed.close();
		const r = await run(['rewrite', '-i', 'x', '--host', url, '--model', 'llama3.1:8b'], 'text');
		assert.equal(r.code, 1);
		assert.equal(r.stderr.trim().split('\n').length, 1);
		assert.ok(r.stderr.includes(`Could not reach Ollama at ${url}`), r.stderr);
		assert.ok(r.stderr.includes('point --host at your server'), r.stderr);
		assert.ok(!r.stderr.includes('bestOfN.'), 'the CLI names flags, not settings');
	});

	it('names a model that is not installed and exits 1', async () => {
		const r = await run(
			['rewrite', '-i', 'x', '--n', '4', '--concurrency', '1', '--host', fake.url, '--model', 'no-such-model:1b'],
			'text',
		);
		assert.equal(r.code, 1);
		assert.match(r.stderr, /no-such-model:1b/);
		assert.match(r.stderr, /ollama pull no-such-model:1b/);
		assert.equal(fake.requests.filter(q => q.model === 'no-such-model:1b').length, 1, 'stops after the first such answer');
	});

	it('names an unreadable reward model and exits 1 before generating', async () => {
		const missing = path.join(cacheDir, 'no-such-model');
		const before = fake.requests.length;
		const r = await run(['rewrite', '-i', 'x', '--host', fake.url, '--model', 'llama3.1:8b', '--reward-model', missing], 'text');
		assert.equal(r.code, 1);
		assert.ok(r.stderr.includes(missing), r.stderr);
		assert.ok(r.stderr.includes('Set --reward-model to a local folder') && r.stderr.includes('set --ranker to consensus'), r.stderr);
		assert.ok(!r.stderr.includes('bestOfN.'), 'the CLI names flags, not settings');
		assert.equal(fake.requests.length, before, 'nothing was generated');
	});

	it('--backend builtin generates on this machine with the --model folder, no server; a missing one names --model', async () => {
		const dir = writeTinyCausalModel(fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-cli-builtin-')));
		try {
			const args = [
				'rewrite',
				'-i',
				'shorter',
				'--backend',
				'builtin',
				'--model',
				dir,
				'--builtin-dtype',
				'fp32',
				'--n',
				'3',
				'--max-tokens',
				'16',
			];
			const ok = await run([...args, '--ranker', 'consensus', '--seed', '7', '--json'], 'return a + b;');
			assert.equal(ok.code, 0, ok.stderr);
			const out = cliJson(ok);
			assert.equal(out.model, dir);
			assert.equal(out.host, 'this machine (built-in model)');
			assert.equal(new Set(out.candidates.map(c => c.text)).size, 3, 'three distinct samples');
			const again = await run([...args, '--ranker', 'consensus', '--seed', '7', '--json'], 'return a + b;');
			assert.deepEqual(
				cliJson(again)
					.candidates.map(c => c.text)
					.sort(),
				out.candidates.map(c => c.text).sort(),
				'--seed reproduces the samples',
			);
			const q8 = await run(['rewrite', '-i', 'x', '--backend', 'builtin', '--model', dir, '--ranker', 'consensus'], 'x');
			assert.equal(q8.code, 1);
			assert.match(q8.stderr, /no ONNX export for dtype q8 .*model\.onnx \(dtype fp32\), which --builtin-dtype can select/);
			const missing = await run(
				['rewrite', '-i', 'x', '--backend', 'builtin', '--model', path.join(dir, 'nowhere'), '--ranker', 'consensus'],
				'x',
			);
			assert.equal(missing.code, 1);
			assert.match(missing.stderr, /does not exist.*Set --model to/);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	it('keeps the API key, the selection and the candidates out of stderr, even when the server quotes the key back', async () => {
		const key = 'sk-leak-check-1f2e3d4c5b6a';
		const selection = 'const SECRET_SELECTION_7c1 = 1;\n';
		const vllm = new FakeVllm({ models: ['m'], apiKey: key, respond: (_q, i) => `CANDIDATE_TEXT_${i}_4d2` });
		await vllm.start();
		try {
			const args = [
				'rewrite',
				'-i',
				'x',
				'--backend',
				'openai',
				'--host',
				vllm.baseUrl,
				'--model',
				'm',
				'--n',
				'3',
				'--ranker',
				'consensus',
			];
			const env = { OPENAI_API_KEY: key };
			for (const extra of [[], ['--json'], ['--raw']]) {
				const r = await run([...args, ...extra], selection, undefined, env);
				assert.equal(r.code, 0, r.stderr);
				assert.ok(r.stdout.includes('CANDIDATE_TEXT_'), 'the candidates are on stdout, where they belong');
				for (const secret of [key, 'SECRET_SELECTION_7c1', 'CANDIDATE_TEXT_'])
					assert.ok(!r.stderr.includes(secret), `stderr has ${secret}: ${r.stderr}`);
				assert.ok(!r.stdout.includes(key));
			}
			// A careless server's error, mid-stream, echoes the Authorization header.
			vllm.errorFor = () => ({ status: 500, message: `engine died; Authorization: Bearer ${key}`, afterChunks: 1 });
			const failed = await run(args, selection, undefined, env);
			assert.equal(failed.code, 1);
			assert.match(failed.stderr, /engine died/);
			assert.ok(!(failed.stdout + failed.stderr).includes(key), failed.stderr);
			assert.ok(!failed.stderr.includes('SECRET_SELECTION_7c1'));
		} finally {
			await vllm.close();
		}
	});

	it('--backend openai asks an OpenAI-compatible server for all N in one request, with the key from OPENAI_API_KEY', async () => {
		const key = 'sk-cli-test-9b8a7c6d5e4f';
		const vllm = new FakeVllm({ models: ['Qwen/Qwen2.5-7B-Instruct'], apiKey: key });
		await vllm.start();
		try {
			const args = [
				'rewrite',
				'-i',
				'x',
				'--backend',
				'openai',
				'--host',
				vllm.baseUrl,
				'--model',
				'Qwen/Qwen2.5-7B-Instruct',
				'--n',
				'3',
			];
			const ok = await run([...args, '--json'], 'text', undefined, { OPENAI_API_KEY: key });
			assert.equal(ok.code, 0, ok.stderr);
			assert.equal(JSON.parse(ok.stdout).candidates.length, 3);
			assert.deepEqual(
				vllm.requests.map(q => q.n),
				[3],
			);
			const rm = new FakeVllm({ models: ['Skywork/Skywork-Reward-V2-Qwen3-0.6B'], reward: m => at(m, 1).content.length });
			await rm.start();
			try {
				const ranked = await run([...args, '--reward-model', rm.url, '--json'], 'text', undefined, { OPENAI_API_KEY: key });
				assert.equal(ranked.code, 0, ranked.stderr);
				const out = cliJson(ranked);
				// vLLM's stream says nothing of its generation time, and none is made up.
				assert.deepEqual(
					out.candidates.map(c => c.evalMs),
					[null, null, null],
				);
				assert.equal(out.rankerLabel, 'Skywork/Skywork-Reward-V2-Qwen3-0.6B');
				assert.deepEqual(
					out.candidates.map(c => c.score),
					out.candidates.map(c => c.text.length),
				);
				assert.equal(rm.poolingRequests.length, 3);
			} finally {
				await rm.close();
			}
			const refused = await run(args, 'text', undefined, { OPENAI_API_KEY: '' });
			assert.equal(refused.code, 1);
			assert.match(refused.stderr, /HTTP 401.*Set OPENAI_API_KEY/);
			for (const r of [ok, refused]) assert.ok(!(r.stdout + r.stderr).includes(key), 'the key is never printed');
			const badBackend = await run(['rewrite', '-i', 'x', '--backend', 'tgi'], 'text');
			assert.equal(badBackend.code, 2);
			assert.match(badBackend.stderr, /--backend must be one of ollama, openai, builtin, not "tgi"/);
		} finally {
			await vllm.close();
		}
	});

	it('prints hostile model text inert: no terminal escapes, bidi controls shown; --raw and --json keep it exact', async () => {
		const hostile = 'const ok = 1; /*\u202e } \u2066if (admin)\u2069 */\x1b]0;pwned\x07\x1b[2J\x9b31m';
		fake.respond = () => hostile;
		const args = ['rewrite', '-i', 'shorter', '--n', '1', '--host', fake.url, '--language', 'javascript', '--ranker', 'consensus'];
		const text = await run(args, 'let x = 1;\n');
		assert.equal(text.code, 0, text.stderr);
		// eslint-disable-next-line no-control-regex -- looking for terminal escapes
		assert.doesNotMatch(text.stdout, /[\x1b\x07\x9b\u202a-\u202e\u2066-\u2069]/);
		assert.match(text.stdout, /const ok = 1; \/\*<U\+202E> } <U\+2066>if \(admin\)<U\+2069> \*\/31m/);
		const raw = await run([...args, '--raw'], 'let x = 1;\n');
		assert.ok(raw.stdout.includes(hostile), 'with --raw the text is printed as the model wrote it');
		const json = await run([...args, '--json'], 'let x = 1;\n');
		// eslint-disable-next-line no-control-regex -- looking for terminal escapes
		assert.doesNotMatch(json.stdout, /[\x1b\x07\x9b\u202a-\u202e\u2066-\u2069]/);
		assert.equal(at(cliJson(json).candidates, 0).text, `${hostile}\n`);
	});

	it('rejects empty input and bad flags with exit 2', async () => {
		const empty = await run(['rewrite', '-i', 'x', '--host', fake.url], '  \n');
		assert.equal(empty.code, 2);
		assert.match(empty.stderr, /input on stdin is empty/);
		const badN = await run(['rewrite', '-i', 'x', '--n', '40', '--host', fake.url], 'text');
		assert.equal(badN.code, 2);
		assert.match(badN.stderr, /--n must be between 1 and 16, not "40"/);
		assert.doesNotMatch(badN.stderr, /using/, 'the CLI does not fall back to a clamped value');
		const badRanker = await run(['rewrite', '-i', 'x', '--ranker', 'best'], 'text');
		assert.equal(badRanker.code, 2);
		assert.match(badRanker.stderr, /--ranker must be one of auto, reward, consensus/);
	});
	it('writes a --json output of megabytes to a pipe whole, then exits by itself', async () => {
		// More than a pipe holds: process.exit() right after the write dropped all but the first 64-400 KiB.
		// Within the run's cap on held text (N × maxTokens × 16 characters: 4 × 16384 × 16 = 1 MiB).
		const lines = 5_000;
		fake.respond = r => Array.from({ length: lines }, (_, i) => `candidate ${r.id} line ${i} of a long answer`).join('\n');
		fake.chunkSize = 1 << 16;
		const args = [
			'rewrite',
			'-i',
			'expand',
			'--n',
			'4',
			'--host',
			fake.url,
			'--model',
			'llama3.1:8b',
			'--ranker',
			'consensus',
			'--max-tokens',
			'16384',
			'--json',
		];
		const r = await run(args, 'short');
		assert.equal(r.code, 0, r.stderr);
		assert.ok(r.stdout.length > 600_000, `the output is large (${r.stdout.length} characters)`);
		const out = cliJson(r);
		assert.equal(out.candidates.length, 4);
		for (const c of out.candidates) assert.equal(c.text.split('\n').length, lines);
		assert.equal(r.stderr, '');
		assert.ok(r.lingerMs < MAX_LINGER_MS, `exited ${r.lingerMs} ms after its last output`);
	});

	it('exits 130 on Ctrl+C, with one line and no output', async () => {
		fake.tokenDelayMs = 50;
		const r = await run(
			['rewrite', '-i', 'x', '--n', '2', '--host', fake.url, '--model', 'llama3.1:8b', '--reward-model', modelDir, '--json'],
			'text',
			child => {
				const before = fake.requests.length;
				until('the first request', () => fake.requests.length > before).then(
					() => child.kill('SIGINT'),
					() => child.kill(),
				);
			},
		);
		assert.equal(r.code, 130, `${r.signal ?? ''} ${r.stderr}`);
		assert.equal(r.stderr, 'best-of-n: cancelled\n');
		assert.equal(r.stdout, '');
		assert.ok(r.lingerMs < MAX_LINGER_MS, `exited ${r.lingerMs} ms after its last output`);
		await fake.waitForIdle();
	});

	it('--seed N: the same seed and settings give the same candidates, one seed per candidate', async () => {
		fake.respond = defaultRespond;
		const args = ['rewrite', '-i', 'vary it', '--n', '3', '--seed', '1234', '--host', fake.url, '--model', 'llama3.1:8b', '--json'];
		const before = fake.requests.length;
		const first = await run(args, 'some text');
		const second = await run(args, 'some text');
		assert.equal(first.code, 0, first.stderr);
		assert.equal(second.code, 0, second.stderr);
		const texts = (r: Result) => cliJson(r).candidates.map(c => c.text);
		assert.equal(new Set(texts(first)).size, 3, 'each candidate has its own seed');
		assert.deepEqual(texts(second), texts(first));
		const seeds = fake.requests.slice(before).map(q => q.seed);
		assert.deepEqual(
			[...seeds].sort((a, b) => a! - b!),
			[1234, 1234, 1235, 1235, 1236, 1236],
		);
	});

	it('rejects a --seed that is not a whole number with exit 2, before generating', async () => {
		const before = fake.requests.length;
		for (const seed of ['abc', '1.5', '-3', '', '1e3', '99999999999']) {
			const r = await run(['rewrite', '-i', 'x', `--seed=${seed}`, '--host', fake.url, '--model', 'llama3.1:8b'], 'text');
			assert.equal(r.code, 2, `--seed "${seed}": ${r.stderr}`);
			assert.equal(r.stderr, `best-of-n: --seed must be a whole number from 0 to 2147483647, not "${seed}"\n`);
		}
		assert.equal(fake.requests.length, before, 'nothing was generated');
	});

	it('--dtype q8 loads a model that has only onnx/model_quantized.onnx', async () => {
		const input = 'the function returns a';
		const r = await run(
			[
				'rewrite',
				'-i',
				'make it better',
				'--n',
				'4',
				'--host',
				fake.url,
				'--model',
				'llama3.1:8b',
				'--reward-model',
				quantizedDir,
				'--dtype',
				'q8',
				'--json',
			],
			input,
		);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(r.stderr, '');
		const out = cliJson(r);
		assert.equal(out.ranker, 'reward');
		const prompt = rewardPrompt({ instruction: 'make it better', text: input, languageId: 'plaintext' });
		const expected = [...REPLIES].sort((a, b) => tinyRewardLogit({ prompt, response: b }) - tinyRewardLogit({ prompt, response: a }));
		assert.deepEqual(
			out.candidates.map(c => c.text),
			expected,
		);
	});

	it('without --dtype (fp32), a quantized-only model exits 1 naming --dtype, not a setting', async () => {
		const before = fake.requests.length;
		const r = await run(['rewrite', '-i', 'x', '--host', fake.url, '--model', 'llama3.1:8b', '--reward-model', quantizedDir], 'text');
		assert.equal(r.code, 1, r.stderr);
		assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
		assert.match(r.stderr, /no ONNX export for dtype fp32/);
		assert.match(r.stderr, /model_quantized\.onnx \(dtype q8\), which --dtype can select/);
		assert.doesNotMatch(r.stderr, /bestOfN\./, 'no setting names reach a CLI user');
		assert.equal(fake.requests.length, before, 'nothing was generated');
	});

	it('rejects an unknown --dtype with exit 2', async () => {
		const r = await run(['rewrite', '-i', 'x', '--dtype', 'q16', '--reward-model', modelDir], 'text');
		assert.equal(r.code, 2);
		assert.equal(r.stderr, 'best-of-n: --dtype must be one of fp32, fp16, q8, int8, uint8, q4, not "q16"\n');
	});

	it('keeps stderr empty with --n 8 --concurrency 8 (no MaxListenersExceededWarning)', async () => {
		// Every open candidate listens to the run's one AbortSignal; Node warns past 10 listeners.
		fake.reset();
		fake.parallel = 8;
		fake.tokenDelayMs = 2;
		// Each stream waits after its first chunk until all 8 have started, so on a busy machine none
		// ends before the last one is sent (if the CLI sent fewer at once, the run would never end).
		let started = 0;
		let allStarted!: () => void;
		const all = new Promise<void>(r => (allStarted = r));
		fake.beforeChunk = (_request, index) => {
			if (index === 0 && ++started === 8) allStarted();
			return index === 1 ? all : undefined;
		};
		const r = await run(
			[
				'rewrite',
				'-i',
				'x',
				'--n',
				'8',
				'--concurrency',
				'8',
				'--host',
				fake.url,
				'--model',
				'llama3.1:8b',
				'--reward-model',
				modelDir,
				'--json',
			],
			'text',
		);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(cliJson(r).failed, 0);
		assert.equal(r.stderr, '');
		assert.ok(fake.maxConcurrent >= 8, `8 candidates were generated at once (${fake.maxConcurrent})`);
	});
});

/**
 * The CLI as a user runs it: the built `dist/cli.js` in a child process, against the loopback
 * Ollama-API server and a tiny ONNX reward model loaded by the real worker through transformers.js.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rewardPrompt } from '../../src/core/prompt';
import { FakeOllama } from '../fixtures/fakeOllama';
import { tinyRewardLogit, writeTinyRewardModel } from '../fixtures/tinyRewardModel';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');
const REPLIES = ['this code is good and clear', 'this code is broken and wrong', 'the function returns a', 'great correct code'];

interface Result {
	code: number | null;
	stdout: string;
	stderr: string;
}

function run(args: string[], stdin = ''): Promise<Result> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, XDG_CACHE_HOME: cacheDir } });
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', d => (stdout += d));
		child.stderr.on('data', d => (stderr += d));
		child.on('error', reject);
		child.on('close', code => resolve({ code, stdout, stderr }));
		child.stdin.end(stdin);
	});
}

let fake: FakeOllama;
let modelDir: string;
let cacheDir: string;

/** Rebuilds the CLI bundle when it is missing or older than the sources, so a stale build is never tested. */
function ensureBuilt(): void {
	const newest = (dir: string): number =>
		Math.max(...fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter(e => e.isFile()).map(e => fs.statSync(path.join(e.parentPath, e.name)).mtimeMs));
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
		fake = new FakeOllama({ models: ['llama3.1:8b'], respond: r => REPLIES[(r.id - 1) % REPLIES.length] });
		await fake.start();
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-cli-rm-'));
		cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-cli-cache-'));
		writeTinyRewardModel(modelDir);
	});

	beforeEach(() => {
		fake.respond = r => REPLIES[(r.id - 1) % REPLIES.length];
		fake.shouldCut = undefined;
		fake.tokenDelayMs = 0;
	});

	after(async () => {
		await fake?.close();
		fs.rmSync(modelDir, { recursive: true, force: true });
		fs.rmSync(cacheDir, { recursive: true, force: true });
	});

	it('--json ranks N candidates by the reward model, best first', async () => {
		const input = 'the function returns a';
		const r = await run(['rewrite', '--instruction', 'make it better', '--n', '4', '--host', fake.url, '--model', 'llama3.1:8b', '--reward-model', modelDir, '--json'], input);
		assert.equal(r.code, 0, r.stderr);
		const out = JSON.parse(r.stdout);
		assert.equal(out.ranker, 'reward');
		assert.equal(out.failed, 0);
		assert.equal(out.candidates.length, 4);
		const prompt = rewardPrompt({ instruction: 'make it better', text: input, languageId: 'plaintext' });
		const expected = [...REPLIES].sort((a, b) => tinyRewardLogit({ prompt, response: b }) - tinyRewardLogit({ prompt, response: a }));
		assert.deepEqual(out.candidates.map((c: { text: string }) => c.text), expected);
		assert.deepEqual(out.candidates.map((c: { rank: number }) => c.rank), [1, 2, 3, 4]);
		for (let i = 1; i < out.candidates.length; i++) assert.ok(out.candidates[i - 1].score >= out.candidates[i].score, 'scores are non-increasing');
		assert.ok(Math.abs(out.candidates[0].score - tinyRewardLogit({ prompt, response: expected[0] })) < 1e-4, 'the score is the raw logit');
	});

	it('reads --input FILE and prints a readable ranked list, ranking by consensus without a reward model', async () => {
		const file = path.join(cacheDir, 'in.ts');
		fs.writeFileSync(file, 'return a+b;\n');
		fake.respond = r => ['return a + b;', 'return a + b;', 'return b + a;', 'print(1)'][(r.id - 1) % 4];
		const r = await run(['rewrite', '--instruction', 'format', '--input', file, '--n', '4', '--host', fake.url, '--model', 'llama3.1:8b']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^3 of 4 candidates from llama3\.1:8b, ranked by consensus \(no --reward-model given\)/);
		assert.match(r.stdout, /#1 {2}score \+[0-9.]+ {2}\(×2\)\n {4}return a \+ b;/, 'the duplicated candidate wins with its count');
		assert.ok(r.stdout.indexOf('print(1)') > r.stdout.indexOf('return b + a;'), 'the outlier ranks last');
	});

	it('exits 0 and reports failures when some candidates fail', async () => {
		fake.shouldCut = req => ((req.id - 1) % 4 === 1 ? 1 : undefined);
		fake.chunkSize = 4;
		try {
			const r = await run(['rewrite', '-i', 'improve', '--n', '4', '--host', fake.url, '--model', 'llama3.1:8b', '--reward-model', modelDir, '--json'], 'some text');
			assert.equal(r.code, 0, r.stderr);
			const out = JSON.parse(r.stdout);
			assert.equal(out.failed, 1);
			assert.equal(out.candidates.length, 3);
			assert.match(r.stderr, /candidate \d failed: The connection to http:\/\/127\.0\.0\.1:\d+ closed before the candidate finished/);
		} finally {
			fake.chunkSize = 'word';
		}
	});

	it('names an unreachable host in one line and exits 1', async () => {
		const closed = new FakeOllama();
		const { url } = await closed.start();
		await closed.close();
		const r = await run(['rewrite', '-i', 'x', '--host', url, '--model', 'llama3.1:8b'], 'text');
		assert.equal(r.code, 1);
		assert.equal(r.stderr.trim().split('\n').length, 1);
		assert.ok(r.stderr.includes(`Could not reach Ollama at ${url}`), r.stderr);
	});

	it('names a model that is not installed and exits 1', async () => {
		const r = await run(['rewrite', '-i', 'x', '--n', '4', '--concurrency', '1', '--host', fake.url, '--model', 'no-such-model:1b'], 'text');
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
		assert.equal(fake.requests.length, before, 'nothing was generated');
	});

	it('rejects empty input and bad flags with exit 2', async () => {
		const empty = await run(['rewrite', '-i', 'x', '--host', fake.url], '  \n');
		assert.equal(empty.code, 2);
		assert.match(empty.stderr, /input on stdin is empty/);
		const badN = await run(['rewrite', '-i', 'x', '--n', '40', '--host', fake.url], 'text');
		assert.equal(badN.code, 2);
		assert.match(badN.stderr, /--n must be between 1 and 16/);
		const badRanker = await run(['rewrite', '-i', 'x', '--ranker', 'best'], 'text');
		assert.equal(badRanker.code, 2);
		assert.match(badRanker.stderr, /--ranker must be one of auto, reward, consensus/);
	});
});

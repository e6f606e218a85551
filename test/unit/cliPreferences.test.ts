/**
 * `best-of-n preferences export` and `best-of-n eval` as a user runs them: the built dist/cli.js in a
 * child process, on a preference log and preference JSONL written here, and the tiny ONNX reward
 * model loaded by the real worker through transformers.js.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { wilson } from '../../src/core/agreement';
import { buildPreferenceRecord, serializeRecord } from '../../src/core/preferences';
import { FakeVllm } from '../fixtures/fakeVllm';
import { tinyRewardLogit, writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { at } from '../fixtures/present';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');

let tmp: string;
let modelDir: string;

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [cli, ...args], {
			cwd: root,
			env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache'), ...env },
		});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
		child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
		child.on('error', reject);
		child.on('close', code => resolve({ code, stdout, stderr }));
		child.stdin.end();
	});
}

function record(time: string, task: string, texts: string[], chosen: number): string {
	const r = buildPreferenceRecord({
		time: new Date(time),
		task,
		instruction: 'shorter',
		messages: [{ role: 'user', content: `shorter: ${texts.join('|')}` }],
		prompt: 'shorter\n\nthe text',
		languageId: 'plaintext',
		model: 'm',
		backend: 'ollama',
		host: 'http://127.0.0.1:11434',
		ranker: { kind: 'consensus', label: 'consensus' },
		candidates: texts.map((text, id) => ({ id, status: 'done', text, count: 1, rank: id + 1, score: 1 - id / 10 })),
		chosen,
	});
	assert.ok(r);
	return serializeRecord(r);
}

const LOG = [
	record('2026-03-01T10:00:00Z', 'rewrite', ['a', 'b'], 1),
	record('2026-03-02T10:00:00Z', 'rewrite', ['c', 'd', 'e'], 0),
	record('2026-03-03T10:00:00Z', 'explain', ['f', 'g', 'h'], 2),
].join('');

const lines = (text: string) =>
	text
		.trim()
		.split('\n')
		.filter(Boolean)
		.map(l => JSON.parse(l));

describe('CLI: best-of-n preferences export and eval', function () {
	this.timeout(60_000);

	before(() => {
		if (!fs.existsSync(cli) || fs.statSync(cli).mtimeMs < fs.statSync(path.join(root, 'src/cli/preferencesCli.ts')).mtimeMs) {
			assert.equal(spawnSync(process.execPath, ['esbuild.js'], { cwd: root, stdio: 'inherit' }).status, 0, 'the build failed');
		}
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-cli-prefs-'));
		modelDir = path.join(tmp, 'rm');
		writeTinyRewardModel(modelDir);
	});

	after(() => fs.rmSync(tmp, { recursive: true, force: true }));

	it('exports the filtered log as TRL rows to --out and says how many', async () => {
		const log = path.join(tmp, 'log.jsonl');
		fs.writeFileSync(log, LOG);
		const out = path.join(tmp, 'out.jsonl');
		const r = await run(['preferences', 'export', '--log', log, '--out', out, '--task', 'rewrite', '--min-candidates', '3']);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(r.stdout, '');
		assert.deepEqual(lines(fs.readFileSync(out, 'utf8')), [
			{ prompt: 'shorter\n\nthe text', chosen: 'c', rejected: 'd' },
			{ prompt: 'shorter\n\nthe text', chosen: 'c', rejected: 'e' },
		]);
		assert.match(r.stderr, /^exported 2 pairs from 1 of 3 picks in .*log\.jsonl to .*out\.jsonl\n$/);
	});

	it('finds the log in VS Code’s global storage by default and writes to stdout; dates and the conversational form', async () => {
		const config = path.join(tmp, 'config');
		const storage = path.join(config, 'Code', 'User', 'globalStorage', 'best-of-n.best-of-n');
		fs.mkdirSync(storage, { recursive: true });
		fs.writeFileSync(path.join(storage, 'preferences.jsonl'), LOG);
		const env = { XDG_CONFIG_HOME: config, XDG_DATA_HOME: path.join(tmp, 'data'), HOME: tmp };
		const r = await run(['preferences', 'export', '--since', '2026-03-03', '--format', 'conversational'], env);
		assert.equal(r.code, 0, r.stderr);
		const rows = lines(r.stdout);
		assert.equal(rows.length, 2);
		assert.deepEqual(rows[0].chosen, [{ role: 'assistant', content: 'h' }]);
		assert.deepEqual(rows[0].prompt, [{ role: 'user', content: 'shorter: f|g|h' }]);

		const none = await run(['preferences', 'export'], {
			XDG_CONFIG_HOME: path.join(tmp, 'nothing'),
			XDG_DATA_HOME: path.join(tmp, 'nothing'),
			HOME: path.join(tmp, 'nothing'),
		});
		assert.equal(none.code, 2);
		assert.match(none.stderr, /no preference log found; looked in:[\s\S]*--log FILE/);
	});

	it('rejects bad filters with exit 2, naming the flag', async () => {
		const r = await run(['preferences', 'export', '--log', 'x', '--since', 'yesterday']);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /--since must be a date like 2026-03-01/);
		const k = await run(['preferences', 'export', '--log', 'x', '--min-candidates', 'two']);
		assert.equal(k.code, 2);
		assert.match(k.stderr, /--min-candidates must be a whole number/);
	});

	it('eval --json: pairwise accuracy of the reward model with its interval, ties half, per subset', async () => {
		const pairs = [
			{ prompt: 'q', chosen: 'this code is good and clear', rejected: 'this code is broken and wrong', subset: 'easy' },
			{ prompt: 'q', chosen: 'great correct code', rejected: 'broken wrong code', subset: 'easy' },
			{ prompt: 'q', chosen: 'broken wrong code', rejected: 'good code', subset: 'hard' },
			{ prompt: 'q', chosen: 'same words', rejected: 'same words', subset: 'hard' },
		];
		// Conversational rows are read too: the third pair, as a chat.
		const rows = pairs.map((p, i) =>
			i === 2
				? {
						prompt: [{ role: 'user', content: p.prompt }],
						chosen: [{ role: 'assistant', content: p.chosen }],
						rejected: [{ role: 'assistant', content: p.rejected }],
						subset: p.subset,
					}
				: p,
		);
		const data = path.join(tmp, 'pairs.jsonl');
		fs.writeFileSync(data, rows.map(r => JSON.stringify(r)).join('\n'));
		const r = await run(['eval', '--reward-model', modelDir, '--data', data, '--json']);
		assert.equal(r.code, 0, r.stderr);
		const out = JSON.parse(r.stdout);

		const won = pairs.map(p => {
			const c = tinyRewardLogit({ prompt: p.prompt, response: p.chosen });
			const j = tinyRewardLogit({ prompt: p.prompt, response: p.rejected });
			return c > j ? 1 : c === j ? 0.5 : 0;
		});
		assert.deepEqual(won, [1, 1, 0, 0.5], 'the fixture model judges these pairs as expected');
		assert.equal(out.pairs, 4);
		assert.equal(out.accuracy, 2.5 / 4);
		assert.deepEqual(out.ci95, [...wilson(2.5, 4)]);
		assert.deepEqual(out.subsets, {
			easy: { pairs: 2, accuracy: 1, ci95: [...wilson(2, 2)] },
			hard: { pairs: 2, accuracy: 0.25, ci95: [...wilson(0.5, 2)] },
		});
	});

	it('eval prints a readable line, and names a bad data line with exit 2', async () => {
		const data = path.join(tmp, 'one.jsonl');
		fs.writeFileSync(data, '{"prompt":"q","chosen":"good clear code","rejected":"broken code"}\n');
		const r = await run(['eval', '--reward-model', modelDir, '--data', data]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /pairwise accuracy 100\.0% \(95% CI 20\.7%–100\.0%\) over 1 pair/);

		fs.writeFileSync(data, '{"prompt":"q","chosen":"a","rejected":"b"}\n{"prompt":"q"}\n');
		const bad = await run(['eval', '--reward-model', modelDir, '--data', data]);
		assert.equal(bad.code, 2);
		assert.match(bad.stderr, /one\.jsonl: line 2: needs "chosen" and "rejected"/);
		const missing = await run(['eval', '--data', data]);
		assert.equal(missing.code, 2);
		assert.match(missing.stderr, /--reward-model is required/);
	});

	it('eval --reward-model URL: a reward model served by vLLM judges each pair as a chat, with the key from OPENAI_API_KEY', async () => {
		const key = 'sk-eval-5f0c2a9e81d4';
		const rm = new FakeVllm({ models: ['Skywork/Skywork-Reward-V2-Qwen3-0.6B'], apiKey: key, reward: m => at(m, 1).content.length });
		await rm.start();
		try {
			const data = path.join(tmp, 'served.jsonl');
			const pairs = [
				{ prompt: 'make it clear', chosen: 'a longer, clearer answer', rejected: 'short' },
				{ prompt: 'make it clear', chosen: 'the long one wins again', rejected: 'nope' },
				{ prompt: 'make it short', chosen: 'ok', rejected: 'a reply that is far too long' },
			];
			fs.writeFileSync(data, pairs.map(p => JSON.stringify(p)).join('\n'));
			const r = await run(['eval', '--reward-model', rm.url, '--data', data, '--json'], { OPENAI_API_KEY: key });
			assert.equal(r.code, 0, r.stderr);
			const out = JSON.parse(r.stdout);
			assert.equal(out.pairs, 3);
			assert.equal(out.accuracy, 2 / 3, 'longer wins with this reward: right twice, wrong once');
			assert.equal(rm.poolingRequests.length, 6, 'chosen and rejected of each pair');
			assert.deepEqual(
				rm.poolingRequests.map(q => q.body.messages?.map(m => m.role)),
				Array.from({ length: 6 }, () => ['user', 'assistant']),
			);
			assert.ok(rm.poolingRequests.every(q => q.authorization === `Bearer ${key}`));

			const refused = await run(['eval', '--reward-model', rm.url, '--data', data], { OPENAI_API_KEY: 'sk-eval-wrong-000' });
			assert.equal(refused.code, 1);
			assert.match(refused.stderr, /HTTP 401/);
			assert.match(refused.stderr, /OPENAI_API_KEY/);
			assert.ok(!refused.stderr.includes('sk-eval-wrong-000') && !refused.stderr.includes(key), refused.stderr);
		} finally {
			await rm.close();
		}
	});
});

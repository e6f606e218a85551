/**
 * What Best-of-N writes to its log (Best-of-N: Show Log) at the default level, read back from the
 * files VS Code keeps for the extension's LogOutputChannel: runs are logged, but never the API key,
 * the selected text or what the model answered. Rewrite and explain, a refused run and a good one,
 * against a loopback OpenAI-compatible server and reward server behind a key.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { PickerState } from '../../src/core/protocol';
import type { BestOfNApi } from '../../src/extension';
import { FakeVllm } from '../fixtures/fakeVllm';
import { until } from '../fixtures/until';
import { at, cycle } from '../fixtures/present';
import { readLogFolder, showActive } from '../fixtures/extensionHost';

const MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const RM = 'Skywork/Skywork-Reward-V2-Qwen3-0.6B';
const KEY = 'sk-log-secrecy-9d2e71c04b8a';
// Distinctive enough that any line holding them (or a slice of them) is found.
const SELECTION = 'const zorblatQuux = computeFrobnitz(4411);';
const CANDIDATES = ['const zorblatQuux = frobnitzCandidateAlpha(4411);', 'Explains frobnitzCandidateBeta in prose.'];
const SECRETS: Array<[string, string]> = [
	['the API key', KEY],
	['the selection', 'zorblatQuux'],
	['the selection', 'computeFrobnitz'],
	['a candidate', 'frobnitzCandidateAlpha'],
	['a candidate', 'frobnitzCandidateBeta'],
];

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);
const SETTINGS = ['backend', 'openai.baseUrl', 'model', 'candidates', 'concurrency', 'ranker', 'rewardModel'];

async function run(command: 'bestOfN.rewriteSelection' | 'bestOfN.explainSelection'): Promise<PickerState | undefined> {
	const doc = await vscode.workspace.openTextDocument({ content: `${SELECTION}\n`, language: 'javascript' });
	const editor = await showActive(doc);
	editor.selection = new vscode.Selection(0, 0, 0, SELECTION.length);
	return vscode.commands.executeCommand<PickerState | undefined>(command, { instruction: 'rename zorblatQuux' });
}

describe('The log at its default level', function () {
	this.timeout(120_000);
	let gen: FakeVllm;
	let rm: FakeVllm;
	let api: BestOfNApi;

	before(async () => {
		gen = new FakeVllm({ models: [MODEL], apiKey: KEY, respond: (_q, i) => cycle(CANDIDATES, i) });
		rm = new FakeVllm({ models: [RM], apiKey: KEY, reward: m => at(m, -1).content.length });
		await gen.start();
		await rm.start();
		api = (await vscode.extensions.all.find(e => e.id.endsWith('.best-of-n'))?.activate()) as BestOfNApi;
		await set('backend', 'openai');
		await set('openai.baseUrl', gen.baseUrl);
		await set('model', MODEL);
		await set('candidates', 2);
		await set('concurrency', 1);
		await set('ranker', 'reward');
		await set('rewardModel', rm.url);
	});

	afterEach(async () => {
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
	});

	after(async () => {
		for (const key of SETTINGS) await set(key, undefined);
		for (const url of [gen.baseUrl, rm.url]) await vscode.commands.executeCommand('bestOfN.setApiKey', { url, apiKey: '' });
		while (api.explanations.length) await vscode.commands.executeCommand('bestOfN.explanation.dismiss');
		await gen?.close();
		await rm?.close();
	});

	it('holds the runs, and no API key, selected text or candidate text', async () => {
		const refused = await run('bestOfN.rewriteSelection');
		assert.equal(refused?.phase, 'failed', 'refused without the key');

		await vscode.commands.executeCommand('bestOfN.setApiKey', { url: gen.baseUrl, apiKey: KEY });
		await vscode.commands.executeCommand('bestOfN.setApiKey', { url: rm.url, apiKey: KEY });
		const rewritten = await run('bestOfN.rewriteSelection');
		assert.equal(rewritten?.phase, 'done', rewritten?.notice?.text);
		assert.ok(
			rewritten.candidates.some(c => c.text.includes('frobnitzCandidateAlpha')),
			'the candidates hold the text looked for',
		);
		await vscode.commands.executeCommand('bestOfN.acceptCandidate');
		const explained = await run('bestOfN.explainSelection');
		assert.equal(explained?.phase, 'done', explained?.notice?.text);
		await vscode.commands.executeCommand('bestOfN.acceptCandidate');
		await until('the explanation inline', () => api.explanations.length > 0);

		// The log file is written asynchronously: wait until it holds the last run's end.
		const log = () => readLogFolder(api.logFolder);
		const ended = new RegExp(`run ${explained.runId} done`);
		await until(
			'the log to hold both runs',
			() => /\(rewrite\)/.test(log()) && /\(explain\)/.test(log()) && ended.test(log()),
			20_000,
			log,
		);
		assert.match(log(), /HTTP 401/, 'the refusal is logged');
		const text = log();
		for (const [what, secret] of SECRETS) {
			const line = text.split('\n').find(l => l.includes(secret));
			assert.equal(line, undefined, `${what} is in the log`);
		}
	});
});

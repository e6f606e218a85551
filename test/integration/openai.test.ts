/**
 * The `openai` backend inside a real extension host: a loopback vLLM-like server generates all N in
 * one request with `n`, a second one serves a reward model through `/pooling`, both behind an API key
 * kept in VS Code's secret storage. A run is cancelled mid-stream and nothing stays open at either.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { PickerState } from '../../src/core/protocol';
import type { BestOfNApi } from '../../src/extension';
import { FakeVllm } from '../fixtures/fakeVllm';
import { until } from '../fixtures/until';
import { at, cycle, defined } from '../fixtures/present';
import { readLogFolder } from '../fixtures/extensionHost';

const MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const RM = 'Skywork/Skywork-Reward-V2-Qwen3-0.6B';
const KEY = 'sk-integration-3c1f9e77a2b4d5e6';
const REPLIES = ['short', 'a medium answer', 'the longest answer of them all', 'mid size'];

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);
const SETTINGS = ['backend', 'ollama.host', 'openai.baseUrl', 'model', 'candidates', 'concurrency', 'ranker', 'rewardModel'];
/** An Ollama host that must never be named while the backend is openai. */
const OLLAMA_HOST = 'http://ollama-box.invalid:11434';

async function selectAllOf(text: string): Promise<void> {
	const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
	const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
	editor.selection = new vscode.Selection(0, 0, 0, text.length);
}

function rewrite(instruction: string): Thenable<PickerState | undefined> {
	return vscode.commands.executeCommand<PickerState | undefined>('bestOfN.rewriteSelection', { instruction });
}

describe('The openai backend with a served reward model, in a real extension host', function () {
	this.timeout(240_000);
	let gen: FakeVllm;
	let rm: FakeVllm;
	let api: BestOfNApi;

	before(async () => {
		gen = new FakeVllm({ models: [MODEL], apiKey: KEY, respond: (_q, i) => cycle(REPLIES, i) });
		rm = new FakeVllm({ models: [RM], apiKey: KEY, reward: m => at(m, 1).content.length });
		await gen.start();
		await rm.start();
		api = (await vscode.extensions.all.find(e => e.id.endsWith('.best-of-n'))?.activate()) as BestOfNApi;
		await set('ollama.host', OLLAMA_HOST);
		await set('backend', 'openai');
		await set('openai.baseUrl', gen.baseUrl);
		await set('model', MODEL);
		await set('candidates', 4);
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
		await gen?.close();
		await rm?.close();
	});

	it('without the key the run fails as unauthorized; with it, one request with n generates all four, ranked by the served model', async () => {
		await selectAllOf('some text');
		const refused = await rewrite('make it better');
		assert.equal(refused?.phase, 'failed');
		assert.match(refused?.notice?.text ?? '', /HTTP 401/);

		await vscode.commands.executeCommand('bestOfN.setApiKey', { url: gen.baseUrl, apiKey: KEY });
		await vscode.commands.executeCommand('bestOfN.setApiKey', { url: rm.url, apiKey: KEY });
		gen.reset();
		rm.reset();
		await selectAllOf('some text');
		const state = await rewrite('make it better');
		assert.ok(state);
		assert.equal(state.phase, 'done', state.notice?.text);
		assert.deepEqual(
			gen.requests.map(q => q.n),
			[4],
			'all four in one request',
		);
		assert.equal(state.host, gen.baseUrl, 'the picker names the base URL it generated at');
		assert.equal(state.ranker.kind, 'reward', state.ranker.reason);
		assert.equal(state.ranker.label, RM, 'the picker names the served model');
		assert.deepEqual(
			state.candidates.map(c => c.text),
			[...REPLIES].sort((a, b) => b.length - a.length),
			'best first by the served scores',
		);
		assert.equal(rm.poolingRequests.length, 4);
		assert.ok(
			[...gen.authorizations, ...rm.authorizations].every(a => a === `Bearer ${KEY}`),
			'the key went in the Authorization header',
		);

		// The key is nowhere else: not in the picker's state, not in any setting.
		assert.ok(!JSON.stringify(state).includes(KEY), 'not in the picker state');
		for (const key of SETTINGS) {
			assert.ok(!JSON.stringify(config().inspect(key) ?? {}).includes(KEY), `not in bestOfN.${key}`);
		}
		assert.ok(!JSON.stringify(gen.requests.map(q => q.body)).includes(KEY), 'not in a request body');

		// Nor in the log, which has the refusal and this run in it.
		const logText = () => readLogFolder(api.logFolder);
		await until('the log to hold the run', () => logText().includes('HTTP 401') && logText().includes(`4 × ${MODEL}`), 20_000);
		assert.ok(!logText().includes(KEY), 'not in the log');
	});

	it("refuses a selection longer than the window /v1/models gives the model (vLLM's max_model_len), before generating", async () => {
		await vscode.commands.executeCommand('bestOfN.setApiKey', { url: gen.baseUrl, apiKey: KEY });
		await set('ranker', 'consensus');
		gen.reset();
		const text = Array.from({ length: 400 }, (_, i) => `line ${i}: some words to rewrite here`).join('\n');
		const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
		const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
		const selectAll = () => (editor.selection = new vscode.Selection(new vscode.Position(0, 0), doc.positionAt(text.length)));
		selectAll();
		gen.maxModelLen = 2048;
		try {
			assert.equal(await rewrite('shorter'), undefined, 'no run');
			assert.equal(gen.requests.length, 0, 'nothing was generated');
			// The same selection fits a server that runs the model with a longer window.
			gen.maxModelLen = 32768;
			await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
			selectAll();
			const state = await rewrite('shorter');
			assert.equal(state?.phase, 'done', state?.notice?.text);
			assert.equal(gen.requests.length, 1);
		} finally {
			gen.maxModelLen = 32768;
			await set('ranker', 'reward');
			await vscode.commands.executeCommand('notifications.clearAll');
		}
	});

	it('the model picker lists what /v1/models serves, with the key, and offers no pull', async () => {
		await vscode.commands.executeCommand('bestOfN.setApiKey', { url: gen.baseUrl, apiKey: '' });
		gen.models = [MODEL, 'meta-llama/Llama-3.1-8B-Instruct'];
		gen.reset();
		const labels = () => api.quickPick?.items.filter(i => !i.separator).map(i => i.label) ?? [];
		let chosen = vscode.commands.executeCommand<string | undefined>('bestOfN.selectModel');
		await until('the refused listing', () => api.quickPick?.busy === false && labels().some(l => l.includes('Set API Key')), 20_000);
		assert.deepEqual(labels(), [
			'$(error) Could not list the models',
			'$(key) Set API Key…',
			'$(gear) Open Setting bestOfN.openai.baseUrl',
			'$(refresh) Try Again',
		]);
		assert.match(at(defined(api.quickPick, 'the quick pick').items, 0).detail ?? '', /HTTP 401/);
		await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
		assert.equal(await chosen, undefined);

		await vscode.commands.executeCommand('bestOfN.setApiKey', { url: gen.baseUrl, apiKey: KEY });
		gen.reset();
		chosen = vscode.commands.executeCommand<string | undefined>('bestOfN.selectModel');
		await until('the model list', () => api.quickPick?.busy === false && labels().some(l => l.includes('Llama')), 20_000);
		assert.deepEqual(labels(), [`$(check) ${MODEL}`, 'meta-llama/Llama-3.1-8B-Instruct'], 'the served models, and no Pull rows');
		assert.ok(api.quickPick!.items.some(i => i.separator && i.label === `Served by the server at ${gen.baseUrl}`));
		assert.ok(gen.authorizations.length > 0 && gen.authorizations.every(a => a === `Bearer ${KEY}`), 'listed with the key');
		assert.ok(!JSON.stringify(api.quickPick).includes(KEY), 'the key is not in the picker');
		await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
		assert.equal(await chosen, undefined);
		gen.models = [MODEL];
	});

	it('the status bar names the model and the base URL in use, never the Ollama host', async () => {
		await until('the status bar to name the model', () => api.statusBar.text === `$(sparkle) ${MODEL} · reward`, 20_000);
		const tooltip = api.statusBar.tooltip;
		assert.ok(tooltip.includes(`Generation: ${MODEL} at ${gen.baseUrl}`), tooltip);
		assert.ok(tooltip.includes(`Reward model: ${rm.url}`), tooltip);
		assert.ok(!tooltip.includes('ollama-box') && !/ollama/i.test(tooltip), tooltip);
	});

	it('a model the server does not serve: the error offers another model, and no pull', async () => {
		await vscode.commands.executeCommand('bestOfN.setApiKey', { url: gen.baseUrl, apiKey: KEY });
		await set('model', 'no-such/model');
		try {
			await selectAllOf('some text');
			const state = await rewrite('make it better');
			assert.equal(state?.phase, 'failed');
			const failure = await until('the error message', () => api.failure, 20_000);
			assert.ok(failure.message.startsWith(`Model "no-such/model" is not served at ${gen.baseUrl}`), failure.message);
			assert.ok(failure.message.endsWith('Set bestOfN.model to a model it serves.'), failure.message);
			assert.deepEqual(failure.buttons, ['Choose Another Model', 'Show Log']);
			await vscode.commands.executeCommand('notifications.clearAll');
			await until('the message to close', () => api.failure === undefined, 20_000);
		} finally {
			await set('model', MODEL);
		}
	});

	it('Getting Started: the server step completes on /v1/models, the model step when the model is listed there', async () => {
		assert.equal(await vscode.commands.executeCommand('bestOfN.checkServer'), true);
		assert.deepEqual([api.walkthrough.serverReachable, api.walkthrough.modelInstalled], [true, true]);
		await set('model', 'no-such/model');
		try {
			assert.equal(await vscode.commands.executeCommand('bestOfN.checkServer'), true);
			assert.deepEqual([api.walkthrough.serverReachable, api.walkthrough.modelInstalled], [true, false], 'not served there');
		} finally {
			await set('model', MODEL);
		}
	});

	it('cancel mid-stream ends the run and leaves nothing open at either server', async () => {
		gen.tokenDelayMs = 200;
		gen.respond = () => 'word '.repeat(100);
		gen.reset();
		await selectAllOf('some other text');
		const done = rewrite('make it longer');
		await until('the stream to start', () => gen.openRequests === 1 && gen.active === 4, 20_000);
		await new Promise(r => setTimeout(r, 300));
		await vscode.commands.executeCommand('bestOfN.cancel');
		const state = await done;
		assert.equal(state?.phase, 'cancelled');
		assert.ok(
			state?.candidates.every(c => c.status === 'cancelled'),
			state?.candidates.map(c => c.status).join(','),
		);
		await gen.waitForIdle(5000);
		await rm.waitForIdle(5000);
		assert.equal(gen.openRequests, 0, 'the stream was closed at the server');
		assert.equal(rm.openRequests, 0, 'no scoring request open at the reward server');
		assert.equal(gen.requests.length, 1);
	});
});

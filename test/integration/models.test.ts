/**
 * Choosing the generation model inside a real extension host: the model picker against a loopback
 * Ollama-API server with several models (some in memory), driven with VS Code's own quick-input
 * commands; the scope the choice is saved in; pulls with progress and cancel; the status bar.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PickerState } from '../../src/core/protocol';
import type { BestOfNApi } from '../../src/extension';
import { FakeOllama } from '../fixtures/fakeOllama';
import { readManifest } from '../fixtures/manifest';
import { until as waitUntil } from '../fixtures/until';
import { at } from '../fixtures/present';
import { chooseItem } from '../fixtures/quickInput';

const ROOT = path.resolve(__dirname, '../../..');
const manifest = readManifest(path.join(ROOT, 'package.json'));
const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;
const SETTINGS = ['ollama.host', 'model', 'candidates', 'ranker', 'rewardModel'];

let fake: FakeOllama;
let api: BestOfNApi;
/** `until`, and on a time-out what the quick pick showed instead. */
const until = <T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> =>
	waitUntil(what, check, timeoutMs, () => `quick pick: ${JSON.stringify(api.quickPick)}`);
let hadWorkspaceSettings: boolean;

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);

async function rewrite(text: string): Promise<PickerState | undefined> {
	const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
	const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
	editor.selection = new vscode.Selection(0, 0, 0, text.length);
	return vscode.commands.executeCommand<PickerState | undefined>('bestOfN.rewriteSelection', { instruction: 'shorter' });
}

describe('Choosing models', function () {
	this.timeout(60_000);

	before(async () => {
		fake = new FakeOllama({
			models: ['llama3.1:8b', 'qwen2.5-coder:7b-instruct-q8_0', 'phi3:3.8b', 'mistral:7b'],
			loaded: ['phi3:3.8b'],
			respond: r => `reply ${r.id}`,
		});
		await fake.start();
		const extension = vscode.extensions.getExtension<BestOfNApi>(EXTENSION_ID);
		assert.ok(extension, `${EXTENSION_ID} is not installed`);
		api = await extension.activate();
		hadWorkspaceSettings = fs.existsSync(
			path.join(at(vscode.workspace.workspaceFolders ?? [], 0, 'the workspace folders').uri.fsPath, '.vscode'),
		);
	});

	beforeEach(async () => {
		fake.reset();
		fake.pullDelayMs = 2;
		await set('ollama.host', fake.url);
		await set('model', 'llama3.1:8b');
		await set('candidates', 2);
		await set('ranker', 'consensus');
	});

	afterEach(async () => {
		await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
		await config().update('model', undefined, vscode.ConfigurationTarget.Workspace);
	});

	after(async () => {
		for (const key of SETTINGS) await set(key, undefined);
		await fake?.close();
		const folder = path.join(at(vscode.workspace.workspaceFolders ?? [], 0, 'the workspace folders').uri.fsPath, '.vscode');
		if (!hadWorkspaceSettings) fs.rmSync(folder, { recursive: true, force: true });
	});

	it('lists the server’s models (loaded ones marked, the current one checked) and the chosen one is used by the next run', async () => {
		const chosen = vscode.commands.executeCommand<string | undefined>('bestOfN.selectModel');
		const pick = await until('the model list', () => {
			const p = api.quickPick;
			return p?.title === 'Best-of-N: Select Generation Model' && !p.busy && p.items.some(i => i.label.includes('mistral')) && p;
		});
		const rows = pick.items.filter(i => !i.separator);
		const row = (name: string) => rows.find(i => i.label.replace('$(check) ', '') === name);
		assert.deepEqual(
			rows.map(i => i.label),
			['$(check) llama3.1:8b', 'qwen2.5-coder:7b-instruct-q8_0', 'phi3:3.8b', 'mistral:7b', '$(cloud-download) Pull a model…'],
		);
		assert.match(row('llama3.1:8b')!.description!, /^8\.0B · Q4_K_M · \d+(\.\d)? GB · current$/);
		assert.match(row('qwen2.5-coder:7b-instruct-q8_0')!.description!, /^7\.0B · Q8_0 · \d+(\.\d)? GB$/);
		assert.match(row('phi3:3.8b')!.description!, /^3\.8B · Q4_K_M · \d+(\.\d)? GB · loaded$/);
		assert.ok(!row('mistral:7b')!.description!.includes('loaded'));
		assert.equal(pick.active, '$(check) llama3.1:8b', 'the current model is the active row');

		await chooseItem(api, 'qwen2.5-coder:7b-instruct-q8_0');
		const scope = await until('the scope question', () => api.quickPick?.title?.startsWith('Best-of-N: Save') && api.quickPick);
		assert.deepEqual(
			scope.items.map(i => i.label),
			['User Settings', 'Workspace Settings'],
		);
		await chooseItem(api, 'Workspace Settings');
		assert.equal(await chosen, 'qwen2.5-coder:7b-instruct-q8_0');

		const inspected = config().inspect<string>('model');
		assert.equal(inspected?.workspaceValue, 'qwen2.5-coder:7b-instruct-q8_0', 'saved in the workspace');
		assert.equal(inspected?.globalValue, 'llama3.1:8b', 'user settings untouched');
		await until(
			'the status bar to show the new model',
			() => api.statusBar.text === '$(sparkle) qwen2.5-coder:7b-instruct-q8_0 · consensus',
		);

		const state = await rewrite('some text');
		assert.equal(state?.phase, 'done');
		assert.equal(state?.model, 'qwen2.5-coder:7b-instruct-q8_0');
		assert.ok(fake.requests.length > 0 && fake.requests.every(r => r.model === 'qwen2.5-coder:7b-instruct-q8_0'));
	});

	it('says in the list when the server does not answer, and offers its setting', async () => {
		const closed = new FakeOllama();
		const { url } = await closed.start();
		await closed.close();
		await set('ollama.host', url);
		const chosen = vscode.commands.executeCommand<string | undefined>('bestOfN.selectModel');
		const pick = await until('the error in the list', () =>
			api.quickPick && !api.quickPick.busy && api.quickPick.items.length > 0 ? api.quickPick : undefined,
		);
		assert.equal(at(pick.items, 0).label, `$(error) Ollama at ${url} does not answer`);
		assert.match(at(pick.items, 0).detail ?? '', /Could not reach Ollama at .*ollama serve/);
		assert.deepEqual(
			pick.items.slice(1).map(i => i.label),
			['$(gear) Open Setting bestOfN.ollama.host', '$(refresh) Try Again'],
		);
		await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
		assert.equal(await chosen, undefined);
		assert.equal(config().get('model'), 'llama3.1:8b', 'nothing changed');
	});

	it('pulls a missing model with progress, then selects it; Cancel stops a pull and changes nothing', async () => {
		fake.pullDelayMs = 30;
		const seen: string[] = [];
		const watch = setInterval(() => {
			if (seen.at(-1) !== api.statusBar.text) seen.push(api.statusBar.text);
		}, 5);
		try {
			assert.equal(await vscode.commands.executeCommand('bestOfN.selectModel', { model: 'gemma2:2b', scope: 'user' }), 'gemma2:2b');
		} finally {
			clearInterval(watch);
		}
		assert.deepEqual(fake.pulls, ['gemma2:2b']);
		assert.ok(fake.hasModel('gemma2:2b'));
		assert.equal(config().inspect('model')?.globalValue, 'gemma2:2b');
		const percents = seen
			.map(t => /^\$\(loading~spin\) Pulling gemma2:2b (\d+)%$/.exec(t)?.[1])
			.filter(Boolean)
			.map(Number);
		assert.ok(percents.length >= 2, `progress in the status bar: ${seen.join(' | ')}`);
		assert.deepEqual(
			percents,
			[...percents].sort((a, b) => a - b),
			'percentages only grow',
		);
		await until('the status bar to settle', () => api.statusBar.text === '$(sparkle) gemma2:2b · consensus');

		fake.pullDelayMs = 300;
		const pulling = vscode.commands.executeCommand('bestOfN.selectModel', { model: 'llama3.2:1b', scope: 'user' });
		await until('the pull to show', () => /Pulling llama3\.2:1b/.test(api.statusBar.text));
		await vscode.commands.executeCommand('bestOfN.cancel');
		assert.equal(await pulling, undefined);
		await fake.waitForIdle(2000);
		assert.equal(fake.openPulls, 0, 'the pull request is closed at the server');
		assert.ok(!fake.hasModel('llama3.2:1b'));
		assert.equal(config().get('model'), 'gemma2:2b', 'the model setting is unchanged');
		await until('the status bar to settle', () => api.statusBar.text === '$(sparkle) gemma2:2b · consensus');
	});

	it('a model the server lacks: the error offers to pull it, beside choosing another', async () => {
		await set('model', 'tinyllama:1.1b');
		const state = await rewrite('missing model');
		assert.equal(state?.phase, 'failed');
		const failure = await until('the error message', () => api.failure);
		assert.match(failure.message, /tinyllama:1\.1b/);
		assert.deepEqual(failure.buttons, ['Pull tinyllama:1.1b', 'Choose Another Model', 'Show Log']);
		await vscode.commands.executeCommand('notifications.clearAll');
		await until('the message to close', () => api.failure === undefined);
		assert.ok(!fake.hasModel('tinyllama:1.1b'), 'offered, not pulled');
	});

	it('Getting Started: Check Again finds the server, and the sample opens selected', async () => {
		assert.equal(await vscode.commands.executeCommand('bestOfN.checkServer'), true);
		const closed = new FakeOllama();
		const { url } = await closed.start();
		await closed.close();
		await set('ollama.host', url);
		assert.equal(await vscode.commands.executeCommand('bestOfN.checkServer'), false);
		await vscode.commands.executeCommand('bestOfN.openSample');
		const editor = vscode.window.activeTextEditor;
		assert.equal(editor?.document.languageId, 'javascript');
		assert.match(editor.document.getText(editor.selection), /^function total\(items\) \{[\s\S]*\}$/);
		const walkthroughs = manifest.contributes.walkthroughs as {
			steps: { media: { markdown: string }; completionEvents: string[] }[];
		}[];
		for (const step of at(walkthroughs, 0).steps) {
			assert.ok(fs.existsSync(path.join(ROOT, step.media.markdown)), step.media.markdown);
			assert.ok(step.completionEvents.length > 0);
		}
	});

	it('the status bar shows model and ranker, a still pulse during a run, and names host and reward model', async function () {
		this.timeout(180_000); // a whole run, slowed so its busy text can be seen, on a machine that may be shared
		await set('ranker', 'auto');
		await set('rewardModel', '');
		await until('consensus without a reward model', () => api.statusBar.text === '$(sparkle) llama3.1:8b · consensus');
		await set('rewardModel', 'test-org/some-reward-model');
		await until('the ranker to read reward', () => api.statusBar.text === '$(sparkle) llama3.1:8b · reward');
		assert.match(api.statusBar.tooltip, new RegExp(`llama3\\.1:8b at ${fake.url.replace(/\./g, '\\.')}`));
		assert.match(api.statusBar.tooltip, /Reward model: test-org\/some-reward-model \(fp32\)/);
		await set('ranker', 'consensus');
		await set('rewardModel', undefined);

		fake.tokenDelayMs = 40;
		const texts: string[] = [];
		const watch = setInterval(() => {
			if (texts.at(-1) !== api.statusBar.text) texts.push(api.statusBar.text);
		}, 5);
		try {
			await rewrite('status bar text');
		} finally {
			clearInterval(watch);
			fake.tokenDelayMs = 0;
		}
		assert.ok(texts.includes('$(pulse) llama3.1:8b · consensus'), `busy during the run: ${texts.join(' | ')}`);
		assert.ok(!texts.some(t => t.includes('~spin')), `nothing spins during the run: ${texts.join(' | ')}`);
		await until('the idle text after the run', () => api.statusBar.text === '$(sparkle) llama3.1:8b · consensus');
	});
});

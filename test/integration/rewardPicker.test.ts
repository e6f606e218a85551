/**
 * Choosing the reward model inside a real extension host: the picker's list, a folder that fails the
 * check (every missing piece named, the previous choice kept), a Hub model without ONNX weights (the
 * conversion line offered), and one that downloads from a loopback Hub with progress and then ranks.
 * `HF_ENDPOINT` points the trial worker at the fake Hub, as a mirror would; every id is new per run.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PickerState } from '../../src/core/protocol';
import type { BestOfNApi } from '../../src/extension';
import type { RewardChoiceOutcome } from '../../src/vscode/rewardPicker';
import { FakeHub } from '../fixtures/fakeHub';
import { FakeOllama } from '../fixtures/fakeOllama';
import { readManifest } from '../fixtures/manifest';
import { writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { until as waitUntil } from '../fixtures/until';
import { at } from '../fixtures/present';
import { acceptItem, chooseItem } from '../fixtures/quickInput';

const ROOT = path.resolve(__dirname, '../../..');
const manifest = readManifest(path.join(ROOT, 'package.json'));
const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;
const RUN = Date.now().toString(36);
const NO_ONNX = `test-org/no-onnx-${RUN}`;
const GOOD = `test-org/picked-reward-${RUN}`;
const SETTINGS = ['ollama.host', 'model', 'candidates', 'ranker', 'rewardModel'];

let fake: FakeOllama;
let hub: FakeHub;
let api: BestOfNApi;
/** `until`, and on a time-out what the quick pick showed instead. */
const until = <T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> =>
	waitUntil(what, check, timeoutMs, () => `quick pick: ${JSON.stringify(api.quickPick)}`);
let root: string;
let goodFolder: string;
let savedEndpoint: string | undefined;

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);
const select = (args?: unknown) => vscode.commands.executeCommand<RewardChoiceOutcome>('bestOfN.selectRewardModel', args);

describe('Choosing the reward model', function () {
	this.timeout(60_000);

	before(async () => {
		fake = new FakeOllama({ respond: r => (r.id % 2 ? 'good clear code' : 'bad broken code') });
		await fake.start();
		hub = new FakeHub();
		hub.serveTinyModel(NO_ONNX, { withoutOnnx: true });
		hub.serveTinyModel(GOOD);
		await hub.start();
		savedEndpoint = process.env.HF_ENDPOINT;
		process.env.HF_ENDPOINT = hub.url;
		root = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-pick-'));
		goodFolder = writeTinyRewardModel(path.join(root, 'good'));
		const extension = vscode.extensions.getExtension<BestOfNApi>(EXTENSION_ID);
		assert.ok(extension, `${EXTENSION_ID} is not installed`);
		api = await extension.activate();
	});

	beforeEach(async () => {
		await set('ollama.host', fake.url);
		await set('model', 'llama3.1:8b');
		await set('candidates', 2);
		await set('ranker', 'auto');
		await set('rewardModel', goodFolder);
	});

	afterEach(async () => {
		await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
		hub.chunkBytes = 64 * 1024;
		hub.chunkDelayMs = 0;
	});

	after(async () => {
		if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
		else process.env.HF_ENDPOINT = savedEndpoint;
		for (const key of SETTINGS) await set(key, undefined);
		await fake?.close();
		await hub?.close();
		fs.rmSync(root, { recursive: true, force: true });
	});

	it('lists the recommended models with honest notes, a folder, a Hub id and none', async () => {
		const shown = select();
		const pick = await until('the reward picker', () => api.quickPick?.title === 'Best-of-N: Select Reward Model' && api.quickPick);
		const rows = pick.items.filter(i => !i.separator);
		assert.deepEqual(
			rows.map(i => i.label),
			[
				`$(check) ${goodFolder}`,
				'OpenAssistant/reward-model-deberta-v3-large-v2',
				'sileod/deberta-v3-large-tasksource-rlhf-reward-model',
				'OpenAssistant/reward-model-deberta-v3-base',
				'$(folder) Use a local folder…',
				'$(cloud) Enter a Hub id…',
				'$(circle-slash) None: rank by consensus',
			],
		);
		const large = at(rows, 1);
		assert.match(large.description ?? '', /~435 M parameters, MIT/);
		assert.match(large.detail ?? '', /Weak on code and favours longer answers/);
		assert.match(large.detail ?? '', /needs a one-time conversion/);
		assert.equal(pick.active, `$(check) ${goodFolder}`, 'the current choice is active');
		await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
		assert.deepEqual(await shown, { saved: false });
	});

	it('names every missing piece of a folder and keeps the previous choice', async () => {
		const broken = writeTinyRewardModel(path.join(root, 'broken'), { withoutOnnx: true, modelType: 'llama' });
		fs.rmSync(path.join(broken, 'tokenizer.json'));
		const outcome = await select({ model: broken, scope: 'user' });
		assert.equal(outcome.saved, false);
		assert.match(outcome.message ?? '', new RegExp(`^${broken.replace(/[.\\/]/g, '\\$&')} cannot be the reward model: `));
		assert.match(outcome.message ?? '', /model_type "llama", which transformers\.js cannot run as a classifier/);
		assert.match(outcome.message ?? '', /tokenizer\.json is missing/);
		assert.match(outcome.message ?? '', /onnx\/model\.onnx \(the weights for dtype fp32\) is missing/);
		assert.match(outcome.message ?? '', /The previous choice is kept\.$/);
		assert.deepEqual(outcome.actions, ['Choose Folder…']);
		assert.equal(config().get('rewardModel'), goodFolder, 'the previous choice is kept');
	});

	it('offers the exact conversion line for a Hub model without ONNX weights, keeping the previous choice', async () => {
		const outcome = await select({ model: NO_ONNX, scope: 'user' });
		assert.equal(outcome.saved, false);
		const line = `optimum-cli export onnx --model ${NO_ONNX} --task text-classification ~/models/no-onnx-${RUN}`;
		assert.equal(outcome.command, line);
		assert.match(outcome.message ?? '', new RegExp(`^${NO_ONNX.replace(/[.\\/-]/g, '\\$&')} has no ONNX weights for dtype fp32`));
		assert.ok(outcome.message?.endsWith(`Convert it once with: ${line}`), outcome.message);
		assert.deepEqual(outcome.actions, ['Copy Command', 'Run in Terminal', 'Choose Folder…']);
		assert.equal(config().get('rewardModel'), goodFolder, 'the previous choice is kept');
		assert.ok(hub.filesRequested(NO_ONNX).includes('config.json'), 'the Hub was asked');
	});

	it('downloads a chosen Hub model with progress, saves it, and the next run ranks by it', async () => {
		hub.chunkBytes = 256;
		hub.chunkDelayMs = 10;
		const seen: string[] = [];
		const watch = setInterval(() => {
			if (seen.at(-1) !== api.statusBar.text) seen.push(api.statusBar.text);
		}, 5);
		let outcome: RewardChoiceOutcome;
		try {
			outcome = await select({ model: GOOD, scope: 'user' });
		} finally {
			clearInterval(watch);
		}
		assert.deepEqual(outcome, { saved: true, model: GOOD });
		assert.equal(config().inspect('rewardModel')?.globalValue, GOOD);
		assert.ok(
			seen.some(t => /^\$\(loading~spin\) Loading reward model \d+%$/.test(t)),
			`download progress in the status bar: ${seen.join(' | ')}`,
		);
		const doc = await vscode.workspace.openTextDocument({ content: 'some code', language: 'plaintext' });
		const editor = await vscode.window.showTextDocument(doc);
		editor.selection = new vscode.Selection(0, 0, 0, 9);
		hub.reset();
		const state = await vscode.commands.executeCommand<PickerState>('bestOfN.rewriteSelection', { instruction: 'improve' });
		assert.equal(state.ranker.kind, 'reward', state.ranker.reason);
		assert.equal(state.ranker.label, GOOD);
		assert.deepEqual(hub.requests, [], 'the run found the model loaded');
	});

	it('None ranks by consensus, saved where the person says', async () => {
		const shown = select();
		await until('the reward picker', () => api.quickPick?.title === 'Best-of-N: Select Reward Model');
		await chooseItem(api, '$(circle-slash) None: rank by consensus', 12);
		await until('the scope question', () => api.quickPick?.title?.startsWith('Best-of-N: Save'));
		await acceptItem(); // User Settings
		assert.deepEqual(await shown, { saved: true, model: '' });
		assert.equal(config().inspect('ranker')?.globalValue, 'consensus');
		await until('the status bar to say consensus', () => api.statusBar.text === '$(sparkle) llama3.1:8b · consensus');
	});
});

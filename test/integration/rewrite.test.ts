/**
 * The rewrite flow inside a real extension host: the extension as installed, VS Code's own
 * documents, undo stack and configuration; a loopback Ollama-API server and a tiny ONNX reward model
 * (loaded by the real worker through transformers.js) stand in for the user's models.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PickerState } from '../../src/core/protocol';
import { rewardPrompt } from '../../src/core/prompt';
import type { BestOfNApi } from '../../src/extension';
import { FakeOllama } from '../fixtures/fakeOllama';
import { readManifest } from '../fixtures/manifest';
import { tinyRewardLogit, writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { until } from '../fixtures/until';
import { at, cycle, defined } from '../fixtures/present';
import { globalStorageFolder, pickerTabs, readLogFolder } from '../fixtures/extensionHost';
import { EXTERNALIZE_MIN_BYTES } from '../../src/reward/externalData';

const manifest = readManifest(path.resolve(__dirname, '../../../package.json'));
const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;

const REPLIES = ['this code is good and clear', 'this code is broken and wrong', 'the function returns a', 'great correct code'];

let fake: FakeOllama;
let api: BestOfNApi;
let modelDir: string;

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);

async function editorWith(content: string, language = 'plaintext'): Promise<vscode.TextEditor> {
	const doc = await vscode.workspace.openTextDocument({ content, language });
	return vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
}

function rewrite(instruction: string): Thenable<PickerState | undefined> {
	return vscode.commands.executeCommand<PickerState | undefined>('bestOfN.rewriteSelection', { instruction });
}

/**
 * Selects all of a new document holding `text` and starts a rewrite against a slow server (200 ms a
 * token); resolves once `concurrency` requests are open there, with the run still going.
 */
async function slowRunInFlight(text: string, instruction: string, concurrency: number) {
	fake.tokenDelayMs = 200;
	await set('concurrency', concurrency);
	const editor = await editorWith(text);
	editor.selection = new vscode.Selection(0, 0, 0, text.length);
	const done = rewrite(instruction);
	await until(`${concurrency} requests to reach the server`, () => fake.openRequests === concurrency);
	return { editor, done };
}

describe('Best-of-N in a real extension host', function () {
	this.timeout(60_000);

	before(async () => {
		fake = new FakeOllama({ models: ['llama3.1:8b', 'qwen2.5-coder:7b'], respond: r => cycle(REPLIES, r.id - 1) });
		await fake.start();
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-rm-'));
		writeTinyRewardModel(modelDir);
		const extension = vscode.extensions.getExtension<BestOfNApi>(EXTENSION_ID);
		assert.ok(extension, `${EXTENSION_ID} is not installed`);
		api = await extension.activate();
	});

	beforeEach(async () => {
		fake.reset();
		fake.tokenDelayMs = 0;
		fake.respond = r => cycle(REPLIES, r.id - 1);
		await set('ollama.host', fake.url);
		await set('model', 'llama3.1:8b');
		await set('candidates', 4);
		await set('concurrency', 1);
		await set('ranker', 'reward');
		await set('rewardModel', modelDir);
	});

	afterEach(async () => {
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
	});

	after(async () => {
		for (const key of ['ollama.host', 'model', 'candidates', 'concurrency', 'ranker', 'rewardModel', 'rewardIdleMinutes'])
			await set(key, undefined);
		await fake?.close();
		fs.rmSync(modelDir, { recursive: true, force: true });
	});

	it('registers every command and setting package.json declares', async () => {
		const commands = await vscode.commands.getCommands(true);
		for (const { command } of manifest.contributes.commands) {
			assert.ok(commands.includes(command), `${command} is not registered`);
		}
		for (const [key, entry] of Object.entries(manifest.contributes.configuration.properties)) {
			const inspected = vscode.workspace.getConfiguration().inspect(key);
			assert.deepEqual(inspected?.defaultValue, entry.default, `${key} default as VS Code sees it`);
		}
	});

	it('ranks N candidates by the reward model and applies the chosen one as one undo step', async () => {
		const original = 'the function returns a';
		const editor = await editorWith(`before\n${original}\nafter\n`);
		const range = new vscode.Range(1, 0, 1, original.length);
		editor.selection = new vscode.Selection(range.start, range.end);

		const state = await rewrite('make it better');
		assert.ok(state, 'the command returned no state');
		assert.equal(state.phase, 'done', 'phase');
		assert.equal(state.ranker.kind, 'reward', `ranker: ${state.ranker.reason}`);
		assert.equal(fake.requests.length, 4, 'requests at the server');
		// The tab model is updated from the workbench asynchronously, after the panel exists.
		await until('the picker tab to show', () => pickerTabs().length === 1, 5000);

		const prompt = rewardPrompt({ instruction: 'make it better', text: original, languageId: 'plaintext' });
		const expected = [...new Set(REPLIES)].sort(
			(a, b) => tinyRewardLogit({ prompt, response: b }) - tinyRewardLogit({ prompt, response: a }),
		);
		assert.deepEqual(
			state.candidates.map(c => c.text),
			expected,
		);
		state.candidates.forEach((c, i) => {
			assert.equal(c.rank, i + 1);
			assert.ok(Math.abs(c.score! - tinyRewardLogit({ prompt, response: c.text })) < 1e-4, `score of "${c.text}"`);
		});

		const outcome = await vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 1 });
		assert.equal(outcome, 'applied', 'accept outcome');
		assert.equal(editor.document.getText(), `before\n${expected[0]}\nafter\n`, 'the text after accepting');
		await until('the picker to close after applying', () => pickerTabs().length === 0, 3000);

		await vscode.window.showTextDocument(editor.document);
		await vscode.commands.executeCommand('undo');
		assert.equal(editor.document.getText(), `before\n${original}\nafter\n`, 'one undo restores the original');
	});

	it('applies once when accept comes twice in a row', async () => {
		const editor = await editorWith('pick me');
		editor.selection = new vscode.Selection(0, 0, 0, 7);
		const state = await rewrite('improve');
		const [first, second] = await Promise.all([
			vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 1 }),
			vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 2 }),
		]);
		assert.deepEqual([first, second], ['applied', 'unavailable']);
		assert.equal(editor.document.getText(), at(defined(state, 'the picker state').candidates, 0).text);
	});

	it('does not ask for a reward model again after it failed for a lasting reason (auto)', async () => {
		const noOnnx = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-noonnx-'));
		writeTinyRewardModel(noOnnx, { withoutOnnx: true });
		await set('ranker', 'auto');
		await set('rewardModel', noOnnx);
		const editor = await editorWith('some text');
		editor.selection = new vscode.Selection(0, 0, 0, 9);
		const first = await rewrite('improve');
		assert.equal(first?.ranker.kind, 'consensus');
		assert.match(first?.ranker.reason ?? '', /ONNX/);
		const again = async () => {
			const e = await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
			e.selection = new vscode.Selection(0, 0, 0, 9);
			return rewrite('improve');
		};
		const second = await again();
		assert.equal(second?.ranker.kind, 'consensus');
		assert.match(second?.ranker.reason ?? '', /^reward model unavailable, .*ONNX/);
		assert.equal(second?.notice?.action, 'setupReward', 'every such run says so, with the way to fix it');
		assert.match(second?.notice?.text ?? '', /^Ranked by consensus: .*ONNX/);
		await set('ranker', 'reward'); // asked for explicitly: tried again, and the error is shown
		const third = await again();
		assert.equal(third?.ranker.kind, 'none');
		assert.match(third?.notice?.text ?? '', /ONNX/);
		fs.rmSync(noOnnx, { recursive: true, force: true });
	});

	it('keeps the document line endings when applying', async () => {
		fake.respond = () => 'good line one\ngood line two';
		const editor = await editorWith('x\r\nold one\r\nold two\r\ny\r\n');
		assert.equal(editor.document.eol, vscode.EndOfLine.CRLF);
		editor.selection = new vscode.Selection(1, 0, 2, 7);
		await set('candidates', 1);
		await rewrite('rewrite');
		assert.equal(await vscode.commands.executeCommand('bestOfN.acceptCandidate'), 'applied');
		assert.equal(editor.document.getText(), 'x\r\ngood line one\r\ngood line two\r\ny\r\n');
	});

	it('cancel mid-run closes every request at the server and ends the run as cancelled', async () => {
		const { done } = await slowRunInFlight('some text to rewrite', 'shorter', 4);
		await vscode.commands.executeCommand('bestOfN.cancel');
		const state = await done;
		assert.equal(state?.phase, 'cancelled');
		await fake.waitForIdle(2000);
		assert.equal(fake.openRequests, 0);
		assert.ok(state?.candidates.every(c => c.status === 'cancelled'));
	});

	it('closing the picker cancels its run', async () => {
		const { done } = await slowRunInFlight('close me', 'shorter', 2);
		await until('the picker tab to show', () => pickerTabs().length === 1, 5000);
		await vscode.window.tabGroups.close(pickerTabs());
		const state = await done;
		assert.equal(state?.phase, 'cancelled');
		await fake.waitForIdle(2000);
		assert.equal(api.picker, undefined, 'no picker is left');
	});

	it('a new run cancels the one before it', async () => {
		// (tokens stay slow throughout: a faster server could finish the first run before it is cancelled)
		const { editor, done: first } = await slowRunInFlight('first run', 'one', 2);
		await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
		editor.selection = new vscode.Selection(0, 0, 0, 9);
		const second = await rewrite('two');
		assert.equal((await first)?.phase, 'cancelled');
		assert.equal(second?.phase, 'done');
		assert.equal(second?.task.title, 'two');
		await until('one picker, showing the new run', () => pickerTabs().length === 1, 5000);
		await fake.waitForIdle(2000);
	});

	it('unloads the reward worker after the idle time', async () => {
		await set('rewardIdleMinutes', 0.01); // 600 ms
		const editor = await editorWith('good code');
		editor.selection = new vscode.Selection(0, 0, 0, 9);
		await rewrite('improve');
		assert.equal(api.rewardWorkerRunning, true, 'the worker scored the run');
		await until('the idle worker to stop', () => !api.rewardWorkerRunning, 5000);
	});

	it('opens a large reward model from its optimised graph, written once in a child process of the extension host', async () => {
		// As large as a real model (the copy and its optimised graph are made from 64 MB on), with a
		// constant part for onnxruntime to fold.
		const big = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-rm-large-'));
		try {
			writeTinyRewardModel(big, { foldable: true, padBytes: EXTERNALIZE_MIN_BYTES });
			await set('rewardModel', big);
			const original = 'the function returns a';
			const editor = await editorWith(original);
			editor.selection = new vscode.Selection(0, 0, 0, original.length);
			const state = await rewrite('make it better');
			assert.ok(state, 'the command returned no state');
			assert.equal(state.ranker.kind, 'reward', `ranker: ${state.ranker.reason}`);
			const prompt = rewardPrompt({ instruction: 'make it better', text: original, languageId: 'plaintext' });
			for (const c of state.candidates)
				assert.ok(Math.abs(c.score! - tinyRewardLogit({ prompt, response: c.text })) < 1e-4, `score of "${c.text}"`);

			const { found, searched } = globalStorageFolder(path.resolve(__dirname, '../../..'), EXTENSION_ID);
			assert.ok(found, `no global storage under ${searched.join(', ')}`);
			const cache = path.join(found, 'models', '.external-data');
			const graphs = fs.readdirSync(cache).filter(key => fs.existsSync(path.join(cache, key, 'optimized', 'model.onnx')));
			assert.equal(graphs.length, 1, `one optimised graph in ${cache}: ${fs.readdirSync(cache).join(', ')}`);
			assert.doesNotMatch(readLogFolder(api.logFolder), /could not be optimised|optimised graph .* did not load/);
		} finally {
			fs.rmSync(big, { recursive: true, force: true });
		}
	});

	it('takes setting changes on the next run, without a reload', async () => {
		const editor = await editorWith('return a+b');
		editor.selection = new vscode.Selection(0, 0, 0, 10);
		await set('candidates', 2);
		await set('model', 'qwen2.5-coder:7b');
		await set('ranker', 'consensus');
		const state = await rewrite('add spaces');
		assert.equal(state?.requested, 2);
		assert.equal(fake.requests.length, 2);
		assert.ok(fake.requests.every(r => r.model === 'qwen2.5-coder:7b'));
		assert.equal(state?.ranker.kind, 'consensus');
		assert.equal(state?.model, 'qwen2.5-coder:7b');
	});

	it('does not overwrite a selection edited during the run', async () => {
		fake.tokenDelayMs = 50;
		const editor = await editorWith('keep this line\nrewrite me\n');
		editor.selection = new vscode.Selection(1, 0, 1, 10);
		const done = rewrite('improve');
		await until('generation to start', () => fake.openRequests > 0);
		await editor.edit(b => b.insert(new vscode.Position(1, 3), 'USER'));
		const state = await done;
		assert.equal(state?.phase, 'done');
		const outcome = await vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 1 });
		assert.equal(outcome, 'conflict');
		assert.equal(editor.document.getText(), 'keep this line\nrewUSERrite me\n');
	});

	it('fails with the host named when nothing answers there, leaving the document alone', async () => {
		const closed = new FakeOllama();
		const { url } = await closed.start();
		await closed.close();
		await set('ollama.host', url);
		const editor = await editorWith('unchanged text');
		editor.selection = new vscode.Selection(0, 0, 0, 14);
		const state = await rewrite('improve');
		assert.equal(state?.phase, 'failed');
		assert.match(state?.notice?.text ?? '', new RegExp(`Could not reach Ollama at ${url.replace(/[.]/g, '\\.')}.*ollama serve`));
		assert.equal(await vscode.commands.executeCommand('bestOfN.acceptCandidate'), 'unavailable');
		assert.equal(editor.document.getText(), 'unchanged text');
	});

	it('falls back to consensus, and says why, when the reward model cannot load (auto)', async () => {
		await set('ranker', 'auto');
		await set('rewardModel', path.join(modelDir, 'does-not-exist'));
		const editor = await editorWith('some text');
		editor.selection = new vscode.Selection(0, 0, 0, 9);
		const state = await rewrite('improve');
		assert.equal(state?.phase, 'done');
		assert.equal(state?.ranker.kind, 'consensus');
		assert.match(state?.ranker.reason ?? '', /does-not-exist/);
		assert.equal(state?.notice?.severity, 'warning');
		assert.ok(state?.candidates.every(c => c.rank !== undefined));
	});

	it('follows a selection that moved because of an edit above it', async () => {
		fake.tokenDelayMs = 50;
		await set('candidates', 1);
		fake.respond = () => 'good text';
		const editor = await editorWith('top\nrewrite me\n');
		editor.selection = new vscode.Selection(1, 0, 1, 10);
		const done = rewrite('improve');
		await until('generation to start', () => fake.openRequests > 0);
		await editor.edit(b => b.insert(new vscode.Position(0, 0), 'new first line\n'));
		await done;
		assert.equal(await vscode.commands.executeCommand('bestOfN.acceptCandidate'), 'applied');
		assert.equal(editor.document.getText(), 'new first line\ntop\ngood text\n');
	});
});

/**
 * A reward model downloaded from a Hub inside a real extension host: `HF_ENDPOINT` points the
 * extension's reward worker at a loopback stand-in Hub (test/fixtures/fakeHub.ts) serving a tiny ONNX
 * model, as it would point it at a mirror; generation comes from the loopback Ollama-API server.
 *
 * The worker inherits the extension host's environment when its thread starts, and the extension
 * starts a new worker (for a new client) when `bestOfN.rewardModel` changes, so setting the variable
 * in `before` reaches the worker even if an earlier test file had one running: every model id here is
 * new to the extension.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { rewardPrompt } from '../../src/core/prompt';
import type { PickerState } from '../../src/core/protocol';
import type { BestOfNApi } from '../../src/extension';
import { FakeHub } from '../fixtures/fakeHub';
import { FakeOllama } from '../fixtures/fakeOllama';
import { readManifest } from '../fixtures/manifest';
import { tinyRewardLogit } from '../fixtures/tinyRewardModel';
import { until } from '../fixtures/until';
import { cycle } from '../fixtures/present';
import { globalStorageFolder, showActive } from '../fixtures/extensionHost';

const ROOT = path.resolve(__dirname, '../../..');
const manifest = readManifest(path.join(ROOT, 'package.json'));
const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;

const REPLIES = ['this code is good and clear', 'this code is broken and wrong'];
// New ids for every test run: a desktop VS Code profile (unlike code-server's scratch one) outlives the run.
const RUN = Date.now().toString(36);
const MODEL = `test-org/tiny-reward-${RUN}`;
const SLOW_MODEL = `test-org/tiny-reward-slow-${RUN}`;
const MODEL_FILES = ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];
const SETTINGS = ['ollama.host', 'model', 'candidates', 'concurrency', 'ranker', 'rewardModel', 'rewardIdleMinutes'];

let fake: FakeOllama;
let hub: FakeHub;
let api: BestOfNApi;
let savedEndpoint: string | undefined;

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);

/** Starts a rewrite of a fresh one-line document; resolves with the final state. */
async function rewrite(text: string, instruction: string): Promise<PickerState | undefined> {
	const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
	const editor = await showActive(doc);
	editor.selection = new vscode.Selection(0, 0, 0, text.length);
	return vscode.commands.executeCommand<PickerState | undefined>('bestOfN.rewriteSelection', { instruction });
}

/** Every distinct `ranker.loading` the picker showed while `work` ran (the API has no events: polled). */
async function watchLoading<T>(work: Promise<T>): Promise<{ result: T; loading: string[] }> {
	const loading: string[] = [];
	let finished = false;
	const watching = (async () => {
		while (!finished) {
			const seen = api.picker?.ranker.loading;
			if (seen !== undefined && loading.at(-1) !== seen) loading.push(seen);
			await new Promise(r => setTimeout(r, 2));
		}
	})();
	try {
		return { result: await work, loading };
	} finally {
		finished = true;
		await watching;
	}
}

const findGlobalStorage = () => globalStorageFolder(ROOT, EXTENSION_ID);

describe('Reward model download from a Hub (HF_ENDPOINT) in a real extension host', function () {
	this.timeout(60_000);

	before(async () => {
		fake = new FakeOllama({ respond: r => cycle(REPLIES, r.id - 1) });
		await fake.start();
		hub = new FakeHub();
		hub.serveTinyModel(MODEL);
		hub.serveTinyModel(SLOW_MODEL);
		await hub.start();
		savedEndpoint = process.env.HF_ENDPOINT;
		process.env.HF_ENDPOINT = hub.url;

		const extension = vscode.extensions.getExtension<BestOfNApi>(EXTENSION_ID);
		assert.ok(extension, `${EXTENSION_ID} is not installed`);
		api = await extension.activate();
		await set('ollama.host', fake.url);
		await set('model', 'llama3.1:8b');
		await set('candidates', 2);
		await set('concurrency', 1);
		await set('ranker', 'reward');
	});

	afterEach(async () => {
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
		// What the downloads left in the profile (code-server's goes with its scratch folder anyway).
		const { found } = findGlobalStorage();
		for (const id of [MODEL, SLOW_MODEL]) if (found) fs.rmSync(path.join(found, 'models', id), { recursive: true, force: true });
	});

	it('downloads the model with progress in the picker, ranks by it, and keeps it for the next worker', async () => {
		await set('rewardModel', MODEL);
		// The worker unloads 600 ms after the run, so the second run below starts a fresh one.
		await set('rewardIdleMinutes', 0.01);
		// Slow enough to watch: about 20 ms per 128 bytes (the tokenizer is a few KB).
		hub.chunkBytes = 128;
		hub.chunkDelayMs = 20;
		const { result: state, loading } = await watchLoading(rewrite('the function returns a', 'make it better'));

		assert.ok(state, 'the command returned no state');
		assert.equal(state.phase, 'done');
		assert.equal(state.ranker.kind, 'reward', `ranker: ${state.ranker.reason}`);
		assert.match(state.ranker.reason, new RegExp(MODEL));
		assert.deepEqual(hub.filesDownloaded(MODEL).sort(), MODEL_FILES, 'what the worker downloaded from the fake Hub, each file once');
		assert.ok(
			loading.some(l => /downloading (config\.json|tokenizer\.json|tokenizer_config\.json|onnx\/model\.onnx) \d+%/.test(l)),
			`the picker showed no download of a file; it showed ${JSON.stringify(loading)}`,
		);
		// Scored by the downloaded model: the fixture's formula, exactly.
		const prompt = rewardPrompt({ instruction: 'make it better', text: 'the function returns a', languageId: 'plaintext' });
		for (const c of state.candidates)
			assert.ok(Math.abs(c.score! - tinyRewardLogit({ prompt, response: c.text })) < 1e-4, `score of "${c.text}"`);

		const { found, searched } = findGlobalStorage();
		assert.ok(found, `no globalStorage/${EXTENSION_ID.toLowerCase()} under ${searched.join(', ')}`);
		for (const file of MODEL_FILES)
			assert.ok(fs.existsSync(path.join(found, 'models', MODEL, file)), `${file} is cached under ${found}`);

		// A fresh worker reads the model from the cache, not from the Hub.
		await until('the idle worker to stop', () => !api.rewardWorkerRunning, 5000);
		hub.reset();
		const again = await rewrite('good code', 'improve');
		assert.equal(again?.ranker.kind, 'reward', `ranker: ${again?.ranker.reason}`);
		assert.deepEqual(hub.requests, [], 'the second load asked the Hub for nothing');
		await set('rewardIdleMinutes', undefined);
	});

	it('cancelling during the download ends the run, closes the download at the Hub and stops the worker', async () => {
		await set('rewardModel', SLOW_MODEL);
		// config.json alone takes seconds at 8 bytes per 100 ms.
		hub.chunkBytes = 8;
		hub.chunkDelayMs = 100;
		hub.reset();
		const done = rewrite('some text to rewrite', 'shorter');
		await until('a download to be under way at the Hub', () => hub.openResponses > 0);
		assert.deepEqual(hub.filesRequested(SLOW_MODEL), ['config.json']);
		assert.equal(api.rewardWorkerRunning, true);
		await vscode.commands.executeCommand('bestOfN.cancel');

		const state = await done;
		assert.equal(state?.phase, 'cancelled');
		assert.equal(state?.ranker.kind, 'none');
		assert.equal(state?.ranker.reason, 'cancelled before the reward model loaded');
		assert.equal(api.picker?.ranker.reason, 'cancelled before the reward model loaded', 'what the picker shows');
		assert.equal(api.rewardWorkerRunning, false, 'the worker was terminated');
		await hub.waitForIdle(3000);
		assert.equal(hub.openResponses, 0);
		const { found } = findGlobalStorage();
		if (found) assert.ok(!fs.existsSync(path.join(found, 'models', SLOW_MODEL, 'config.json')), 'the cut download was not cached');
	});
});

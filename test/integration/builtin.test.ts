/**
 * The `builtin` backend inside a real extension host: no server at all, a tiny random-weight Qwen2-
 * shaped model in a local folder run by transformers.js in the generator worker. N distinct
 * candidates stream into the picker; cancel stops the run between tokens and leaves the worker warm
 * for the next run; `bestOfN.builtin.idleMinutes` ends the thread that holds the model; the status bar
 * says the built-in model is in use and how fast it went.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PickerState } from '../../src/core/protocol';
import type { BestOfNApi } from '../../src/extension';
import { GENERATOR_THREAD } from '../../src/core/builtinProtocol';
import { writeTinyCausalModel } from '../fixtures/tinyCausalModel';
import { until } from '../fixtures/until';
import { showActive } from '../fixtures/extensionHost';

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);
const SETTINGS = ['backend', 'builtin.model', 'builtin.dtype', 'builtin.idleMinutes', 'candidates', 'ranker', 'maxTokens', 'model'];

/**
 * The extension host's threads that carry the generator worker's name, as the OS lists them (the
 * worker's own and those it started, which inherit the name); undefined
 * where that cannot be seen (Node names a worker's OS thread from 24 on, and /proc is Linux's).
 */
function generatorThreads(): string[] | undefined {
	if (process.platform !== 'linux' || Number(process.versions.node.split('.')[0]) < 24) return undefined;
	const tasks = '/proc/self/task';
	return fs.readdirSync(tasks).filter(tid => {
		try {
			return fs.readFileSync(path.join(tasks, tid, 'comm'), 'utf8').trim() === GENERATOR_THREAD;
		} catch {
			return false; // the thread ended while being listed
		}
	});
}

async function selectAllOf(text: string): Promise<void> {
	const doc = await vscode.workspace.openTextDocument({ content: text, language: 'javascript' });
	const editor = await showActive(doc);
	editor.selection = new vscode.Selection(0, 0, 0, text.length);
}

function rewrite(instruction: string): Thenable<PickerState | undefined> {
	return vscode.commands.executeCommand<PickerState | undefined>('bestOfN.rewriteSelection', { instruction });
}

describe('The built-in backend (no server) in a real extension host', function () {
	this.timeout(240_000);
	let api: BestOfNApi;
	let dir: string;

	before(async () => {
		dir = writeTinyCausalModel(fs.mkdtempSync(path.join(os.tmpdir(), 'bon-builtin-host-')));
		api = (await vscode.extensions.all.find(e => e.id.endsWith('.best-of-n'))?.activate()) as BestOfNApi;
		await set('backend', 'builtin');
		await set('builtin.model', dir);
		await set('builtin.dtype', 'fp32');
		await set('candidates', 4);
		await set('ranker', 'consensus');
		await set('maxTokens', 24);
	});

	afterEach(async () => {
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
	});

	after(async () => {
		for (const key of SETTINGS) await set(key, undefined);
		fs.rmSync(dir, { recursive: true, force: true });
	});

	it('streams four distinct candidates into the picker, and says the built-in model generated them', async () => {
		await selectAllOf('const sum = (a, b) => { return a + b; };');
		const seenStreaming: string[] = [];
		const watch = setInterval(() => {
			for (const c of api.picker?.candidates ?? []) if (c.status === 'streaming' && c.text) seenStreaming.push(c.text);
		}, 5);
		let state: PickerState | undefined;
		try {
			state = await rewrite('make it shorter');
		} finally {
			clearInterval(watch);
		}
		assert.equal(state?.phase, 'done', state?.notice?.text);
		assert.equal(state?.host, 'this machine (built-in model)');
		assert.equal(state?.model, dir);
		const texts = state.candidates.map(c => c.text);
		assert.equal(
			state.candidates.reduce((n, c) => n + c.count, 0),
			4,
			'four candidates generated',
		);
		assert.equal(new Set(texts).size, texts.length);
		assert.ok(texts.length >= 3, `distinct samples (${texts.length})`);
		assert.ok(seenStreaming.length > 0, 'text showed in the picker while it was generated');
		assert.match(api.statusBar.text, /\(built-in · [\d.]+ tok\/s\)/);
		// The picker says so too, with the speed this run was measured at.
		const speed = await until('the picker to show the measured speed', () => api.picker?.builtin?.tokensPerSecond, 20_000);
		assert.ok(speed > 0);
		assert.ok(api.statusBar.text.includes(`${speed.toFixed(1)} tok/s`), `${api.statusBar.text} vs ${speed}`);
		assert.match(api.statusBar.tooltip, /the built-in model .* on this machine, [\d.]+ tokens\/s/);
		assert.equal(api.builtinWorkerRunning, true, 'the model stays loaded for the next run');
	});

	it('cancel stops the run between tokens; the next run reuses the loaded model', async () => {
		await set('maxTokens', 4000);
		try {
			await selectAllOf('let x = 1;');
			const run = rewrite('rename x');
			await until(
				'a candidate streaming',
				() => (api.picker?.candidates ?? []).some(c => c.status === 'streaming' && c.text.length > 2),
				60_000,
			);
			await vscode.commands.executeCommand('bestOfN.cancel');
			const cancelled = await run;
			assert.equal(cancelled?.phase, 'cancelled');
			assert.ok(cancelled.candidates.every(c => c.status === 'cancelled'));
		} finally {
			await set('maxTokens', 24);
		}
		assert.equal(api.builtinWorkerRunning, true, 'the worker was freed, not killed');
		await selectAllOf('let y = 2;');
		const next = await rewrite('rename y');
		assert.equal(next?.phase, 'done', next?.notice?.text);
	});

	it('ends the thread holding the model after bestOfN.builtin.idleMinutes, set while it is loaded; the next run loads it again', async () => {
		await selectAllOf('let z = 3;');
		const first = await rewrite('rename z');
		assert.equal(first?.phase, 'done', first?.notice?.text);
		assert.equal(api.builtinWorkerRunning, true, 'loaded, and kept (the default is 10 minutes)');
		const loaded = generatorThreads();
		// The worker's thread and the onnxruntime threads it started (a new thread inherits its creator's name).
		if (loaded) assert.ok(loaded.length >= 1, `threads named ${GENERATOR_THREAD} hold the model`);
		try {
			// Set after the run: the loaded model gets the new time at once, with no run or reload between.
			await set('builtin.idleMinutes', 0.02); // 1.2 s
			// False only once the worker's thread has exited: its isolate and onnxruntime session are gone.
			await until('the worker thread to exit', () => !api.builtinWorkerRunning, 30_000);
			// onnxruntime starts one process-wide thread on its first use, which keeps the name of the thread
			// that started it and outlives it (one in all, however many loads); the worker's own thread ended.
			const after = generatorThreads();
			if (loaded && after) {
				assert.ok(after.length < loaded.length, `the worker's thread ended: ${loaded.join(',')} → ${after.join(',')}`);
				assert.ok(
					after.every(t => loaded.includes(t)),
					'no thread started since',
				);
			}
		} finally {
			await set('builtin.idleMinutes', undefined);
		}
		await selectAllOf('let w = 4;');
		const next = await rewrite('rename w');
		assert.equal(next?.phase, 'done', next?.notice?.text);
		assert.equal(
			next.candidates.reduce((n, c) => n + c.count, 0),
			4,
			'four candidates from the model loaded again',
		);
		assert.equal(api.builtinWorkerRunning, true, 'a fresh thread holds the model again');
		const reloaded = generatorThreads();
		if (loaded && reloaded) assert.equal(reloaded.length, loaded.length, 'a new worker thread, and nothing piled up from the last');
	});

	it("Use the Built-in Model (the walkthrough's first step): a model on this machine needs no download; it becomes the backend", async () => {
		await set('backend', 'ollama');
		await set('ollama.host', 'http://127.0.0.1:9'); // nothing answers there
		try {
			await until('the server step to be open', () => api.walkthrough.serverReachable === false, 20_000);
			assert.equal(await vscode.commands.executeCommand('bestOfN.useBuiltinModel'), true);
			assert.equal(config().get('backend'), 'builtin');
			await until('both first steps to complete', () => api.walkthrough.serverReachable && api.walkthrough.modelInstalled, 20_000);
			assert.match(api.statusBar.text, /\(built-in/);
			assert.ok(!api.statusBar.tooltip.includes('127.0.0.1:9'), 'the Ollama host is not named');
		} finally {
			await set('ollama.host', undefined);
		}
	});

	it('the model picker lists the built-in model and saves a choice to bestOfN.builtin.model', async () => {
		const chosen = await vscode.commands.executeCommand<string | undefined>('bestOfN.selectModel', { model: dir, scope: 'user' });
		assert.equal(chosen, dir);
		assert.equal(config().get('builtin.model'), dir);
		assert.equal(config().inspect('model')?.globalValue, undefined, "bestOfN.model (a server's model) is untouched");
	});
});

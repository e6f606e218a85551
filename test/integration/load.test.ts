/**
 * Load in a real extension host: on each backend (a loopback Ollama, a loopback OpenAI-compatible
 * server, and the built-in generator's tiny model in its worker thread), twenty rewrites back to
 * back and five started on top of each other, ranked by the tiny reward model in its worker thread.
 * Afterwards nothing may be left behind: no request open at the server, no picker, no worker thread,
 * no disposable the extension still holds, and the extension host's heap back within HEAP_BOUND_MB
 * of where it started. The built-in case takes about a minute and a half on a busy 2-core machine.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as vscode from 'vscode';
import type { PickerState } from '../../src/core/protocol';
import type { BestOfNApi } from '../../src/extension';
import { FakeOllama } from '../fixtures/fakeOllama';
import { FakeVllm } from '../fixtures/fakeVllm';
import { defined } from '../fixtures/present';
import { applyAnyway } from '../fixtures/quickInput';
import { writeTinyCausalModel } from '../fixtures/tinyCausalModel';
import { writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { until } from '../fixtures/until';
import { showActive } from '../fixtures/extensionHost';

/** How far the extension host's heap (after a full collection) may end above where it started. */
const HEAP_BOUND_MB = 16;
const BACK_TO_BACK = 20;
const OVERLAPPING = 5;
const MODEL = 'Qwen/Qwen2.5-7B-Instruct';

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);
const KEYS = [
	'backend',
	'ollama.host',
	'openai.baseUrl',
	'model',
	'candidates',
	'concurrency',
	'ranker',
	'rewardModel',
	'rewardIdleMinutes',
	'builtin.model',
	'builtin.dtype',
	'builtin.idleMinutes',
	'maxTokens',
];

// A full collection on demand, so heap figures are what is still referenced rather than garbage.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapMb(): number {
	gc();
	gc();
	return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Threads of the extension host process (a worker thread is one more, with the threads it starts). */
function threads(): number {
	return fs.readdirSync('/proc/self/task').length;
}

/** Best-of-N's webview tabs (pickers, reports) open now. */
function webviewTabs(): vscode.Tab[] {
	return vscode.window.tabGroups.all
		.flatMap(g => g.tabs)
		.filter(t => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes('bestOfN.'));
}

function rewrite(n: number): Thenable<PickerState | undefined> {
	return vscode.commands.executeCommand<PickerState | undefined>('bestOfN.rewriteSelection', { instruction: `variant ${n}` });
}

interface Snapshot {
	heapMb: number;
	threads: number;
	owners: number;
	held: number;
}

describe('Load: runs back to back and overlapping leave nothing behind', function () {
	this.timeout(600_000);
	let api: BestOfNApi;
	let modelDir: string;
	let builtinDir: string;
	let ollama: FakeOllama;
	let vllm: FakeVllm;
	const figures: string[] = [];

	before(async () => {
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-rm-'));
		writeTinyRewardModel(modelDir);
		builtinDir = writeTinyCausalModel(fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-gen-')));
		ollama = new FakeOllama({ models: ['llama3.1:8b'], respond: r => `candidate ${r.id} ${'text '.repeat(r.id % 7)}` });
		vllm = new FakeVllm({ models: [MODEL], respond: (q, i) => `candidate ${q.id}.${i} ${'text '.repeat(i % 5)}` });
		await ollama.start();
		await vllm.start();
		api = (await vscode.extensions.all.find(e => e.id.endsWith('.best-of-n'))?.activate()) as BestOfNApi;
		await set('ollama.host', ollama.url);
		await set('openai.baseUrl', vllm.baseUrl);
		await set('candidates', 4);
		await set('concurrency', 2);
		await set('ranker', 'reward');
		await set('rewardModel', modelDir);
		await set('rewardIdleMinutes', 0.02); // the worker goes 1.2 s after the last run: a worker still there is a leak
		// The same for the built-in generator's worker, including one an earlier suite left loaded.
		await set('builtin.idleMinutes', 0.02);
	});

	after(async () => {
		for (const key of KEYS) await set(key, undefined);
		await ollama?.close();
		await vllm?.close();
		fs.rmSync(modelDir, { recursive: true, force: true });
		fs.rmSync(builtinDir, { recursive: true, force: true });
		console.log(`      figures:\n${figures.map(f => `        ${f}`).join('\n')}`);
	});

	/** Everything a finished set of runs must have let go of; waits for the idle worker to stop first. */
	async function settled(): Promise<Snapshot> {
		const deadline = Date.now() + 20_000;
		while (webviewTabs().length > 0 || api.picker !== undefined) {
			if (Date.now() > deadline)
				throw new Error(`the pickers did not close: ${webviewTabs().length} tabs, picker in phase ${api.picker?.phase ?? 'none'}`);
			await vscode.window.tabGroups.close(webviewTabs()).then(undefined, () => false);
			await new Promise(r => setTimeout(r, 200));
		}
		await until('the reward worker to stop when idle', () => !api.rewardWorkerRunning, 20_000);
		await until('the built-in generator worker to stop when idle', () => !api.builtinWorkerRunning, 20_000);
		await ollama.waitForIdle(5000);
		await until('no request open at the OpenAI-compatible server', () => vllm.openRequests === 0, 5000);
		// Worker threads end a moment after the worker reports it stopped.
		await new Promise(r => setTimeout(r, 500));
		return { heapMb: heapMb(), threads: threads(), ...api.liveDisposables };
	}

	/** Accepts rank 1 as a person does: a candidate cut at the token limit is applied once they say Apply Anyway. */
	async function acceptBest(state: PickerState): Promise<unknown> {
		const best = defined(
			state.candidates.find(c => c.rank === 1),
			'rank 1',
		);
		const accepted = vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 1 });
		if (best.doneReason === 'length') await applyAnyway(api);
		return accepted;
	}

	/** Runs the load on the backend set now; resolves with the hosts the back-to-back runs said they used. */
	async function load(backend: string): Promise<Set<string>> {
		const doc = await vscode.workspace.openTextDocument({ content: 'function add(a, b) { return a + b }\n', language: 'javascript' });
		const select = async () => {
			const editor = await showActive(doc);
			editor.selection = new vscode.Selection(0, 0, 0, doc.lineAt(0).text.length);
		};
		// A first run loads what stays loaded for the window's life (modules, the tokenizer cache, and
		// the one process-wide thread onnxruntime starts on its first use and keeps, whichever worker
		// loaded it): the counts after it are the baseline.
		await select();
		assert.equal((await rewrite(0))?.phase, 'done');
		const start = await settled();

		const hosts = new Set<string>();
		for (let i = 1; i <= BACK_TO_BACK; i++) {
			await select();
			const state = await rewrite(i);
			assert.equal(state?.phase, 'done', `run ${i}: ${state?.notice?.text ?? ''}`);
			assert.equal(
				state.candidates.reduce((n, c) => n + c.count, 0),
				4,
				'four candidates (equal ones shown as one)',
			);
			hosts.add(state.host);
			// Every other run is accepted (one edit, undone); the others are left for the next run to replace.
			if (i % 2 === 0) {
				assert.equal(await acceptBest(state), 'applied');
				await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
				await vscode.commands.executeCommand('undo');
			}
		}
		assert.equal(doc.getText(), 'function add(a, b) { return a + b }\n', 'every applied edit was undone: the text is whole');

		// Slow servers, so each run is still going when the next starts (the built-in model takes its time anyway).
		ollama.tokenDelayMs = 5;
		vllm.tokenDelayMs = 5;
		await select();
		const overlapping = await Promise.all(Array.from({ length: OVERLAPPING }, (_, i) => rewrite(100 + i)));
		ollama.tokenDelayMs = 0;
		vllm.tokenDelayMs = 0;
		const phases = overlapping.map(s => s?.phase);
		assert.equal(phases.filter(p => p === 'done').length, 1, `one run finishes, the rest are replaced: ${phases.join(', ')}`);
		assert.equal(phases.filter(p => p === 'cancelled').length, OVERLAPPING - 1);

		const end = await settled();
		figures.push(
			`${backend}: heap ${start.heapMb.toFixed(1)} → ${end.heapMb.toFixed(1)} MB, threads ${start.threads} → ${end.threads}, ` +
				`disposables ${start.owners}/${start.held} → ${end.owners}/${end.held} (owners/held)`,
		);
		assert.equal(end.owners, start.owners, 'no owner of disposables left behind');
		assert.equal(end.held, start.held, 'no listener or disposable left behind');
		assert.ok(end.threads <= start.threads, `no thread left behind: ${start.threads} → ${end.threads}`);
		assert.ok(end.heapMb - start.heapMb < HEAP_BOUND_MB, `heap ${start.heapMb.toFixed(1)} → ${end.heapMb.toFixed(1)} MB`);
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
		return hosts;
	}

	it('on the ollama backend', async () => {
		await set('backend', 'ollama');
		await set('model', 'llama3.1:8b');
		await load('ollama');
		assert.ok(ollama.requests.length >= 4 * (BACK_TO_BACK + 1), 'the runs reached the server');
	});

	it('on the openai backend', async () => {
		await set('backend', 'openai');
		await set('model', MODEL);
		await load('openai');
		assert.ok(vllm.requests.length >= BACK_TO_BACK + 1, 'the runs reached the server');
	});

	it('on the builtin backend', async () => {
		await set('backend', 'builtin');
		await set('builtin.model', builtinDir);
		await set('builtin.dtype', 'fp32');
		await set('maxTokens', 16); // the random-weight model writes to the limit: every candidate is cut
		const hosts = await load('builtin');
		assert.deepEqual(hosts, new Set(['this machine (built-in model)']), 'the built-in model generated every run');
	});
});

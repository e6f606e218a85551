/**
 * Workspace trust in a real window. `runTest.js --untrusted` turns workspace trust on and opens a
 * folder nobody trusted, whose .vscode/settings.json points every restricted setting (package.json's
 * `capabilities.untrustedWorkspaces.restrictedConfigurations`) at a loopback port where only a
 * tripwire listens. Runs must go where the user's own settings say, and the tripwire must hear nothing.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PickerState } from '../../../src/core/protocol';
import { FakeOllama } from '../../fixtures/fakeOllama';
import { FakeVllm } from '../../fixtures/fakeVllm';
import { readManifest } from '../../fixtures/manifest';
import { at, cycle } from '../../fixtures/present';

const manifest = readManifest(path.resolve(__dirname, '../../../package.json'));
const RM = 'Skywork/Skywork-Reward-V2-Qwen3-0.6B';
const MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const REPLIES = ['one rewrite', 'another rewrite, longer'];

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);
const USER_KEYS = ['backend', 'ollama.host', 'openai.baseUrl', 'model', 'candidates', 'concurrency', 'ranker', 'rewardModel'];

/** The folder's own settings, as its author wrote them. */
function planted(): Record<string, unknown> {
	const folder = vscode.workspace.workspaceFolders?.[0];
	assert.ok(folder, 'a folder is open');
	return JSON.parse(fs.readFileSync(path.join(folder.uri.fsPath, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
}

/** Listens where the workspace's settings point; answers nothing useful and remembers every request. */
class Tripwire {
	readonly requests: string[] = [];
	private readonly server = http.createServer((req, res) => {
		this.requests.push(`${req.method} ${req.url}`);
		res.writeHead(500).end();
	});
	listen(port: number): Promise<void> {
		return new Promise((resolve, reject) => this.server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
	}
	get port(): number {
		return (this.server.address() as AddressInfo).port;
	}
	close(): Promise<void> {
		this.server.closeAllConnections();
		return new Promise(resolve => this.server.close(() => resolve()));
	}
}

async function rewriteAllOf(text: string): Promise<PickerState | undefined> {
	const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
	const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
	editor.selection = new vscode.Selection(0, 0, 0, text.length);
	return vscode.commands.executeCommand<PickerState | undefined>('bestOfN.rewriteSelection', { instruction: 'make it better' });
}

describe('An untrusted workspace, in a real window with workspace trust on', function () {
	this.timeout(120_000);
	const tripwire = new Tripwire();
	let ollama: FakeOllama;
	let vllm: FakeVllm;
	let rm: FakeVllm;

	before(async () => {
		const host = planted()['bestOfN.ollama.host'];
		assert.equal(typeof host, 'string');
		await tripwire.listen(Number(new URL(host as string).port));
		ollama = new FakeOllama({ models: ['llama3.1:8b'], respond: r => cycle(REPLIES, r.id - 1) });
		vllm = new FakeVllm({ models: [MODEL], respond: (_q, i) => cycle(REPLIES, i) });
		rm = new FakeVllm({ models: [RM], reward: m => at(m, -1).content.length });
		await ollama.start();
		await vllm.start();
		await rm.start();
		await vscode.extensions.all.find(e => e.id.endsWith('.best-of-n'))?.activate();
		await set('ollama.host', ollama.url);
		await set('openai.baseUrl', vllm.baseUrl);
		await set('model', 'llama3.1:8b');
		await set('candidates', 2); // the folder's 3 wins: it is not a restricted setting
		await set('concurrency', 1);
		await set('ranker', 'reward');
		await set('rewardModel', rm.url);
	});

	afterEach(async () => {
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
	});

	after(async () => {
		for (const key of USER_KEYS) await set(key, undefined);
		await ollama?.close();
		await vllm?.close();
		await rm?.close();
		await tripwire.close();
	});

	it('is untrusted; the folder’s settings are read, but not its values of the restricted settings', () => {
		assert.equal(vscode.workspace.isTrusted, false, 'the folder is untrusted');
		const values = planted();
		// An unrestricted setting from the folder applies: VS Code did read the file.
		assert.equal(config().inspect('candidates')?.workspaceValue, values['bestOfN.candidates']);
		assert.equal(config().get('candidates'), values['bestOfN.candidates']);
		for (const full of manifest.capabilities.untrustedWorkspaces.restrictedConfigurations) {
			assert.ok(full in values, `the folder plants ${full}`);
			const key = full.slice('bestOfN.'.length);
			assert.equal(config().inspect(key)?.workspaceValue, undefined, `VS Code sets the folder's ${full} aside`);
			assert.notDeepEqual(config().get(key), values[full], `${full} from the folder is not in effect`);
		}
	});

	it("a rewrite reaches the user's Ollama host and reward server, not the folder's backend, host or reward model", async () => {
		const state = await rewriteAllOf('the function returns a');
		assert.ok(state);
		assert.equal(state.phase, 'done', state.notice?.text);
		assert.equal(state.host, ollama.url, 'the picker names the user’s host');
		assert.equal(ollama.requests.length, 3, 'every candidate (as many as the folder asks) came from the user’s Ollama');
		assert.equal(vllm.requests.length, 0, 'the folder’s backend (openai) was not used');
		assert.equal(state.ranker.kind, 'reward', state.ranker.reason);
		assert.equal(state.ranker.label, RM, 'ranked by the user’s reward server');
		assert.ok(rm.poolingRequests.length > 0);
		assert.deepEqual(tripwire.requests, [], 'nothing reached the folder’s server');
	});

	it("with the openai backend chosen by the user, a rewrite reaches the user's base URL, not the folder's", async () => {
		await set('backend', 'openai');
		await set('model', MODEL);
		vllm.requests.length = 0;
		const state = await rewriteAllOf('the function returns a');
		assert.ok(state);
		assert.equal(state.phase, 'done', state.notice?.text);
		assert.equal(vllm.requests.length, 1, 'one request with n from the user’s server');
		assert.deepEqual(tripwire.requests, [], 'nothing reached the folder’s server');
	});
});

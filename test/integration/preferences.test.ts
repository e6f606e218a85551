/**
 * The preference log inside a real extension host: accepting a candidate records it, with the others
 * as the ones passed over; recording off, untitled documents and excluded files leave nothing; the
 * clear command asks first, then deletes.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseLog, type PreferenceRecord } from '../../src/core/preferences';
import type { PickerState } from '../../src/core/protocol';
import { toTrlRows } from '../../src/core/trl';
import type { BestOfNApi } from '../../src/extension';
import { FakeOllama } from '../fixtures/fakeOllama';
import { writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { until } from '../fixtures/until';
import { at, cycle } from '../fixtures/present';

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;
const REPLIES = ['this code is good and clear', 'this code is broken and wrong', 'the function returns a', 'great correct code'];

let fake: FakeOllama;
let api: BestOfNApi;
let modelDir: string;
let filesDir: string;

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);

function logged(): PreferenceRecord[] {
	return fs.existsSync(api.preferenceLog) ? parseLog(fs.readFileSync(api.preferenceLog, 'utf8')).records : [];
}

/** Rewrites all of a document and accepts the candidate at `rank`; returns the run's final state. */
async function rewriteAndAccept(doc: vscode.TextDocument, rank: number): Promise<PickerState> {
	const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
	editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(doc.getText().length));
	const state = await vscode.commands.executeCommand<PickerState | undefined>('bestOfN.rewriteSelection', {
		instruction: 'make it better',
	});
	assert.ok(state && state.phase === 'done', `run ended as ${state?.phase}`);
	assert.equal(await vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank }), 'applied');
	// The edited document would ask to be saved when the editors close; the log has what it needs.
	await vscode.window.showTextDocument(doc);
	await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
	return state;
}

async function fileDoc(name: string, content = `the function returns a (${name})\n`): Promise<vscode.TextDocument> {
	const file = path.join(filesDir, name);
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.writeFileSync(file, content);
	return vscode.workspace.openTextDocument(file);
}

describe('preference log', function () {
	this.timeout(60_000);

	before(async () => {
		fake = new FakeOllama({ models: ['llama3.1:8b'], respond: r => cycle(REPLIES, r.id - 1) });
		await fake.start();
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-rm-'));
		writeTinyRewardModel(modelDir);
		filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-prefs-'));
		const extension = vscode.extensions.getExtension<BestOfNApi>(EXTENSION_ID);
		assert.ok(extension, `${EXTENSION_ID} is not installed`);
		api = await extension.activate();
		await set('ollama.host', fake.url);
		await set('model', 'llama3.1:8b');
		await set('rewardModel', modelDir);
	});

	beforeEach(async () => {
		fake.reset();
		await set('candidates', 4);
		await set('ranker', 'reward');
		fs.rmSync(api.preferenceLog, { force: true });
		await set('preferences.record', undefined);
		await set('preferences.exclude', undefined);
	});

	afterEach(async () => {
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
	});

	after(async () => {
		for (const key of ['ollama.host', 'model', 'candidates', 'ranker', 'rewardModel', 'preferences.record', 'preferences.exclude'])
			await set(key, undefined);
		await fake?.close();
		fs.rmSync(modelDir, { recursive: true, force: true });
		fs.rmSync(filesDir, { recursive: true, force: true });
	});

	it('records a non-top pick as chosen and the other candidates as rejected', async () => {
		const state = await rewriteAndAccept(await fileDoc('pick.txt'), 3);
		await until('the pick to be recorded', () => logged().length === 1);
		const record = at(logged(), 0);
		const third = at(state.candidates, 2);
		assert.equal(record.chosen, third.id);
		assert.equal(record.candidates.find(c => c.id === record.chosen)?.rank, 3);
		assert.equal(record.task, 'rewrite');
		assert.equal(record.instruction, 'make it better');
		assert.equal(record.ranker.kind, 'reward');
		assert.equal(record.rewardModel, path.basename(modelDir));
		assert.equal(record.model, 'llama3.1:8b');
		assert.equal(record.host, fake.url);
		// Exactly the messages the server received.
		assert.deepEqual(record.messages, at(fake.requests, 0).body.messages);
		assert.deepEqual(
			record.candidates.map(c => [c.text, c.rank]),
			state.candidates.map(c => [c.text, c.rank]),
		);
		assert.ok(record.candidates.every(c => typeof c.seed === 'number' && typeof c.score === 'number'));

		const rows = toTrlRows([record]);
		assert.equal(rows.length, 3);
		assert.ok(rows.every(r => r.chosen === third.text));
		assert.deepEqual(
			rows.map(r => r.rejected).sort(),
			state.candidates
				.filter(c => c.id !== third.id)
				.map(c => c.text)
				.sort(),
		);
	});

	it('records nothing with recording off, from untitled documents or from excluded files', async function () {
		this.timeout(240_000); // four runs; consensus and two candidates keep each short
		await set('ranker', 'consensus');
		await set('candidates', 2);
		await set('preferences.record', false);
		await rewriteAndAccept(await fileDoc('off.txt'), 1);
		await set('preferences.record', undefined);
		const untitled = await vscode.workspace.openTextDocument({ content: 'the function returns a', language: 'plaintext' });
		await rewriteAndAccept(untitled, 1);
		// Files outside the workspace folder, so patterns match them by name or anywhere in their path.
		await set('preferences.exclude', ['**/private/**', '*.secret']);
		await rewriteAndAccept(await fileDoc('private/notes.txt'), 1);
		// Records are appended in the order of the accepts: once this one is there, none came before it.
		await rewriteAndAccept(await fileDoc('kept.txt'), 2);
		await until('the last pick to be recorded', () => logged().length > 0);
		assert.deepEqual(
			logged().map(r => r.prompt),
			['make it better\n\nthe function returns a (kept.txt)\n'],
		);
		assert.equal(at(logged(), 0).candidates.find(c => c.id === at(logged(), 0).chosen)?.rank, 2);
	});

	it("shows the current ranker's agreement with the recorded picks in the picker, from the tenth pick on", async () => {
		// Nine earlier picks by this reward model, the first six at its #1.
		const label = path.basename(modelDir);
		const earlier = Array.from({ length: 9 }, (_, i) =>
			JSON.stringify({
				v: 1,
				time: new Date(Date.UTC(2026, 1, 1 + i)).toISOString(),
				task: 'rewrite',
				instruction: 'make it better',
				messages: [{ role: 'user', content: 'x' }],
				prompt: 'make it better\n\nx',
				languageId: 'plaintext',
				model: 'llama3.1:8b',
				backend: 'ollama',
				host: fake.url,
				ranker: { kind: 'reward', label },
				rewardModel: label,
				candidates: [
					{ id: 0, text: 'a', score: 1, rank: 1, count: 1 },
					{ id: 1, text: 'b', score: 0, rank: 2, count: 1 },
				],
				chosen: i < 6 ? 0 : 1,
			}),
		);
		fs.mkdirSync(path.dirname(api.preferenceLog), { recursive: true });
		fs.writeFileSync(api.preferenceLog, `${earlier.join('\n')}\n`);
		// The tenth pick, at #1: from now on the header has enough picks to say something.
		await rewriteAndAccept(await fileDoc('tenth.txt'), 1);
		await until('the tenth pick to be recorded', () => logged().length === 10);
		const doc = await fileDoc('eleventh.txt');
		const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
		editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(doc.getText().length));
		await vscode.commands.executeCommand('bestOfN.rewriteSelection', { instruction: 'make it better' });
		assert.deepEqual(api.picker?.agreement && { agreed: api.picker.agreement.agreed, runs: api.picker.agreement.runs }, {
			agreed: 7,
			runs: 10,
		});
	});

	it('clears the log after a modal confirmation, and keeps it when the person backs out', async () => {
		await set('ranker', 'consensus');
		await rewriteAndAccept(await fileDoc('clear.txt'), 1);
		await until('the pick to be recorded', () => logged().length === 1);
		const asked: { message: string; modal?: boolean; buttons: string[] }[] = [];
		const original = vscode.window.showWarningMessage;
		let answer: string | undefined;
		// The modal dialog stands in for the person: what it was asked is recorded, the answer scripted.
		(vscode.window as { showWarningMessage: unknown }).showWarningMessage = async (
			message: string,
			options: vscode.MessageOptions,
			...buttons: string[]
		) => {
			asked.push({ message, modal: options.modal, buttons });
			return answer;
		};
		try {
			answer = undefined;
			assert.equal(await vscode.commands.executeCommand('bestOfN.clearPreferences'), false);
			assert.equal(logged().length, 1, 'backing out keeps the log');
			answer = 'Clear Log';
			assert.equal(await vscode.commands.executeCommand('bestOfN.clearPreferences'), true);
		} finally {
			(vscode.window as { showWarningMessage: unknown }).showWarningMessage = original;
		}
		assert.equal(fs.existsSync(api.preferenceLog), false);
		assert.deepEqual(asked[0], { message: 'Delete all 1 recorded picks?', modal: true, buttons: ['Clear Log'] });
	});
});

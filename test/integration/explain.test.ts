/**
 * Explain Selection inside a real extension host: the run as the picker shows it, the chosen
 * explanation as a comment thread that keeps to its lines, and its actions (Insert as Comment, Show
 * Other Candidates, Dismiss) on VS Code's own documents, undo stack and language configurations.
 * A loopback Ollama-API server and the tiny ONNX reward model stand in for the user's models.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { topOneAgreement } from '../../src/core/agreement';
import { parseLog } from '../../src/core/preferences';
import type { PickerState } from '../../src/core/protocol';
import { explainRewardPrompt } from '../../src/core/tasks/explain';
import { toTrlRows } from '../../src/core/trl';
import type { BestOfNApi } from '../../src/extension';
import { FakeOllama } from '../fixtures/fakeOllama';
import { tinyRewardLogit, writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { at, cycle } from '../fixtures/present';
import { until } from '../fixtures/until';
import { showActive } from '../fixtures/extensionHost';

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;

// Markdown explanations, long enough to be wrapped when inserted as a comment.
const EXPLANATIONS = [
	'Adds up the **price** of every item with `reduce`, starting from 0, so an empty list gives 0 and a missing price gives NaN.',
	'This code is good: it sums prices.',
	'Returns the total. It is broken and wrong for strings.',
	'A great, correct and clear one-liner summing `price` over `items`.',
];

let fake: FakeOllama;
let api: BestOfNApi;
let modelDir: string;
let scratch: string;

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);

/** A file on disk (so it has a name and the language of its extension), shown in the first column. */
async function fileEditor(name: string, content: string): Promise<vscode.TextEditor> {
	const file = path.join(scratch, name);
	fs.writeFileSync(file, content);
	const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
	return showActive(doc);
}

async function untitledEditor(content: string, language: string): Promise<vscode.TextEditor> {
	const doc = await vscode.workspace.openTextDocument({ content, language });
	return showActive(doc);
}

/** Selects whole lines `from`–`to` (0-based) and runs Explain Selection; resolves with the run's end state. */
async function explainLines(editor: vscode.TextEditor, from: number, to = from): Promise<PickerState> {
	// Shown again: a document another one replaced in the column has a new editor.
	const shown = await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
	shown.selection = new vscode.Selection(from, 0, to, editor.document.lineAt(to).text.length);
	const state = await vscode.commands.executeCommand<PickerState | undefined>('bestOfN.explainSelection');
	assert.ok(state, 'the command returned no state');
	assert.equal(state.phase, 'done', `phase (${state.notice?.text ?? ''})`);
	return state;
}

function explanationsIn(doc: vscode.TextDocument) {
	return api.explanations.filter(e => e.uri === doc.uri.toString()).sort((a, b) => a.startLine - b.startLine);
}

/** Puts the cursor on `line` of the editor, which is how the actions find their explanation from the palette. */
async function cursorOn(editor: vscode.TextEditor, line: number): Promise<void> {
	const shown = await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
	shown.selection = new vscode.Selection(line, 0, line, 0);
}

/** Edits a document whether or not an editor shows it, as one workspace edit. */
async function edit(make: (e: vscode.WorkspaceEdit) => void): Promise<void> {
	const e = new vscode.WorkspaceEdit();
	make(e);
	assert.ok(await vscode.workspace.applyEdit(e), 'the edit applied');
}

describe('Explain Selection in a real extension host', function () {
	this.timeout(60_000);

	before(async () => {
		fake = new FakeOllama({ models: ['llama3.1:8b'], respond: r => cycle(EXPLANATIONS, r.id - 1) });
		await fake.start();
		modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-rm-'));
		writeTinyRewardModel(modelDir);
		scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-explain-'));
		const extension = vscode.extensions.getExtension<BestOfNApi>(EXTENSION_ID);
		assert.ok(extension, `${EXTENSION_ID} is not installed`);
		api = await extension.activate();
	});

	beforeEach(async () => {
		fake.reset();
		fake.tokenDelayMs = 0;
		fake.respond = r => cycle(EXPLANATIONS, r.id - 1);
		await set('ollama.host', fake.url);
		await set('model', 'llama3.1:8b');
		await set('candidates', 4);
		await set('concurrency', 1);
		await set('ranker', 'reward');
		await set('rewardModel', modelDir);
	});

	afterEach(async () => {
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
		// With no editor open, Dismiss takes the newest explanation.
		for (let left = api.explanations.length; left > 0; left--) await vscode.commands.executeCommand('bestOfN.explanation.dismiss');
		assert.deepEqual(api.explanations, [], 'every explanation dismissed');
	});

	after(async () => {
		for (const key of ['ollama.host', 'model', 'candidates', 'concurrency', 'ranker', 'rewardModel']) await set(key, undefined);
		await fake?.close();
		fs.rmSync(modelDir, { recursive: true, force: true });
		fs.rmSync(scratch, { recursive: true, force: true });
	});

	it('ranks explanations by the reward model, shows the chosen one inline, inserts it as a comment in one undo step, and dismisses it', async () => {
		const content = 'export function total(items) {\n  return items.reduce((s, i) => s + i.price, 0);\n}\n';
		const editor = await fileEditor('cart.ts', content);
		const state = await explainLines(editor, 1);

		// What the model was asked: the file, its language, the lines around the selection, the selection.
		const prompt = at(fake.requests, 0).prompt;
		assert.match(prompt, /^File: .*cart\.ts \(typescript\)/);
		assert.ok(prompt.includes('export function total(items) {\n⟪  return items.reduce((s, i) => s + i.price, 0);⟫\n}'), prompt);
		assert.equal(state.task.kind, 'explain');
		assert.equal(state.task.diffable, false);
		assert.equal(state.task.title, 'Explain cart.ts:2');

		// The reward model judged (request to explain the code, explanation).
		const rewardPrompt = explainRewardPrompt({
			text: editor.document.lineAt(1).text,
			languageId: 'typescript',
			fileName: '',
			before: '',
			after: '',
		});
		const logit = (text: string) => tinyRewardLogit({ prompt: rewardPrompt, response: text });
		const expected = [...EXPLANATIONS].sort((a, b) => logit(b) - logit(a));
		assert.deepEqual(
			state.candidates.map(c => c.text),
			expected,
		);

		fs.rmSync(api.preferenceLog, { force: true });
		assert.equal(await vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 1 }), 'applied');
		assert.deepEqual(
			explanationsIn(editor.document).map(e => [e.startLine, e.endLine, e.text, e.edited]),
			[[1, 1, expected[0], false]],
		);

		// The pick is in the preference log like a rewrite's, as an explain record.
		const logged = () => (fs.existsSync(api.preferenceLog) ? parseLog(fs.readFileSync(api.preferenceLog, 'utf8')).records : []);
		await until('the pick to be recorded', () => logged().length === 1);
		const record = at(logged(), 0);
		assert.equal(record.task, 'explain');
		assert.equal(record.instruction, 'Explain cart.ts:2');
		assert.equal(record.candidates.find(c => c.id === record.chosen)?.text, at(expected, 0));
		assert.deepEqual(record.messages, at(fake.requests, 0).body.messages);
		assert.equal(editor.document.getText(), content, 'showing an explanation leaves the file alone');
		assert.equal(editor.document.isDirty, false);

		await cursorOn(editor, 1);
		assert.equal(await vscode.commands.executeCommand('bestOfN.explanation.insertAsComment'), true);
		const lines = editor.document.getText().split('\n');
		const comment = lines.slice(1, lines.indexOf('  return items.reduce((s, i) => s + i.price, 0);'));
		assert.ok(comment.length >= 1, `a comment: ${JSON.stringify(lines)}`);
		for (const line of comment) {
			assert.match(line, /^ {2}\/\/( |$)/, 'TypeScript line comments, indented like the code');
			assert.ok(line.length <= 80, `within 80 columns: "${line}"`);
		}
		assert.equal(comment.map(l => l.replace(/^ {2}\/\/ ?/, '')).join(' '), expected[0], 'the whole explanation, in order');
		assert.deepEqual(
			explanationsIn(editor.document).map(e => e.startLine),
			[1 + comment.length],
			'the explanation moved down with its line',
		);

		await vscode.commands.executeCommand('undo');
		assert.equal(editor.document.getText(), content, 'one undo removes the whole comment');
		assert.deepEqual(
			explanationsIn(editor.document).map(e => e.startLine),
			[1],
		);

		await cursorOn(editor, 1);
		assert.equal(await vscode.commands.executeCommand('bestOfN.explanation.dismiss'), true);
		assert.deepEqual(explanationsIn(editor.document), []);
		assert.equal(editor.document.getText(), content);
	});

	it('keeps several explanations on their lines through edits, across files, and drops one whose lines are deleted', async () => {
		await set('candidates', 1);
		await set('ranker', 'consensus');
		const a = await fileEditor('a.py', 'import os\n\ndef first():\n    return 1\n\ndef second():\n    return 2\n');
		const b = await fileEditor('b.sh', 'set -e\necho "$HOME"\n');
		await explainLines(a, 2, 3);
		await vscode.commands.executeCommand('bestOfN.acceptCandidate');
		await explainLines(a, 5, 6);
		await vscode.commands.executeCommand('bestOfN.acceptCandidate');
		await explainLines(b, 1);
		await vscode.commands.executeCommand('bestOfN.acceptCandidate');
		assert.deepEqual(
			explanationsIn(a.document).map(e => [e.startLine, e.endLine]),
			[
				[2, 3],
				[5, 6],
			],
		);
		assert.deepEqual(
			explanationsIn(b.document).map(e => [e.startLine, e.endLine]),
			[[1, 1]],
		);

		// Two lines above: both move down; the other file's stays.
		await edit(e => e.insert(a.document.uri, new vscode.Position(0, 0), '# header\n# more\n'));
		assert.deepEqual(
			explanationsIn(a.document).map(e => [e.startLine, e.endLine, e.edited]),
			[
				[4, 5, false],
				[7, 8, false],
			],
		);
		assert.deepEqual(
			explanationsIn(b.document).map(e => [e.startLine, e.endLine]),
			[[1, 1]],
		);

		// An edit inside the second's lines keeps it there, marked edited.
		await edit(e => e.replace(a.document.uri, new vscode.Range(8, 11, 8, 12), '42'));
		assert.deepEqual(
			explanationsIn(a.document).map(e => [e.startLine, e.endLine, e.edited]),
			[
				[4, 5, false],
				[7, 8, true],
			],
		);

		// Deleting the first's lines removes it; the second moves up with its lines.
		await edit(e => e.delete(a.document.uri, new vscode.Range(4, 0, 6, 0)));
		assert.deepEqual(
			explanationsIn(a.document).map(e => [e.startLine, e.endLine]),
			[[5, 6]],
		);
		assert.equal(a.document.lineAt(5).text, 'def second():');
	});

	it('shows the pick beside the code but leaves focus in the file the person went to meanwhile', async () => {
		await set('candidates', 1);
		await set('ranker', 'consensus');
		const code = await fileEditor('focus.py', 'def one():\n    return 1\n');
		await explainLines(code, 0, 1);
		// Another file, opened to the side while the picker was up.
		const other = await showActive(await vscode.workspace.openTextDocument({ content: 'notes' }), vscode.ViewColumn.Three);
		assert.equal(await vscode.commands.executeCommand('bestOfN.acceptCandidate'), 'applied');
		assert.deepEqual(
			explanationsIn(code.document).map(e => [e.startLine, e.endLine]),
			[[0, 1]],
			'the explanation is shown beside the code',
		);
		assert.ok(
			vscode.window.visibleTextEditors.some(e => e.document === code.document),
			'the explained code is still on screen',
		);
		assert.equal(vscode.window.activeTextEditor?.document, other.document, 'the file the person went to keeps focus');
	});

	it('Show Other Candidates reopens the same run without generating, and another choice replaces the explanation', async () => {
		const editor = await untitledEditor('let x = a ?? b;\n', 'javascript');
		const state = await explainLines(editor, 0);
		const asked = fake.requests.length;
		await vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 1 });
		assert.deepEqual(
			explanationsIn(editor.document).map(e => e.text),
			[at(state.candidates, 0).text],
		);

		await cursorOn(editor, 0);
		assert.equal(await vscode.commands.executeCommand('bestOfN.explanation.showOtherCandidates'), true);
		await until('the picker to show the run again', () => api.picker?.runId === state.runId);
		assert.deepEqual(
			api.picker?.candidates.map(c => c.text),
			state.candidates.map(c => c.text),
		);
		assert.equal(await vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 3 }), 'applied');
		assert.deepEqual(
			explanationsIn(editor.document).map(e => [e.startLine, e.text]),
			[[0, at(state.candidates, 2).text]],
		);
		assert.equal(fake.requests.length, asked, 'nothing was generated again');
	});

	it('Show Other Candidates and another choice leave one preference record for the run, with the new choice', async () => {
		const editor = await fileEditor('repick.ts', 'export const total = (items) => items.reduce((s, i) => s + i.price, 0);\n');
		fs.rmSync(api.preferenceLog, { force: true });
		const logged = () => (fs.existsSync(api.preferenceLog) ? parseLog(fs.readFileSync(api.preferenceLog, 'utf8')).records : []);
		const state = await explainLines(editor, 0);
		assert.equal(await vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 1 }), 'applied');
		await until('the first pick to be recorded', () => logged().length === 1);
		assert.equal(at(logged(), 0).chosen, at(state.candidates, 0).id);

		await cursorOn(editor, 0);
		assert.equal(await vscode.commands.executeCommand('bestOfN.explanation.showOtherCandidates'), true);
		await until('the picker to show the run again', () => api.picker?.runId === state.runId);
		assert.equal(await vscode.commands.executeCommand('bestOfN.acceptCandidate', { rank: 3 }), 'applied');
		const third = at(state.candidates, 2);
		await until('the second pick to replace the first', () => logged()[0]?.chosen === third.id);
		const records = logged();
		assert.deepEqual(
			records.map(r => [r.task, r.chosen]),
			[['explain', third.id]],
			'one record for the run',
		);
		// The export pairs the new choice against each other candidate, never the first choice against it.
		const rows = toTrlRows(records) as { chosen: string; rejected: string }[];
		assert.deepEqual(
			rows.map(r => r.chosen),
			[third.text, third.text, third.text],
		);
		assert.ok(!rows.some(r => r.rejected === third.text));
		// The ranker's agreement counts the run once, as the #3 it finally was.
		const agreement = at(topOneAgreement(records), 0);
		assert.deepEqual([agreement.n, agreement.k], [1, 0]);
	});

	// The languages' comment tokens come from the language configuration files the built-in extensions
	// of this VS Code contribute; none of them is written in the extension.
	const languages: [string, string, RegExp][] = [
		['typescript', 'let a = 1;', /^\/\/ Short\.$/],
		['python', 'a = 1', /^# Short\.$/],
		['rust', 'let a = 1;', /^\/\/ Short\.$/],
		['sql', 'SELECT 1;', /^-- Short\.$/],
		['shellscript', 'a=1', /^# Short\.$/],
		['html', '<p>a</p>', /^<!--\n {2}Short\.\n-->$/],
	];
	for (const [language, code, want] of languages) {
		it(`inserts an explanation of ${language} with that language's own comment syntax`, async () => {
			await set('candidates', 1);
			await set('ranker', 'consensus');
			fake.respond = () => 'Short.';
			const editor = await untitledEditor(`${code}\n`, language);
			await explainLines(editor, 0);
			await vscode.commands.executeCommand('bestOfN.acceptCandidate');
			await cursorOn(editor, 0);
			assert.equal(await vscode.commands.executeCommand('bestOfN.explanation.insertAsComment'), true);
			const text = editor.document.getText();
			assert.ok(text.endsWith(`\n${code}\n`), text);
			assert.match(text.slice(0, -(code.length + 2)), want);
		});
	}
});

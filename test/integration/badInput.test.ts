/**
 * Selections and documents of every shape, in a real extension host: nothing to rewrite, a megabyte,
 * several selections, CRLF, tabs and mixed indentation, Unicode at the edges of the range, read-only,
 * untitled and notebook-cell documents, and the document edited, saved, closed or renamed while the
 * run is under way; the picker closed and reopened, and runs started in quick succession. Each case
 * ends with a clear outcome and the document either changed by exactly the accepted candidate (and
 * back with one undo) or not at all.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PickerState } from '../../src/core/protocol';
import type { BestOfNApi } from '../../src/extension';
import { FakeOllama } from '../fixtures/fakeOllama';
import { until } from '../fixtures/until';
import { at } from '../fixtures/present';
import { pickerTabs, showActive } from '../fixtures/extensionHost';

let fake: FakeOllama;
let api: BestOfNApi;
let scratch: string;

const config = () => vscode.workspace.getConfiguration('bestOfN');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const KEYS = ['ollama.host', 'model', 'candidates', 'concurrency', 'ranker'];

function rewrite(): Thenable<PickerState | undefined> {
	return vscode.commands.executeCommand<PickerState | undefined>('bestOfN.rewriteSelection', { instruction: 'improve it' });
}
function explain(): Thenable<PickerState | undefined> {
	return vscode.commands.executeCommand<PickerState | undefined>('bestOfN.explainSelection');
}
const accept = () => vscode.commands.executeCommand<string | undefined>('bestOfN.acceptCandidate', { rank: 1 });

async function untitled(content: string, language = 'plaintext'): Promise<vscode.TextEditor> {
	const doc = await vscode.workspace.openTextDocument({ content, language });
	return showActive(doc);
}

async function onDisk(name: string, content: string): Promise<vscode.TextEditor> {
	const file = path.join(scratch, name);
	fs.writeFileSync(file, content);
	const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
	return showActive(doc);
}

const selectOffsets = (editor: vscode.TextEditor, from: number, to: number) =>
	new vscode.Selection(editor.document.positionAt(from), editor.document.positionAt(to));

/** Undo in the document's own editor, once. */
async function undoOnce(doc: vscode.TextDocument): Promise<void> {
	await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
	await vscode.commands.executeCommand('undo');
}

/**
 * Rewrites `selections` of `editor` and accepts the best candidate; checks that exactly the primary
 * selection became that candidate (in the document's line endings), the rest kept every character,
 * and one undo gives the original back.
 */
async function roundTrip(editor: vscode.TextEditor, selections: vscode.Selection[]): Promise<PickerState> {
	const doc = editor.document;
	const original = doc.getText();
	editor.selections = selections;
	const primary = at(selections, 0, 'the selections');
	const start = doc.offsetAt(primary.start);
	const end = doc.offsetAt(primary.end);
	const state = await rewrite();
	assert.ok(state, 'the command returned a state');
	assert.equal(state.phase, 'done', state.notice?.text);
	assert.equal(state.original, doc.getText(primary).replace(/\r\n/g, '\n'), 'the picker shows the primary selection');
	assert.equal(await accept(), 'applied');
	const best = at(state.candidates, 0).text;
	const inserted = doc.eol === vscode.EndOfLine.CRLF ? best.replace(/\r?\n/g, '\r\n') : best;
	assert.equal(doc.getText(), original.slice(0, start) + inserted + original.slice(end), 'only the primary selection changed');
	await undoOnce(doc);
	assert.equal(doc.getText(), original, 'one undo restores every character');
	return state;
}

/** A read-only file system, as a person's read-only mounts and virtual folders are. */
class ReadOnlyFiles implements vscode.FileSystemProvider {
	private readonly files = new Map<string, Uint8Array>();
	private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
	readonly onDidChangeFile = this.emitter.event;
	put(name: string, text: string): vscode.Uri {
		this.files.set(`/${name}`, new TextEncoder().encode(text));
		return vscode.Uri.from({ scheme: 'bestofn-readonly', path: `/${name}` });
	}
	watch(): vscode.Disposable {
		return new vscode.Disposable(() => undefined);
	}
	stat(uri: vscode.Uri): vscode.FileStat {
		const data = this.files.get(uri.path);
		if (!data) throw vscode.FileSystemError.FileNotFound(uri);
		return { type: vscode.FileType.File, ctime: 0, mtime: 0, size: data.length, permissions: vscode.FilePermission.Readonly };
	}
	readDirectory(): [string, vscode.FileType][] {
		return [...this.files.keys()].map(k => [k.slice(1), vscode.FileType.File]);
	}
	readFile(uri: vscode.Uri): Uint8Array {
		const data = this.files.get(uri.path);
		if (!data) throw vscode.FileSystemError.FileNotFound(uri);
		return data;
	}
	createDirectory(uri: vscode.Uri): void {
		throw vscode.FileSystemError.NoPermissions(uri);
	}
	writeFile(uri: vscode.Uri): void {
		throw vscode.FileSystemError.NoPermissions(uri);
	}
	delete(uri: vscode.Uri): void {
		throw vscode.FileSystemError.NoPermissions(uri);
	}
	rename(uri: vscode.Uri): void {
		throw vscode.FileSystemError.NoPermissions(uri);
	}
}

/** VS Code's built-in Jupyter notebook type (the ipynb extension ships with it and stays on with --disable-extensions). */
const NOTEBOOK = 'jupyter-notebook';

describe('Bad input in a real extension host', function () {
	this.timeout(120_000);
	const registrations: vscode.Disposable[] = [];
	const readOnly = new ReadOnlyFiles();

	before(async () => {
		fake = new FakeOllama({ models: ['llama3.1:8b'] });
		await fake.start();
		scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-badinput-'));
		registrations.push(vscode.workspace.registerFileSystemProvider('bestofn-readonly', readOnly, { isReadonly: true }));
		api = (await vscode.extensions.all.find(e => e.id.endsWith('.best-of-n'))?.activate()) as BestOfNApi;
	});

	beforeEach(async () => {
		fake.reset();
		fake.tokenDelayMs = 0;
		fake.respond = r => `rewritten ${r.id}`;
		await set('ollama.host', fake.url);
		await set('model', 'llama3.1:8b');
		await set('candidates', 2);
		await set('concurrency', 1);
		await set('ranker', 'consensus');
	});

	afterEach(async () => {
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
		while (api.explanations.length) await vscode.commands.executeCommand('bestOfN.explanation.dismiss');
		await fake.waitForIdle(5000);
	});

	after(async () => {
		for (const key of KEYS) await set(key, undefined);
		registrations.forEach(r => r.dispose());
		await fake?.close();
		fs.rmSync(scratch, { recursive: true, force: true });
	});

	describe('nothing to work on: no run, no request, the document as it was', () => {
		const cases: Array<{ name: string; content: string; from: number; to: number; run: () => Thenable<PickerState | undefined> }> = [
			{ name: 'rewrite, empty selection', content: 'some code', from: 4, to: 4, run: rewrite },
			{ name: 'rewrite, whitespace-only selection', content: 'a\n  \t \n\nb', from: 1, to: 7, run: rewrite },
			{ name: 'explain, caret on a blank line', content: 'a\n   \nb', from: 3, to: 3, run: explain },
			{ name: 'explain, whitespace-only selection', content: 'a\n\t\t \n\nb', from: 1, to: 6, run: explain },
		];
		for (const c of cases) {
			it(c.name, async () => {
				const editor = await untitled(c.content);
				editor.selection = selectOffsets(editor, c.from, c.to);
				assert.equal(await c.run(), undefined, 'no run');
				assert.equal(fake.requests.length, 0, 'nothing sent');
				assert.equal(api.picker, undefined, 'no picker');
				assert.equal(editor.document.getText(), c.content);
			});
		}
	});

	describe('text shapes: exactly the selection becomes the candidate, one undo brings it back', () => {
		const cases: Array<{ name: string; content: string; eol?: vscode.EndOfLine; from: number; to: number; reply: string }> = [
			{ name: 'CRLF document, lines selected', content: 'a\r\nb\r\nc\r\nd\r\n', from: 3, to: 9, reply: 'x\ny\nz' },
			{ name: 'tabs', content: 'if (a) {\n\tb();\n\tc();\n}\n', from: 9, to: 21, reply: '\tb(); c();' },
			{ name: 'mixed indentation', content: 'def f():\n\t  x = 1\n  \ty = 2\n', from: 9, to: 26, reply: '    x, y = 1, 2' },
			{ name: 'an emoji at each edge', content: '👩‍💻 start 🚀 mid 🎉 end', from: 0, to: 11, reply: '🧑‍🔬 begin 🛸' },
			{ name: 'right-to-left text at the edges', content: 'שלום עולם and مرحبا بالعالم', from: 0, to: 13, reply: 'עולם טוב ו' },
			{
				name: 'starting after a combining mark',
				content: 'cafe\u0301 au lait',
				from: 5,
				to: 13,
				reply: 'au lait, s\u0301il vous plait',
			},
			{ name: 'astral characters at both edges', content: '𝔸𝔹ℂ code 𝔻𝔼', from: 0, to: 15, reply: '𝕏 code 𝕐' },
		];
		for (const c of cases) {
			it(c.name, async () => {
				fake.respond = () => c.reply;
				const editor = await untitled(c.content);
				const state = await roundTrip(editor, [selectOffsets(editor, c.from, c.to)]);
				assert.equal(at(state.candidates, 0).text.trim(), c.reply.trim(), 'the reply came through whole');
			});
		}

		it('a selection starting and ending inside surrogate pairs is taken as whole characters', async () => {
			fake.respond = () => 'ok';
			const editor = await untitled('x😀yz😀w');
			// Offsets 2 and 6 fall between the halves of the two emoji: the rewrite takes both whole.
			editor.selection = selectOffsets(editor, 2, 6);
			const state = await rewrite();
			assert.equal(state?.original, '😀yz😀');
			assert.ok(!fake.requests.some(r => LONE_SURROGATE.test(r.prompt)), 'no half character sent');
			assert.equal(await accept(), 'applied');
			assert.equal(editor.document.getText(), 'xokw');
			await undoOnce(editor.document);
			assert.equal(editor.document.getText(), 'x😀yz😀w');
		});
	});

	it('several selections: the primary one is rewritten, the others keep their text', async () => {
		fake.respond = () => 'PRIMARY';
		const editor = await untitled('one two three four');
		const state = await roundTrip(editor, [selectOffsets(editor, 4, 7), selectOffsets(editor, 14, 18)]);
		assert.equal(state.original, 'two');
	});

	it('a megabyte selection: the run ends with an outcome and the document keeps every character', async () => {
		fake.contextFor = () => ({ contextLength: 1_000_000 });
		fake.respond = () => 'short';
		const big = `${'0123456789abcdef'.repeat(65_536)}`; // 1 MiB
		const editor = await untitled(`head\n${big}\ntail\n`);
		editor.selection = selectOffsets(editor, 5, 5 + big.length);
		const state = await rewrite();
		if (state?.phase === 'done') {
			assert.equal(await accept(), 'applied');
			assert.equal(editor.document.getText(), 'head\nshort\ntail\n');
			await undoOnce(editor.document);
		}
		assert.equal(editor.document.getText(), `head\n${big}\ntail\n`, 'every character is there');
		fake.contextFor = () => ({ contextLength: 8192 });
	});

	it('a read-only document: the candidate is not applied, the picker keeps it, the text is unchanged', async () => {
		const uri = readOnly.put('locked.txt', 'locked text\n');
		const doc = await vscode.workspace.openTextDocument(uri);
		const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
		editor.selection = new vscode.Selection(0, 0, 0, 11);
		const state = await rewrite();
		assert.equal(state?.phase, 'done', state?.notice?.text);
		assert.equal(await accept(), 'failed');
		assert.equal(doc.getText(), 'locked text\n');
		assert.ok(api.picker, 'the picker stays, with its candidates');
	});

	it('a notebook cell: the candidate replaces the selection in that cell only', async () => {
		fake.respond = () => 'print("rewritten")';
		const notebook = await vscode.workspace.openNotebookDocument(
			NOTEBOOK,
			new vscode.NotebookData([
				new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'x = 1', 'python'),
				new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'print(x)', 'python'),
			]),
		);
		await vscode.window.showNotebookDocument(notebook);
		const cell = notebook.cellAt(1).document;
		const editor = await until('the cell’s editor', () => vscode.window.visibleTextEditors.find(e => e.document === cell), 10_000);
		const shown = await vscode.window.showTextDocument(cell, editor.viewColumn);
		shown.selection = new vscode.Selection(0, 0, 0, 8);
		const state = await rewrite();
		assert.equal(state?.phase, 'done', state?.notice?.text);
		assert.equal(state.original, 'print(x)');
		assert.equal(await accept(), 'applied');
		assert.equal(cell.getText(), 'print("rewritten")');
		assert.equal(notebook.cellAt(0).document.getText(), 'x = 1', 'the other cell is untouched');
	});

	describe('the document changes while the run is under way', () => {
		/** The accept's outcome after `change`; with `closing`, 'run cancelled' when the close ended the run first. */
		async function during(change: () => Promise<void>, closing = false): Promise<string | undefined> {
			fake.tokenDelayMs = 100;
			fake.respond = () => 'the new text from the model';
			const done = rewrite();
			await until('generation to start', () => fake.openRequests > 0);
			await change();
			const state = await done;
			if (closing && state?.phase === 'cancelled') return 'run cancelled';
			assert.equal(state?.phase, 'done', state?.notice?.text);
			return accept();
		}

		it('saved: the candidate still applies, to the saved document', async () => {
			const editor = await onDisk('saved.txt', 'keep\nrewrite me\n');
			editor.selection = new vscode.Selection(1, 0, 1, 10);
			await editor.edit(b => b.insert(new vscode.Position(0, 0), '>'));
			const outcome = await during(async () => void (await editor.document.save()));
			assert.equal(outcome, 'applied');
			assert.equal(editor.document.getText(), '>keep\nthe new text from the model\n');
		});

		it('closed: nothing is written behind the person’s back, on disk or off screen', async () => {
			const editor = await onDisk('closed.txt', 'rewrite me\n');
			editor.selection = new vscode.Selection(0, 0, 0, 10);
			const outcome = await during(async () => {
				await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
				await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
			}, true);
			assert.equal(fs.readFileSync(path.join(scratch, 'closed.txt'), 'utf8'), 'rewrite me\n', 'nothing saved');
			if (outcome === 'applied') {
				// VS Code reports a document closed a while after its last tab goes, and sometimes not for
				// many seconds: until then the text is still open and the edit lands, but never off screen:
				// the document is shown again with the change, one undo from what it was.
				assert.ok(
					vscode.window.visibleTextEditors.some(e => e.document === editor.document),
					'the edited document is on screen',
				);
				assert.equal(editor.document.getText(), 'the new text from the model\n');
				await undoOnce(editor.document);
				assert.equal(editor.document.getText(), 'rewrite me\n');
			} else {
				// Once VS Code has closed it (before the run ended, or before the accept), there is nothing
				// left to accept and the picker goes with it.
				assert.equal(api.picker, undefined, 'the picker went with the document');
				assert.equal(editor.document.getText(), 'rewrite me\n', 'nothing changed off screen');
			}
		});

		it('renamed: nothing is written to the new name, and the old one is not created again', async () => {
			const editor = await onDisk('before-rename.txt', 'rewrite me\n');
			editor.selection = new vscode.Selection(0, 0, 0, 10);
			const renamed = vscode.Uri.file(path.join(scratch, 'after-rename.txt'));
			const outcome = await during(async () => {
				const edit = new vscode.WorkspaceEdit();
				edit.renameFile(editor.document.uri, renamed);
				assert.ok(await vscode.workspace.applyEdit(edit));
			});
			assert.equal(outcome, 'conflict');
			assert.equal(fs.readFileSync(renamed.fsPath, 'utf8'), 'rewrite me\n');
			assert.ok(!fs.existsSync(path.join(scratch, 'before-rename.txt')), 'the old name is gone');
		});
	});

	it('the picker closed mid-run and the rewrite started again: one picker, applied once, one undo', async () => {
		fake.tokenDelayMs = 100;
		fake.respond = () => 'a reply of many words that takes the slow server a few seconds to stream';
		const editor = await untitled('rewrite me');
		editor.selection = new vscode.Selection(0, 0, 0, 10);
		const first = rewrite();
		await until('generation to start', () => fake.openRequests > 0);
		await until('the picker', () => api.picker !== undefined);
		await until('the picker tab', () => pickerTabs().length === 1);
		await vscode.window.tabGroups.close(pickerTabs());
		assert.equal((await first)?.phase, 'cancelled');
		fake.tokenDelayMs = 0;
		await vscode.window.showTextDocument(editor.document, vscode.ViewColumn.One);
		await roundTrip(vscode.window.activeTextEditor!, [new vscode.Selection(0, 0, 0, 10)]);
		await until('no picker left', () => pickerTabs().length === 0);
	});

	it('two runs started in the same moment: one finishes, the other is cancelled, one edit', async () => {
		fake.tokenDelayMs = 20;
		const editor = await untitled('rewrite me');
		editor.selection = new vscode.Selection(0, 0, 0, 10);
		const states = await Promise.all([rewrite(), rewrite()]);
		assert.deepEqual(states.map(s => s?.phase).sort(), ['cancelled', 'done']);
		const done = states.find(s => s?.phase === 'done')!;
		assert.equal(await accept(), 'applied');
		assert.equal(editor.document.getText(), at(done.candidates, 0).text);
		await undoOnce(editor.document);
		assert.equal(editor.document.getText(), 'rewrite me');
	});

	it('two runs started quickly on two documents: one finishes, and only its document changes', async () => {
		fake.tokenDelayMs = 100;
		fake.respond = () => 'a reply of many words that takes the slow server a few seconds to stream';
		const a = await untitled('first document');
		a.selection = new vscode.Selection(0, 0, 0, 14);
		const first = rewrite();
		const b = await untitled('second document');
		b.selection = new vscode.Selection(0, 0, 0, 15);
		const second = rewrite();
		const states = await Promise.all([first, second]);
		assert.deepEqual(states.map(s => s?.phase).sort(), ['cancelled', 'done']);
		const done = states.find(s => s?.phase === 'done')!;
		assert.equal(await accept(), 'applied');
		const [winner, loser] = done.original === 'first document' ? [a, b] : [b, a];
		assert.equal(winner.document.getText(), at(done.candidates, 0).text);
		assert.equal(loser.document.getText(), loser === a ? 'first document' : 'second document', 'the other document is untouched');
	});
});

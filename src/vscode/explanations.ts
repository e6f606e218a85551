/**
 * Chosen explanations shown inline, as comment threads (VS Code's Comments API) anchored to the lines
 * they explain; the document is never modified to show them. Each keeps to its lines through edits
 * (`LineAnchor`): it moves with them, is marked when they are edited, and goes away when they are
 * deleted. They are kept in workspaceState with a hash of their lines, and come back after a reload
 * only where those lines still hold the same text. Actions: Insert as Comment, Copy, Show Other
 * Candidates (the same run's candidates, nothing generated), Dismiss.
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { formatAsComment, htmlAsText, withoutImages } from '../core/commentFormat';
import { showHidden } from '../core/hiddenText';
import { errorMessage } from '../core/errors';
import { LineAnchor } from '../core/lineAnchor';
import type { Logger } from '../core/logger';
import type { PickerState } from '../core/protocol';
import { explainTask, type ExplainInput } from '../core/tasks/explain';
import { documentName, editorAfterPick, visibleEditor } from './applyEdit';
import type { CommentSyntaxes } from './commentSyntaxes';
import { readSettings } from './config';
import { Disposable } from './dispose';
import type { AcceptStrategy } from './pickerSession';
import type { Sessions } from './sessions';

const STATE_KEY = 'bestOfN.explanations';
const MAX_KEPT = 100;
export const CONTROLLER_ID = 'bestOfN.explanations';
const CONTEXT_KEY = 'bestOfN.hasExplanations';

/** What is kept across reloads for one explanation. */
interface Stored {
	readonly id: string;
	readonly uri: string;
	readonly startLine: number;
	readonly endLine: number;
	/** SHA-256 of the explained lines as they were explained (LF line endings). */
	readonly hash: string;
	readonly text: string;
	readonly chosenId: number;
	readonly input: ExplainInput;
	/** The whole run, for Show Other Candidates. */
	readonly state: PickerState;
}

interface Item extends Stored {
	startLine: number;
	endLine: number;
	readonly thread: vscode.CommentThread;
	readonly anchor: LineAnchor;
}

/** A read-only view of one explanation, for other extensions and the tests. */
export interface ExplanationView {
	readonly uri: string;
	/** 0-based, inclusive. */
	readonly startLine: number;
	readonly endLine: number;
	readonly text: string;
	/** The explained lines were edited since. */
	readonly edited: boolean;
}

export class Explanations extends Disposable {
	private readonly controller: vscode.CommentController;
	private readonly items = new Map<string, Item>();
	private ids = 0;

	constructor(
		private readonly context: vscode.ExtensionContext,
		private readonly logger: Logger,
		private readonly syntaxes: CommentSyntaxes,
		private readonly sessions: Sessions,
	) {
		super();
		this.controller = this._register(vscode.comments.createCommentController(CONTROLLER_ID, 'Best-of-N Explanations'));
		this._register(vscode.workspace.onDidChangeTextDocument(e => this.onEdit(e)));
		// A document closed with unsaved edits comes back as it is on disk: check each explanation again.
		this._register(vscode.workspace.onDidOpenTextDocument(doc => this.verify(doc)));
		this._register({ dispose: () => [...this.items.values()].forEach(i => i.thread.dispose()) });
	}

	/** Every explanation shown now. */
	list(): ExplanationView[] {
		return [...this.items.values()].map(i => ({
			uri: i.uri,
			startLine: i.startLine,
			endLine: i.endLine,
			text: i.text,
			edited: i.anchor.edited,
		}));
	}

	/**
	 * The explain task's accept strategy: show the chosen explanation beside the lines the session
	 * explained; `replacing` is the explanation whose Show Other Candidates opened the picker.
	 */
	strategy(input: ExplainInput, replacing?: string): AcceptStrategy {
		return {
			accept: async ({ id, text, state }, target) => {
				if (!target.range || !target.unchanged) {
					void this.offerCopy(
						target.document.isClosed
							? `${documentName(target.document)} was closed before the pick, so the explanation is not shown beside its code.`
							: 'The explained code changed while Best-of-N was running, so the explanation is not shown beside it.',
						text,
					);
					return 'conflict';
				}
				const start = target.range.start.line;
				const end =
					target.range.end.character === 0 && target.range.end.line > start ? target.range.end.line - 1 : target.range.end.line;
				if (replacing) this.remove(replacing);
				this.add(target.document, start, end, { text, chosenId: id, input, state });
				const editor = await editorAfterPick(target);
				editor?.revealRange(new vscode.Range(start, 0, end, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
				return 'applied';
			},
		};
	}

	/** Brings back the explanations of the last window whose lines are unchanged; drops the rest. */
	async restore(): Promise<void> {
		const stored = this.context.workspaceState.get<unknown>(STATE_KEY);
		if (!Array.isArray(stored)) return;
		for (const entry of stored) {
			if (!isStored(entry)) continue;
			try {
				const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(entry.uri, true));
				if (entry.endLine >= doc.lineCount || hashLines(doc, entry.startLine, entry.endLine) !== entry.hash) continue;
				this.add(doc, entry.startLine, entry.endLine, entry, entry.hash);
			} catch (e) {
				this.logger.debug(`explanation for ${entry.uri} not restored: ${errorMessage(e)}`);
			}
		}
		this.persist();
	}

	dismiss(arg?: unknown): boolean {
		const item = this.resolve(arg);
		if (!item) return false;
		this.remove(item.id);
		return true;
	}

	async copy(arg?: unknown): Promise<boolean> {
		const item = this.resolve(arg);
		if (!item) return false;
		await vscode.env.clipboard.writeText(item.text);
		vscode.window.setStatusBarMessage('Best-of-N: explanation copied', 2000);
		return true;
	}

	/** Reopens the picker on the run this explanation came from; choosing another replaces it. */
	async showOthers(arg?: unknown): Promise<boolean> {
		const item = this.resolve(arg);
		if (!item) return false;
		const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(item.uri, true));
		const task = explainTask(item.input, readSettings(this.logger).explainPrompt);
		const column = visibleEditor(document)?.viewColumn ?? vscode.ViewColumn.One;
		this.sessions.reopen(
			{
				task,
				strategy: this.strategy(item.input, item.id),
				document,
				column,
				selection: new vscode.Range(item.startLine, 0, item.endLine, document.lineAt(item.endLine).text.length),
				title: `Best-of-N: ${task.view.title}`,
			},
			item.state,
		);
		return true;
	}

	/**
	 * Writes the explanation above its lines as a comment in the document's language, wrapped to the
	 * editor's first ruler (or 80 columns) and indented like the code: one edit, one undo step.
	 */
	async insertAsComment(arg?: unknown): Promise<boolean> {
		const item = this.resolve(arg);
		if (!item) return false;
		const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(item.uri, true));
		const syntax = await this.syntaxes.lookup(doc.languageId);
		if (!syntax) {
			void this.offerCopy(
				`No installed extension says how to write a comment in ${doc.languageId}, so nothing was inserted.`,
				item.text,
			);
			return false;
		}
		const line = doc.lineAt(item.startLine);
		const indent = line.text.slice(0, line.firstNonWhitespaceCharacterIndex);
		const editorConfig = vscode.workspace.getConfiguration('editor', doc);
		const rulers = editorConfig.get<unknown[]>('rulers') ?? [];
		const ruler = rulers
			.map(r => (typeof r === 'number' ? r : typeof r === 'object' && r !== null ? (r as { column?: unknown }).column : undefined))
			.find((n): n is number => typeof n === 'number' && n > 0);
		const shown = visibleEditor(doc)?.options.tabSize;
		const tabSize = typeof shown === 'number' ? shown : editorConfig.get<number>('tabSize', 4);
		const indentColumns = [...indent].reduce((n, ch) => (ch === '\t' ? n + tabSize - (n % tabSize) : n + 1), 0);
		let text = formatAsComment(item.text, syntax, { indent, indentColumns, width: ruler ?? 80 });
		if (doc.eol === vscode.EndOfLine.CRLF) text = text.replace(/\n/g, '\r\n');
		const edit = new vscode.WorkspaceEdit();
		edit.insert(doc.uri, new vscode.Position(item.startLine, 0), text);
		let ok = false;
		try {
			ok = await vscode.workspace.applyEdit(edit);
		} catch (e) {
			this.logger.error(`inserting the explanation failed: ${errorMessage(e)}`);
		}
		if (!ok) void this.offerCopy('Best-of-N could not edit the document (it may be read-only).', item.text);
		return ok;
	}

	private add(
		doc: vscode.TextDocument,
		startLine: number,
		endLine: number,
		what: Pick<Stored, 'text' | 'chosenId' | 'input' | 'state'>,
		hash = hashLines(doc, startLine, endLine),
	): Item {
		const id = `${Date.now().toString(36)}-${++this.ids}`;
		const range = linesRange(doc, startLine, endLine);
		const position = what.state.candidates.findIndex(c => c.id === what.chosenId);
		const comment: vscode.Comment = {
			body: inert(what.text),
			mode: vscode.CommentMode.Preview,
			author: { name: 'Best-of-N' },
			label: `#${position + 1} of ${what.state.candidates.length} · ${what.state.model}`,
			contextValue: 'bestOfN.explanation',
		};
		const thread = this.controller.createCommentThread(doc.uri, range, [comment]);
		thread.canReply = false;
		thread.label = 'Explanation';
		thread.contextValue = 'bestOfN.explanation';
		thread.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
		const anchor = new LineAnchor(doc.offsetAt(range.start), doc.offsetAt(range.end));
		// Only these fields of `what`: a restored entry also carries the id it had in the last window.
		const { text, chosenId, input, state } = what;
		const item: Item = { id, uri: doc.uri.toString(), startLine, endLine, hash, text, chosenId, input, state, thread, anchor };
		this.items.set(id, item);
		// The oldest go first beyond the limit, so workspaceState stays small.
		for (const old of [...this.items.keys()].slice(0, Math.max(0, this.items.size - MAX_KEPT))) this.remove(old, false);
		this.persist();
		return item;
	}

	private remove(id: string, save = true): void {
		const item = this.items.get(id);
		if (!item) return;
		this.items.delete(id);
		item.thread.dispose();
		if (save) this.persist();
	}

	private onEdit(e: vscode.TextDocumentChangeEvent): void {
		if (e.contentChanges.length === 0) return;
		const uri = e.document.uri.toString();
		let moved = false;
		for (const item of [...this.items.values()]) {
			if (item.uri !== uri) continue;
			const wasEdited = item.anchor.edited;
			item.anchor.update(e.contentChanges);
			if (item.anchor.removed) {
				this.remove(item.id, false);
				moved = true;
				continue;
			}
			const start = e.document.positionAt(item.anchor.start).line;
			const end = e.document.positionAt(item.anchor.end).line;
			const range = linesRange(e.document, start, end);
			if (!item.thread.range?.isEqual(range)) item.thread.range = range;
			moved ||= start !== item.startLine || end !== item.endLine;
			item.startLine = start;
			item.endLine = end;
			if (item.anchor.edited && !wasEdited) {
				item.thread.label = 'Explanation (the code was edited since)';
				moved = true;
			}
		}
		if (moved) this.persist();
	}

	private verify(doc: vscode.TextDocument): void {
		const uri = doc.uri.toString();
		for (const item of [...this.items.values()]) {
			if (item.uri !== uri) continue;
			if (item.endLine >= doc.lineCount || hashLines(doc, item.startLine, item.endLine) !== item.hash) this.remove(item.id);
		}
	}

	/** A thread (thread title menu), a comment (comment menu), or the explanation at the active editor's cursor. */
	private resolve(arg: unknown): Item | undefined {
		const items = [...this.items.values()];
		if (arg && typeof arg === 'object') {
			const hit = items.find(i => i.thread === arg || i.thread.comments.includes(arg as vscode.Comment));
			if (hit) return hit;
		}
		const editor = vscode.window.activeTextEditor;
		if (!editor) return items[items.length - 1];
		const uri = editor.document.uri.toString();
		const line = editor.selection.active.line;
		const here = items.filter(i => i.uri === uri);
		return here.find(i => i.startLine <= line && line <= i.endLine) ?? (here.length === 1 ? here[0] : undefined);
	}

	private persist(): void {
		const stored: Stored[] = [...this.items.values()].map(({ id, uri, startLine, endLine, hash, text, chosenId, input, state }) => ({
			id,
			uri,
			startLine,
			endLine,
			hash,
			text,
			chosenId,
			input,
			state,
		}));
		void this.context.workspaceState.update(STATE_KEY, stored);
		void vscode.commands.executeCommand('setContext', CONTEXT_KEY, stored.length > 0);
	}

	private async offerCopy(message: string, text: string): Promise<void> {
		const choice = await vscode.window.showWarningMessage(message, 'Copy Explanation');
		if (choice === 'Copy Explanation') await vscode.env.clipboard.writeText(text);
	}
}

/** Untrusted Markdown: no command links, no theme icons, no remote images; HTML is shown as text, as in the picker. */
function inert(text: string): vscode.MarkdownString {
	const body = new vscode.MarkdownString(showHidden(htmlAsText(withoutImages(text))), false);
	body.isTrusted = false;
	body.supportHtml = false;
	return body;
}

function linesRange(doc: vscode.TextDocument, startLine: number, endLine: number): vscode.Range {
	return new vscode.Range(startLine, 0, endLine, doc.lineAt(endLine).text.length);
}

function hashLines(doc: vscode.TextDocument, startLine: number, endLine: number): string {
	const text = doc.getText(linesRange(doc, startLine, endLine)).replace(/\r\n/g, '\n');
	return crypto.createHash('sha256').update(text).digest('hex');
}

function isStored(value: unknown): value is Stored {
	if (typeof value !== 'object' || value === null) return false;
	const v = value as Record<string, unknown>;
	const input = v.input as Record<string, unknown> | undefined;
	const state = v.state as Record<string, unknown> | undefined;
	return (
		typeof v.uri === 'string' &&
		Number.isInteger(v.startLine) &&
		Number.isInteger(v.endLine) &&
		(v.startLine as number) >= 0 &&
		(v.endLine as number) >= (v.startLine as number) &&
		typeof v.hash === 'string' &&
		typeof v.text === 'string' &&
		typeof v.chosenId === 'number' &&
		typeof input?.text === 'string' &&
		typeof input.languageId === 'string' &&
		typeof state === 'object' &&
		Array.isArray(state?.candidates)
	);
}

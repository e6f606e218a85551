/**
 * The `d` key's diff: VS Code's diff editor with the whole document on the left and the document with
 * one candidate in place of the selection on the right, so the change is read in its file. The tab's
 * title bar carries Accept and Previous/Next Candidate (package.json `menus.editor/title`, shown for
 * the `bestofn` scheme); a session owns one of these, and closes the tab when it ends or starts a
 * new run, so no stale diff outlives what it showed.
 */
import * as vscode from 'vscode';
import type { CandidateView } from '../core/protocol';
import { documentWith } from './applyEdit';
import { SCHEME, type CandidateDocuments } from './candidateDocuments';
import type { SessionTarget } from './pickerSession';

export interface DiffSubject {
	/** Where the selection is now. */
	target(): SessionTarget;
	readonly documents: CandidateDocuments;
	/** The run shown in the picker now and its candidates, best first. */
	current(): { runId: number; candidates: readonly CandidateView[] } | undefined;
}

/** A diff of one candidate: which run, which candidate, and its two documents. */
interface Shown {
	readonly runId: number;
	readonly id: number;
	readonly left: vscode.Uri;
	readonly right: vscode.Uri;
}

/** `bestofn:/run-3/candidate-2/…`: the run and the candidate (0-based id) a diff document shows. */
export function parseCandidateUri(uri: vscode.Uri): { runId: number; id: number } | undefined {
	if (uri.scheme !== SCHEME) return undefined;
	const m = /^\/run-(\d+)\/(?:candidate-(\d+)|original-(\d+))\//.exec(uri.path);
	return m ? { runId: Number(m[1]), id: Number(m[2] ?? m[3]) - 1 } : undefined;
}

export class CandidateDiff implements vscode.Disposable {
	private shown?: Shown;

	constructor(private readonly subject: DiffSubject) {}

	/** The candidate shown, while its tab is open. */
	get candidateId(): number | undefined {
		return this.shown && this.tabs().length > 0 ? this.shown.id : undefined;
	}

	/** Shows candidate `id` (replacing the diff shown before), beside the picker or where the diff already is. */
	async open(id: number): Promise<boolean> {
		const now = this.subject.current();
		const candidate = now?.candidates.find(c => c.id === id && c.status === 'done');
		if (!now || !candidate) return false;
		const target = this.subject.target();
		const documents = this.subject.documents;
		const name = target.document.fileName;
		// The original is named after the candidate too: two diffs never share a left document.
		const left = documents.put(now.runId, `original-${id + 1}`, name, target.document.getText());
		const right = documents.put(now.runId, `candidate-${id + 1}`, name, documentWith(target, candidate.text));
		const column = this.tabs()[0]?.group.viewColumn ?? vscode.ViewColumn.Beside;
		this.shown = { runId: now.runId, id, left, right };
		const start = target.range?.start ?? new vscode.Position(0, 0);
		await vscode.commands.executeCommand('vscode.diff', left, right, diffTitle(candidate), {
			viewColumn: column,
			preview: true,
			selection: new vscode.Range(start, start),
		} satisfies vscode.TextDocumentShowOptions);
		// The diff shown before, unless the new one took its (preview) tab already.
		await closeTabs(this.tabs().filter(t => !sameDiff(t, left, right)));
		return true;
	}

	/** Shows the next (`+1`) or previous (`-1`) finished candidate in the picker's order, wrapping around. */
	async step(delta: 1 | -1): Promise<boolean> {
		const done = this.subject.current()?.candidates.filter(c => c.status === 'done') ?? [];
		if (done.length === 0) return false;
		const at = done.findIndex(c => c.id === this.shown?.id);
		const next = done[(at + delta + done.length) % done.length];
		return next ? this.open(next.id) : false;
	}

	/** Keeps an open diff in step with the document (the left side is the document as it is now). */
	refresh(): void {
		const shown = this.shown;
		if (!shown || this.tabs().length === 0) return;
		const candidate = this.subject.current()?.candidates.find(c => c.id === shown.id);
		if (!candidate) return;
		const target = this.subject.target();
		const documents = this.subject.documents;
		documents.put(shown.runId, `original-${shown.id + 1}`, target.document.fileName, target.document.getText());
		documents.put(shown.runId, `candidate-${shown.id + 1}`, target.document.fileName, documentWith(target, candidate.text));
	}

	/** Closes the diff tab(s) of this session, if open. */
	async close(): Promise<void> {
		const tabs = this.tabs();
		this.shown = undefined;
		await closeTabs(tabs);
	}

	dispose(): void {
		void this.close();
	}

	/** Open tabs showing a diff of the candidate this object opened last (or before, in the same run). */
	private tabs(): vscode.Tab[] {
		const runId = this.shown?.runId;
		if (runId === undefined) return [];
		return vscode.window.tabGroups.all
			.flatMap(g => g.tabs)
			.filter(t => t.input instanceof vscode.TabInputTextDiff && parseCandidateUri(t.input.modified)?.runId === runId);
	}
}

/** Closes what is still open of `tabs` (a tab object goes stale once its editor is replaced or closed). */
async function closeTabs(tabs: readonly vscode.Tab[]): Promise<void> {
	for (const tab of tabs) {
		const live = tab.group.tabs.find(t => t.input instanceof vscode.TabInputTextDiff && sameInput(t.input, tab.input));
		if (live) await vscode.window.tabGroups.close(live, true).then(undefined, () => undefined);
	}
}

function sameInput(a: vscode.TabInputTextDiff, b: unknown): boolean {
	return (
		b instanceof vscode.TabInputTextDiff &&
		a.original.toString() === b.original.toString() &&
		a.modified.toString() === b.modified.toString()
	);
}

function sameDiff(tab: vscode.Tab, left: vscode.Uri, right: vscode.Uri): boolean {
	return (
		tab.input instanceof vscode.TabInputTextDiff &&
		tab.input.original.toString() === left.toString() &&
		tab.input.modified.toString() === right.toString()
	);
}

export function diffTitle(candidate: CandidateView): string {
	const name = candidate.rank ? `#${candidate.rank}` : `candidate ${candidate.id + 1}`;
	return `Original ↔ Best-of-N ${name}${candidate.doneReason === 'length' ? ' (cut at token limit)' : ''}`;
}

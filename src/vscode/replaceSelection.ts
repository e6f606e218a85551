/**
 * The rewrite task's accept strategy: the candidate replaces exactly the selected text, with the
 * document's line endings, as one undoable edit, unless that text changed during the run; then
 * nothing is overwritten and the candidate is offered side by side or on the clipboard.
 */
import * as vscode from 'vscode';
import { errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import { documentName, editorAfterPick, hasTab, inDocumentEol } from './applyEdit';
import type { AcceptOutcome, AcceptStrategy, SessionTarget } from './pickerSession';

export function replaceSelection(logger: Logger): AcceptStrategy {
	return {
		async accept({ text }, target: SessionTarget): Promise<AcceptOutcome> {
			const { document: doc, range } = target;
			if (!range || !target.unchanged) {
				// A closed document: its tab closed, or a file opened from the explorer took its preview tab.
				const why = doc.isClosed
					? `${documentName(doc)} was closed before the pick, so nothing was replaced.`
					: 'The selected text changed while Best-of-N was running, so nothing was replaced.';
				void offerInstead(why, text, doc.languageId);
				return 'conflict';
			}
			// VS Code applies an extension's edit even to a read-only file's text, which then cannot be saved.
			if (vscode.workspace.fs.isWritableFileSystem(doc.uri.scheme) === false) {
				void vscode.window.showErrorMessage(
					`Best-of-N did not edit ${documentName(doc)}: it is read-only. The candidate is unchanged in the picker (C copies it).`,
				);
				return 'failed';
			}
			const replacement = inDocumentEol(doc, text);
			const start = doc.offsetAt(range.start);
			const edit = new vscode.WorkspaceEdit();
			edit.replace(doc.uri, range, replacement);
			let ok = false;
			try {
				ok = await vscode.workspace.applyEdit(edit);
			} catch (e) {
				logger.error(`applying the candidate failed: ${errorMessage(e)}`);
			}
			if (!ok) {
				void vscode.window.showErrorMessage(
					'Best-of-N could not edit the document (it may be read-only). The candidate is unchanged in the picker.',
				);
				return 'failed';
			}
			// The editor the selection came from, not a second copy in the picker's group; the picker
			// session gives it the keyboard (at once, and again once the picker has gone).
			const editor = await editorAfterPick(target);
			if (editor) {
				// A caret after the new text, not a live selection: keys a person is still typing go after it.
				const from = doc.positionAt(start);
				const to = doc.positionAt(start + replacement.length);
				editor.selection = new vscode.Selection(to, to);
				editor.revealRange(new vscode.Range(from, to));
			} else if (!hasTab(doc.uri)) {
				// No tab shows it: a file opened from the explorer just after Enter took the preview tab it
				// had (before the edit could keep it), or its tab was closed. Say where the change went.
				void sayAppliedOffScreen(doc);
			}
			return 'applied';
		},
	};
}

/**
 * The pick is in a document no tab shows: say so, with a way to it. Read by its URI: a document whose
 * last tab went while the edit was on its way is closed, and the edit opened it again as another object.
 */
async function sayAppliedOffScreen(doc: vscode.TextDocument): Promise<void> {
	const name = documentName(doc);
	const key = doc.uri.toString();
	const now = vscode.workspace.textDocuments.find(d => d.uri.toString() === key);
	const show = `Show ${name}`;
	const choice = await vscode.window.showInformationMessage(
		`Best-of-N applied the pick to ${name}${now?.isDirty ? ' (not saved yet)' : ''}, which no tab shows now.`,
		show,
	);
	if (choice === show) await vscode.window.showTextDocument(doc.uri, { preview: false });
}

/** The selection changed under the run, or its document closed: offer the candidate elsewhere, overwrite nothing. */
async function offerInstead(why: string, text: string, languageId: string): Promise<void> {
	const choice = await vscode.window.showWarningMessage(why, 'Open Side by Side', 'Copy to Clipboard');
	if (choice === 'Open Side by Side') {
		const doc = await vscode.workspace.openTextDocument({ content: text, language: languageId });
		await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false });
	} else if (choice === 'Copy to Clipboard') {
		await vscode.env.clipboard.writeText(text);
	}
}

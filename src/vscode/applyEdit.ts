/**
 * Pieces of putting a candidate in place of the selection that the picker's accept and the diff
 * editor share: the document as it would read with the candidate in place, and the question asked
 * before a candidate cut at the token limit replaces anything.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SessionTarget } from './pickerSession';
import { trackQuickPick } from './pickTracker';

/** `text` (with `\n` line breaks) in the document's own line endings. */
export function inDocumentEol(document: vscode.TextDocument, text: string): string {
	return document.eol === vscode.EndOfLine.CRLF ? text.replace(/\r?\n/g, '\r\n') : text;
}

/** The whole document as it would read with `text` in place of the selection. */
export function documentWith(target: SessionTarget, text: string): string {
	const doc = target.document;
	const whole = doc.getText();
	if (!target.range) return whole;
	return whole.slice(0, doc.offsetAt(target.range.start)) + inDocumentEol(doc, text) + whole.slice(doc.offsetAt(target.range.end));
}

export function cutQuestion(name: string): string {
	return `${name} was cut at the token limit (bestOfN.maxTokens): it likely ends mid-way.`;
}

/**
 * Asks before applying a candidate the server stopped at the token limit: its text most likely ends
 * mid-way. A quick pick, so the keyboard answers it, with Cancel first so a stray Enter keeps the
 * document as it is. `onShown` runs once the question is on screen.
 */
export function confirmCutCandidate(name: string, candidate: string, original: string, onShown?: () => void): Promise<boolean> {
	const lines = (text: string) => text.split('\n').length;
	const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
	const cancel: vscode.QuickPickItem = {
		label: 'Cancel',
		detail: 'Keep the selection as it is. Raise bestOfN.maxTokens and regenerate for candidates that end where the model meant.',
	};
	const apply: vscode.QuickPickItem = {
		label: '$(warning) Apply Anyway',
		detail: `Replace the ${plural(lines(original), 'selected line')} with the cut candidate's ${plural(lines(candidate), 'line')}.`,
	};
	const pick = vscode.window.createQuickPick();
	pick.title = cutQuestion(name);
	pick.placeholder = 'Apply it anyway?';
	pick.items = [cancel, apply];
	// Only the person answers: focus moving away (a picker that opened a moment before takes focus
	// once its page has loaded) would otherwise close the question as if Cancel had been chosen.
	pick.ignoreFocusOut = true;
	trackQuickPick(pick);
	return new Promise<boolean>(resolve => {
		let answer = false;
		pick.onDidAccept(() => {
			answer = pick.selectedItems[0] === apply;
			pick.hide();
		});
		pick.onDidHide(() => {
			pick.dispose();
			resolve(answer);
		});
		pick.show();
		onShown?.();
	});
}

/** Where a pick goes, as `editorAfterPick` needs it (the picker session's `SessionTarget` is one). */
export interface PickPlace {
	readonly document: vscode.TextDocument;
	readonly column: vscode.ViewColumn | undefined;
	/** Whether the document's editor takes the keyboard: not when the person has gone to another file. */
	readonly takeFocus: boolean;
	/** Whether the document was on screen when the pick arrived, as the extension host knew then. */
	readonly onScreen: boolean;
}

/**
 * The editor of the pick's document after the pick changed it, for its caret and scrolling. An editor
 * on screen is not shown again: the picker session gives it the keyboard (see `focusEditorAfterPick`).
 * An editor off screen is shown in its column only if it was off screen when the pick arrived too (its
 * tab closed, or the picker over it) and `takeFocus` allows. One that went off screen since was covered
 * by a file the person opened after Enter: the window knows before the extension host, so the pick
 * could arrive while the document still looked visible, and showing it then would push that file back.
 */
export async function editorAfterPick(place: PickPlace): Promise<vscode.TextEditor | undefined> {
	const visible = visibleEditor(place.document);
	if (visible || !place.takeFocus || place.onScreen) return visible;
	return vscode.window.showTextDocument(place.document, { viewColumn: place.column, preserveFocus: false, preview: false });
}

/** An editor on screen showing `document`, as far as the extension host has heard. */
export function visibleEditor(document: vscode.TextDocument): vscode.TextEditor | undefined {
	return vscode.window.visibleTextEditors.find(e => e.document === document);
}

/** The document's file name, as messages name it. */
export function documentName(document: vscode.TextDocument): string {
	return path.posix.basename(document.uri.path) || document.uri.toString();
}

/** Whether a tab of some group shows `uri` as a text editor. */
export function hasTab(uri: vscode.Uri): boolean {
	const key = uri.toString();
	return vscode.window.tabGroups.all.some(g =>
		g.tabs.some(t => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key),
	);
}

/** VS Code's commands that focus the editor group at a position, whatever it shows. */
const FOCUS_GROUP = [
	'workbench.action.focusFirstEditorGroup',
	'workbench.action.focusSecondEditorGroup',
	'workbench.action.focusThirdEditorGroup',
	'workbench.action.focusFourthEditorGroup',
	'workbench.action.focusFifthEditorGroup',
	'workbench.action.focusSixthEditorGroup',
	'workbench.action.focusSeventhEditorGroup',
	'workbench.action.focusEighthEditorGroup',
];

/**
 * Gives the keyboard to the group showing `editor`, by its position: the command focuses whatever that
 * group shows when it runs, so it cannot bring this document back over a file the person opened there
 * in the meantime, as showTextDocument would. Past the eighth group, showTextDocument it is.
 */
export async function focusEditorAfterPick(editor: vscode.TextEditor): Promise<void> {
	const command = editor.viewColumn === undefined ? undefined : FOCUS_GROUP[editor.viewColumn - 1];
	if (command) await vscode.commands.executeCommand(command);
	else await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false });
}

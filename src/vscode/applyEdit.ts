/**
 * Pieces of putting a candidate in place of the selection that the picker's accept and the diff
 * editor share: the document as it would read with the candidate in place, and the question asked
 * before a candidate cut at the token limit replaces anything.
 */
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

/**
 * A range widened so neither end falls between the two halves of a surrogate pair (an emoji, an
 * astral letter). VS Code's own cursor never stops there, but a selection set by an extension or a
 * command can: sending half a character to a model and replacing half of one would corrupt the text.
 */
import * as vscode from 'vscode';

const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** True when `offset` is between a high and a low surrogate of `text`. */
function splitsPair(text: string, offset: number): boolean {
	return offset > 0 && offset < text.length && isHigh(text.charCodeAt(offset - 1)) && isLow(text.charCodeAt(offset));
}

export function wholeCharacters(doc: vscode.TextDocument, range: vscode.Range): vscode.Range {
	const text = doc.getText();
	let start = doc.offsetAt(range.start);
	let end = doc.offsetAt(range.end);
	if (splitsPair(text, start)) start--;
	if (splitsPair(text, end)) end++;
	return new vscode.Range(doc.positionAt(start), doc.positionAt(end));
}

/**
 * Best-of-N: Explain Selection — N explanations of the selected code (with its file name, language
 * and the lines around it as context), ranked in the picker; the chosen one is shown inline beside the
 * code by `Explanations`. With no selection, the cursor's line is explained.
 */
import * as vscode from 'vscode';
import type { PickerState } from '../core/protocol';
import { explainTask, type ExplainInput } from '../core/tasks/explain';
import type { Logger } from '../core/logger';
import { readSettings } from './config';
import { refusedByLimits } from './runLimitsCheck';
import type { Explanations } from './explanations';
import type { Sessions } from './sessions';
import { wholeCharacters } from './wholeCharacters';

/** Lines of context sent above and below the selection. */
const CONTEXT_LINES = 10;

export class ExplainController {
	constructor(
		private readonly sessions: Sessions,
		private readonly explanations: Explanations,
		private readonly logger: Logger,
	) {}

	/** Resolves with the run's final picker state, or undefined when there was nothing to explain. */
	async explainSelection(): Promise<PickerState | undefined> {
		const editor = vscode.window.activeTextEditor;
		if (!editor) {
			void vscode.window.showInformationMessage('Best-of-N: open a file and select the code to explain.');
			return undefined;
		}
		const doc = editor.document;
		const selection = editor.selection.isEmpty
			? doc.lineAt(editor.selection.active.line).range
			: wholeCharacters(doc, editor.selection);
		if (!doc.getText(selection).trim()) {
			void vscode.window.showInformationMessage('Best-of-N: select the code to explain first.');
			return undefined;
		}
		if (refusedByLimits(readSettings(), doc.getText(selection).length, this.logger)) return undefined;
		const input = explainInput(doc, selection);
		const task = explainTask(input, readSettings().explainPrompt);
		const run = this.sessions.start({
			task,
			strategy: this.explanations.strategy(input),
			document: doc,
			column: editor.viewColumn,
			selection,
			title: `Best-of-N: ${task.view.title}`,
		});
		// No window progress: its spinner would animate the status bar all run (see statusBar.ts).
		const result = await run;
		return result.state;
	}
}

export function explainInput(doc: vscode.TextDocument, selection: vscode.Range): ExplainInput {
	return {
		text: doc.getText(selection),
		languageId: doc.languageId,
		...surroundings(doc, selection),
		startLine: selection.start.line + 1,
		endLine: lastLineOf(selection) + 1,
	};
}

/** A selection that ends at the start of a line does not explain that line. */
function lastLineOf(selection: vscode.Range): number {
	return selection.end.character === 0 && selection.end.line > selection.start.line ? selection.end.line - 1 : selection.end.line;
}

/** The file's name as the workspace shows it, and the lines around the selection, for prompts. */
export function surroundings(doc: vscode.TextDocument, selection: vscode.Range): { fileName: string; before: string; after: string } {
	const above = new vscode.Position(Math.max(0, selection.start.line - CONTEXT_LINES), 0);
	const below = doc.lineAt(Math.min(doc.lineCount - 1, lastLineOf(selection) + CONTEXT_LINES)).range.end;
	return {
		fileName: doc.isUntitled ? '' : vscode.workspace.asRelativePath(doc.uri, false),
		before: doc.getText(new vscode.Range(above, selection.start)),
		after: doc.getText(new vscode.Range(selection.end, below)),
	};
}

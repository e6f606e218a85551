/**
 * The rewrite command: ask for an instruction (with recent ones offered) and start a rewrite session;
 * the session owner (`Sessions`) does the rest, as for every task.
 */
import * as vscode from 'vscode';
import { errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import type { PickerState } from '../core/protocol';
import { runSettings } from '../core/settings';
import { rewriteTask } from '../core/tasks/rewrite';
import type { ApiKeys } from './apiKeys';
import { SCHEME } from './candidateDocuments';
import { readSettings } from './config';
import { checkContext } from './contextCheck';
import { refusedByLimits } from './runLimitsCheck';
import { surroundings } from './explainController';
import { shorten } from './pickerSession';
import { trackQuickPick } from './pickTracker';
import { Disposable } from './dispose';
import { replaceSelection } from './replaceSelection';
import type { Sessions } from './sessions';
import { wholeCharacters } from './wholeCharacters';

const HISTORY_KEY = 'bestOfN.instructionHistory';

/** `{ "instruction": "…" }`, as a keybinding or another extension may pass it. */
export function parseRewriteArgs(value: unknown): { instruction?: string } {
	if (typeof value !== 'object' || value === null) return {};
	const instruction = (value as Record<string, unknown>).instruction;
	return typeof instruction === 'string' && instruction.trim() ? { instruction: instruction.trim() } : {};
}

export class RewriteController extends Disposable {
	/** The text editor that had focus last: the one to rewrite when the picker has focus instead. */
	private lastEditor?: vscode.TextEditor;

	constructor(
		private readonly context: vscode.ExtensionContext,
		private readonly logger: Logger,
		private readonly sessions: Sessions,
		private readonly apiKeys: ApiKeys,
	) {
		super();
		this.noteEditor(vscode.window.activeTextEditor);
		this._register(vscode.window.onDidChangeActiveTextEditor(e => this.noteEditor(e)));
	}

	private noteEditor(editor: vscode.TextEditor | undefined): void {
		// Our own diff documents are read-only views of a candidate, never something to rewrite.
		if (editor && editor.document.uri.scheme !== SCHEME && editor.document.uri.scheme !== 'output') this.lastEditor = editor;
	}

	/**
	 * The editor a rewrite applies to: the active one, or, when the picker (or our diff) has focus
	 * (Ctrl+Alt+R pressed there), the editor the picker belongs to, else the last one that had focus,
	 * if it is still on screen.
	 */
	private targetEditor(): vscode.TextEditor | undefined {
		const active = vscode.window.activeTextEditor;
		if (active && active.document.uri.scheme !== SCHEME) return active;
		const visible = vscode.window.visibleTextEditors;
		const owner = this.sessions.document;
		const last = this.lastEditor;
		return (
			(owner && (last?.document === owner && visible.includes(last) ? last : visible.find(e => e.document === owner))) ??
			(last && visible.includes(last) ? last : undefined)
		);
	}

	/**
	 * Best-of-N: Rewrite Selection…  Resolves with the run's final picker state (undefined if the user
	 * backed out), so keybindings, other extensions and tests can chain on it.
	 */
	async rewriteSelection(args?: unknown): Promise<PickerState | undefined> {
		const editor = this.targetEditor();
		if (!editor) {
			void vscode.window.showInformationMessage('Best-of-N: open a file and select the text to rewrite.');
			return undefined;
		}
		const selection = wholeCharacters(editor.document, editor.selection);
		if (selection.isEmpty || !editor.document.getText(selection).trim()) {
			void vscode.window.showInformationMessage('Best-of-N: select the text to rewrite first.');
			return undefined;
		}
		if (refusedByLimits(readSettings(this.logger), editor.document.getText(selection).length, this.logger)) return undefined;
		const instruction = parseRewriteArgs(args).instruction ?? (await this.askInstruction());
		if (!instruction) return undefined;
		// Not waited for: the picker opens without waiting on the storage write (the history reads back at once).
		void this.remember(instruction);

		// The built-in model is downloaded only after the person agreed (asked here, with its size).
		if (!(await this.sessions.prepare())) return undefined;
		const document = editor.document;
		const task = rewriteTask(
			{ instruction, text: document.getText(selection), languageId: document.languageId },
			{
				template: readSettings(this.logger).rewritePrompt,
				...surroundings(document, selection),
			},
		);
		const context = await vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Window, title: 'Best-of-N: checking the model' },
			() => checkContext(task, readSettings(this.logger), this.logger, url => this.apiKeys.get(url)),
		);
		if (!context.fits) return undefined;
		const run = this.sessions.start({
			task,
			strategy: replaceSelection(this.logger),
			document,
			column: editor.viewColumn,
			selection,
			title: `Best-of-N: ${shorten(instruction, 40)}`,
			numCtx: context.numCtx,
		});
		// No window progress: its spinner would animate the status bar all run (see statusBar.ts).
		const result = await run;
		return result.state;
	}

	private async askInstruction(): Promise<string | undefined> {
		// The model that will generate: on the built-in backend that is bestOfN.builtin.model, not bestOfN.model.
		const settings = runSettings(readSettings());
		const history = this.history();
		const quickPick = vscode.window.createQuickPick();
		quickPick.title = `Best-of-N: ${settings.candidates} rewrites from ${settings.model}`;
		quickPick.placeholder = 'How should the selection be rewritten? (e.g. "make it more concise")';
		quickPick.matchOnDescription = false;
		// An instruction being typed is not lost when focus moves: the picker of the last run closing
		// its group (VS Code then focuses another group) or a click elsewhere. Esc still closes it.
		quickPick.ignoreFocusOut = true;
		trackQuickPick(quickPick);
		const recent = history.map(label => ({ label, description: 'recent' }));
		quickPick.items = recent;
		quickPick.onDidChangeValue(value => {
			const typed = value.trim();
			quickPick.items = typed && !history.includes(typed) ? [{ label: typed, description: 'new instruction' }, ...recent] : recent;
		});
		return new Promise<string | undefined>(resolve => {
			quickPick.onDidAccept(() => {
				const chosen = quickPick.selectedItems[0]?.label ?? quickPick.value.trim();
				resolve(chosen || undefined);
				quickPick.hide();
			});
			quickPick.onDidHide(() => {
				resolve(undefined);
				quickPick.dispose();
			});
			quickPick.show();
		});
	}

	private history(): string[] {
		const value = this.context.globalState.get<unknown>(HISTORY_KEY);
		return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
	}

	private async remember(instruction: string): Promise<void> {
		const size = readSettings().historySize;
		const next = [instruction, ...this.history().filter(h => h !== instruction)].slice(0, size);
		await this.context.globalState.update(HISTORY_KEY, next).then(undefined, (e: unknown) => {
			this.logger.warn(`could not save the instruction history: ${errorMessage(e)}`);
		});
	}
}

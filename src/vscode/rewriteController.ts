/**
 * The rewrite commands: ask for an instruction (with recent ones offered), start a session in a
 * picker, and turn a failed run into a message with its way out. At most one session at a time: a new
 * run replaces (and cancels) the previous one.
 */
import * as vscode from 'vscode';
import { BestOfNError, errorMessage, isCancelled } from '../core/errors';
import type { Logger } from '../core/logger';
import type { PickerState } from '../core/protocol';
import { pullModel } from '../generation/ollamaAdmin';
import type { CandidateDocuments } from './candidateDocuments';
import { openSettings, readSettings } from './config';
import { Disposable } from './dispose';
import type { RewardService } from './rewardService';
import type { RunResult } from '../core/run';
import { RewriteSession, type AcceptOutcome } from './rewriteSession';

const HISTORY_KEY = 'bestOfN.instructionHistory';

/** `{ "instruction": "…" }`, as a keybinding or another extension may pass it. */
export function parseRewriteArgs(value: unknown): { instruction?: string } {
	if (typeof value !== 'object' || value === null) return {};
	const instruction = (value as Record<string, unknown>).instruction;
	return typeof instruction === 'string' && instruction.trim() ? { instruction: instruction.trim() } : {};
}

export class RewriteController extends Disposable {
	private session?: RewriteSession;
	private runIds = 0;

	constructor(
		private readonly context: vscode.ExtensionContext,
		private readonly logger: Logger,
		private readonly rewards: RewardService,
		private readonly documents: CandidateDocuments,
	) {
		super();
	}

	/**
	 * Best-of-N: Rewrite Selection…  Resolves with the run's final picker state (undefined if the user
	 * backed out), so keybindings, other extensions and tests can chain on it.
	 */
	async rewriteSelection(args?: unknown): Promise<PickerState | undefined> {
		const editor = vscode.window.activeTextEditor;
		if (!editor) {
			void vscode.window.showInformationMessage('Best-of-N: open a file and select the text to rewrite.');
			return undefined;
		}
		const selection = editor.selection;
		if (selection.isEmpty || !editor.document.getText(selection).trim()) {
			void vscode.window.showInformationMessage('Best-of-N: select the text to rewrite first.');
			return undefined;
		}
		const instruction = parseRewriteArgs(args).instruction ?? (await this.askInstruction());
		if (!instruction) return undefined;
		await this.remember(instruction);

		const run = this.startSession(editor.document, editor.viewColumn, selection, instruction);
		const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Best-of-N' }, () => run);
		return result.state;
	}

	/**
	 * Opens a picker for a new session and starts its run, then closes the current one (cancelling its
	 * run): in that order, so a reward model download shared by both goes on.
	 */
	private startSession(
		document: vscode.TextDocument,
		column: vscode.ViewColumn | undefined,
		range: vscode.Range,
		instruction: string,
	): Promise<RunResult> {
		const previous = this.session;
		const session = new RewriteSession(document, column, range, instruction, {
			extensionUri: this.context.extensionUri,
			logger: this.logger,
			rewards: this.rewards,
			documents: this.documents,
			nextRunId: () => ++this.runIds,
			reportFailure: (error, failed) => void this.reportFailure(error, () => this.retry(failed)),
			onRunningChanged: () => this.updateRunningKey(),
		});
		this.session = session;
		session.onDidEnd(() => {
			if (this.session === session) this.session = undefined;
			this.updateRunningKey();
		});
		const run = session.startRun();
		previous?.dispose();
		return run;
	}

	/** `bestOfN.running` enables Best-of-N: Cancel; only the current session's run counts. */
	private updateRunningKey(): void {
		void vscode.commands.executeCommand('setContext', 'bestOfN.running', this.session?.running ?? false);
	}

	/**
	 * Retry from an error notification, which can outlive its picker (a pull takes minutes): rerun in
	 * the same picker if it is open, else in a new one, if the selected text is still as it was.
	 */
	private retry(session: RewriteSession): void {
		if (!session.isDisposed) {
			void session.startRun();
			return;
		}
		const again = session.repeatable();
		if (!again) {
			void vscode.window.showInformationMessage('Best-of-N: the selected text changed since; select it and run the command again.');
			return;
		}
		void this.startSession(again.document, again.column, again.range, again.instruction);
	}

	/** Best-of-N: Cancel — stops the current run; its finished candidates stay in the picker. */
	cancel(): void {
		this.session?.cancelRun();
	}

	/** Accepts the candidate at 1-based `rank` (default the best) of the current picker. */
	async acceptCandidate(args?: unknown): Promise<AcceptOutcome | undefined> {
		const session = this.session;
		const state = session?.state;
		if (!session || !state) return undefined;
		const raw = typeof args === 'object' && args !== null ? (args as Record<string, unknown>).rank : undefined;
		const position = typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 ? raw : 1;
		const candidate = state.candidates[position - 1];
		return candidate ? session.accept(candidate.id) : 'unavailable';
	}

	/** The current picker's state, if one is open. */
	get current(): PickerState | undefined {
		return this.session?.state;
	}

	override dispose(): void {
		this.session?.dispose();
		super.dispose();
	}

	private async askInstruction(): Promise<string | undefined> {
		const settings = readSettings();
		const history = this.history();
		const quickPick = vscode.window.createQuickPick();
		quickPick.title = `Best-of-N: ${settings.candidates} rewrites from ${settings.model}`;
		quickPick.placeholder = 'How should the selection be rewritten? (e.g. "make it more concise")';
		quickPick.matchOnDescription = false;
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
		await this.context.globalState.update(HISTORY_KEY, next);
	}

	private async reportFailure(error: BestOfNError, retry: () => void): Promise<void> {
		const settings = readSettings();
		switch (error.kind) {
			case 'unreachable': {
				const choice = await vscode.window.showErrorMessage(error.message, 'Retry', 'Open Settings', 'Show Log');
				if (choice === 'Retry') retry();
				else if (choice === 'Open Settings') void openSettings('ollama.host');
				else if (choice === 'Show Log') void vscode.commands.executeCommand('bestOfN.showLog');
				return;
			}
			case 'model-not-found': {
				const pull = `Pull ${settings.model}`;
				const choice = await vscode.window.showErrorMessage(error.message, pull, 'Choose Another Model', 'Show Log');
				if (choice === pull && (await this.pull(settings.ollamaHost, settings.model))) retry();
				else if (choice === 'Choose Another Model') void openSettings('model');
				else if (choice === 'Show Log') void vscode.commands.executeCommand('bestOfN.showLog');
				return;
			}
			default: {
				const choice = await vscode.window.showErrorMessage(error.message, 'Retry', 'Show Log');
				if (choice === 'Retry') retry();
				else if (choice === 'Show Log') void vscode.commands.executeCommand('bestOfN.showLog');
			}
		}
	}

	/** Pulls a model with streamed, cancellable progress. Resolves true when it is installed. */
	private pull(host: string, model: string): Thenable<boolean> {
		return vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: `Pulling ${model}`, cancellable: true },
			async (progress, token) => {
				const controller = new AbortController();
				const sub = token.onCancellationRequested(() => controller.abort());
				let last = 0;
				try {
					await pullModel(host, model, controller.signal, p => {
						const percent = p.percent ?? last;
						progress.report({ message: p.status, increment: Math.max(0, percent - last) });
						last = percent;
					});
					this.logger.info(`pulled ${model} from ${host}`);
					return true;
				} catch (e) {
					if (!isCancelled(e)) void vscode.window.showErrorMessage(`Pulling ${model} failed: ${errorMessage(e)}`);
					return false;
				} finally {
					sub.dispose();
				}
			},
		);
	}
}

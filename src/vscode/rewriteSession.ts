/**
 * One picker and the runs shown in it: the first run and any Regenerate after it, all rewriting the
 * same selection. The session owns its lifetime's disposables (panel, run, document listener); the
 * first of accept, close, cancel-and-close or a new session ends it and cancels whatever still runs.
 */
import * as vscode from 'vscode';
import { BestOfNError, errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import type { RewriteInput } from '../core/prompt';
import type { PickerState, WebviewToHost } from '../core/protocol';
import { BestOfNRun, type RunResult } from '../core/run';
import { TrackedRange } from '../core/trackedRange';
import { OllamaGenerator } from '../generation/ollamaGenerator';
import type { CandidateDocuments } from './candidateDocuments';
import { readSettings } from './config';
import { Disposable } from './dispose';
import { PickerPanel } from './pickerPanel';
import type { RewardService } from './rewardService';

export interface SessionDeps {
	readonly extensionUri: vscode.Uri;
	readonly logger: Logger;
	readonly rewards: RewardService;
	readonly documents: CandidateDocuments;
	readonly nextRunId: () => number;
	/** Shows a failed run's error with its way out (retrying is the controller's: the picker may be gone by then). */
	readonly reportFailure: (error: BestOfNError, session: RewriteSession) => void;
	/** A run started or ended here (the controller keeps the `bestOfN.running` context key). */
	readonly onRunningChanged: () => void;
}

export type AcceptOutcome = 'applied' | 'conflict' | 'unavailable' | 'failed';

export class RewriteSession extends Disposable {
	private readonly range: TrackedRange;
	private readonly panel: PickerPanel;
	private readonly input: RewriteInput;
	/** The selection exactly as it is in the document (its own line endings), for the conflict check. */
	private readonly originalRaw: string;
	private run?: BestOfNRun;
	private runListener?: { dispose(): void };
	private lastState?: PickerState;
	private disposed = false;
	private accepting = false;
	/** Every run shown here (Regenerate adds one), whose diff documents go with the picker. */
	private readonly runIds: number[] = [];
	private readonly ended = new vscode.EventEmitter<void>();
	/** Fires once, when the session is over (accepted, closed or replaced). */
	readonly onDidEnd = this.ended.event;

	constructor(
		private readonly document: vscode.TextDocument,
		/** The column of the editor the run started from. */
		private readonly column: vscode.ViewColumn | undefined,
		selection: vscode.Range,
		instruction: string,
		private readonly deps: SessionDeps,
	) {
		super();
		this.originalRaw = document.getText(selection);
		this.range = new TrackedRange(document.offsetAt(selection.start), document.offsetAt(selection.end));
		this.input = { instruction, text: this.originalRaw.replace(/\r\n/g, '\n'), languageId: document.languageId };
		this.panel = this._register(
			PickerPanel.create(deps.extensionUri, `Best-of-N: ${shorten(instruction, 40)}`, vscode.ViewColumn.Beside, deps.logger),
		);
		this._register(this.panel.onMessage(m => void this.onMessage(m)));
		this._register(this.panel.onDidDispose(() => this.dispose()));
		this._register(
			vscode.workspace.onDidChangeTextDocument(e => {
				if (e.document === this.document) this.range.update(e.contentChanges);
			}),
		);
	}

	/** The latest snapshot shown in the picker. */
	get state(): PickerState | undefined {
		return this.lastState;
	}

	/** Whether a run is generating or ranking now. */
	get running(): boolean {
		return !this.disposed && (this.lastState?.phase === 'generating' || this.lastState?.phase === 'scoring');
	}

	/**
	 * Starts a run and resolves when it ends. The run before it (Regenerate) is cancelled only once the
	 * new one has started: a reward model still downloading for the old run keeps downloading for the
	 * new one instead of being dropped with its last waiter.
	 */
	startRun(): Promise<RunResult> {
		const previous = this.run;
		const previousListener = this.runListener;
		const settings = readSettings(this.deps.logger);
		const { scorer, reason } = this.deps.rewards.scorerFor(settings);
		const run = new BestOfNRun({
			runId: this.deps.nextRunId(),
			input: this.input,
			settings,
			generator: new OllamaGenerator({ host: settings.ollamaHost, logger: this.deps.logger }),
			scorer,
			rankerReason: reason,
			logger: this.deps.logger,
		});
		this.run = run;
		this.runIds.push(run.snapshot().runId);
		this.runListener = run.onState(state => this.show(state));
		this.show(run.snapshot());
		this.deps.logger.info(
			`run ${run.snapshot().runId}: ${settings.candidates} × ${settings.model} at ${settings.ollamaHost}, ranker ${settings.ranker}`,
		);
		const result = run.start();
		previousListener?.dispose();
		previous?.cancel();
		this.deps.onRunningChanged();
		void result.then(({ state, error }) => {
			this.deps.onRunningChanged();
			const best = state.candidates[0];
			this.deps.logger.info(
				`run ${state.runId} ${state.phase} in ${((state.elapsedMs ?? 0) / 1000).toFixed(1)} s: ` +
					`${state.candidates.filter(c => c.status === 'done').length} candidates, ranked by ${state.ranker.label}` +
					(best?.score !== undefined ? `, best ${best.score.toFixed(3)}` : ''),
			);
			if (error && run === this.run && !this.disposed) this.deps.reportFailure(error, this);
		});
		return result;
	}

	/** Stops generation and scoring; what completed stays in the picker, still acceptable. */
	cancelRun(): void {
		this.run?.cancel();
	}

	/** Whether the picker is gone (accepted, closed or replaced). */
	override get isDisposed(): boolean {
		return this.disposed;
	}

	/**
	 * Where and what a fresh session would rewrite to repeat this one, or undefined when the selected
	 * text has changed or its document is closed since.
	 */
	repeatable():
		{ document: vscode.TextDocument; column: vscode.ViewColumn | undefined; range: vscode.Range; instruction: string } | undefined {
		const doc = this.document;
		if (doc.isClosed || this.range.changed) return undefined;
		const range = new vscode.Range(doc.positionAt(this.range.start), doc.positionAt(this.range.end));
		if (doc.getText(range) !== this.originalRaw) return undefined;
		return { document: doc, column: this.column, range, instruction: this.input.instruction };
	}

	/** Applies candidate `id` over the original selection as one undoable edit, unless the text changed. */
	async accept(id: number): Promise<AcceptOutcome> {
		// Enter twice, or a digit then Enter: the second must not see the first edit as the user's.
		if (this.accepting) return 'unavailable';
		this.accepting = true;
		try {
			return await this.applyCandidate(id);
		} finally {
			this.accepting = false;
		}
	}

	private async applyCandidate(id: number): Promise<AcceptOutcome> {
		const text = this.run?.candidateText(id);
		if (text === undefined) return 'unavailable';
		const doc = this.document;
		const start = doc.isClosed ? undefined : doc.positionAt(this.range.start);
		const end = doc.isClosed ? undefined : doc.positionAt(this.range.end);
		if (!start || !end || this.range.changed || doc.getText(new vscode.Range(start, end)) !== this.originalRaw) {
			void this.offerInstead(text);
			return 'conflict';
		}
		const replacement = doc.eol === vscode.EndOfLine.CRLF ? text.replace(/\r?\n/g, '\r\n') : text;
		const edit = new vscode.WorkspaceEdit();
		edit.replace(doc.uri, new vscode.Range(start, end), replacement);
		let ok = false;
		try {
			ok = await vscode.workspace.applyEdit(edit);
		} catch (e) {
			this.deps.logger.error(`applying the candidate failed: ${errorMessage(e)}`);
		}
		if (!ok) {
			void vscode.window.showErrorMessage(
				'Best-of-N could not edit the document (it may be read-only). The candidate is unchanged in the picker.',
			);
			return 'failed';
		}
		// Back to the editor the selection came from, not a second copy in the picker's group.
		const column = vscode.window.visibleTextEditors.find(e => e.document === doc)?.viewColumn ?? this.column;
		const editor = await vscode.window.showTextDocument(doc, { viewColumn: column, preserveFocus: false, preview: false });
		const from = doc.positionAt(this.range.start);
		const to = doc.positionAt(this.range.start + replacement.length);
		editor.selection = new vscode.Selection(from, to);
		editor.revealRange(new vscode.Range(from, to));
		this.dispose();
		return 'applied';
	}

	/** Opens VS Code's diff editor: the original selection against candidate `id`. */
	async openDiff(id: number): Promise<void> {
		const state = this.lastState;
		const candidate = state?.candidates.find(c => c.id === id);
		if (!state || !candidate) return;
		const name = this.document.fileName;
		const left = this.deps.documents.put(state.runId, 'original', name, state.original);
		const right = this.deps.documents.put(state.runId, `candidate-${id + 1}`, name, candidate.text);
		const rank = candidate.rank ? `#${candidate.rank}` : `candidate ${id + 1}`;
		await vscode.commands.executeCommand('vscode.diff', left, right, `Original ↔ Best-of-N ${rank}`, {
			viewColumn: vscode.ViewColumn.Beside,
			preview: true,
		});
	}

	override dispose(): void {
		if (this.disposed) return;
		this.disposed = true;
		this.runListener?.dispose();
		this.cancelRun();
		for (const runId of this.runIds) this.deps.documents.forgetRun(runId);
		super.dispose();
		this.ended.fire();
		this.deps.onRunningChanged();
		this.ended.dispose();
	}

	private show(state: PickerState): void {
		this.lastState = state;
		if (!this.disposed) this.panel.update(state);
	}

	private async onMessage(message: WebviewToHost): Promise<void> {
		switch (message.type) {
			case 'ready':
				return; // the panel re-posts the latest snapshot itself
			case 'accept':
				await this.accept(message.id);
				return;
			case 'openDiff':
				await this.openDiff(message.id);
				return;
			case 'copy': {
				const text = this.lastState?.candidates.find(c => c.id === message.id)?.text;
				if (text !== undefined) {
					await vscode.env.clipboard.writeText(text);
					vscode.window.setStatusBarMessage('Best-of-N: candidate copied', 2000);
				}
				return;
			}
			case 'cancel':
				this.cancelRun();
				return;
			case 'regenerate':
				void this.startRun();
				return;
			case 'close':
				this.dispose();
				return;
			case 'showLog':
				void vscode.commands.executeCommand('bestOfN.showLog');
				return;
			default: {
				const never: never = message;
				this.deps.logger.debug(`unhandled picker message ${JSON.stringify(never)}`);
			}
		}
	}

	/** The selection changed under the run: offer the candidate elsewhere, overwrite nothing. */
	private async offerInstead(text: string): Promise<void> {
		const choice = await vscode.window.showWarningMessage(
			'The selected text changed while Best-of-N was running, so nothing was replaced.',
			'Open Side by Side',
			'Copy to Clipboard',
		);
		if (choice === 'Open Side by Side') {
			const doc = await vscode.workspace.openTextDocument({ content: text, language: this.document.languageId });
			await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false });
		} else if (choice === 'Copy to Clipboard') {
			await vscode.env.clipboard.writeText(text);
		}
	}
}

function shorten(text: string, max: number): string {
	const line = text.replace(/\s+/g, ' ').trim();
	return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The one owner of "the current picker session", whatever its task: it starts sessions (a new one
 * replaces and cancels the previous), answers Best-of-N: Cancel and Accept Best Candidate, keeps the
 * `bestOfN.running` context key right, turns a failed run into a message with its way out, and
 * re-fires every session's `onDidAccept` for listeners that outlive sessions (a preference log).
 */
import * as vscode from 'vscode';
import { type BestOfNError, errorMessage, isCancelled } from '../core/errors';
import type { Logger } from '../core/logger';
import type { PickerState } from '../core/protocol';
import type { RunResult } from '../core/run';
import type { GenerationBackend } from '../core/generation';
import { keyOf, type Settings } from '../core/settings';
import { createBackend } from '../generation/backends';
import type { AgreementCache } from './agreementCache';
import type { ApiKeys } from './apiKeys';
import type { BuiltinService } from './builtinService';
import { SCHEME, type CandidateDocuments } from './candidateDocuments';
import { openSettings, readSettings } from './config';
import { Disposable } from './dispose';
import { PickerSession, type AcceptEvent, type AcceptOutcome, type SessionSpec } from './pickerSession';
import type { RewardService } from './rewardService';

/** An error message as a person sees it: its text and the buttons beside it. */
export interface FailureView {
	readonly message: string;
	readonly buttons: readonly string[];
}

export class Sessions extends Disposable {
	private session?: PickerSession;
	private runIds = 0;
	private shownFailure?: FailureView;
	private readonly accepted = this._register(new vscode.EventEmitter<AcceptEvent>());
	/** A candidate was accepted in any session: the run's whole state and the chosen id. */
	readonly onDidAccept = this.accepted.event;
	private readonly runningChanged = this._register(new vscode.EventEmitter<void>());
	/** A run started or ended (the status bar follows it). */
	readonly onDidChangeRunning = this.runningChanged.event;

	constructor(
		private readonly extensionUri: vscode.Uri,
		private readonly logger: Logger,
		private readonly rewards: RewardService,
		private readonly documents: CandidateDocuments,
		private readonly apiKeys: ApiKeys,
		private readonly builtin: BuiltinService,
		private readonly agreement?: AgreementCache,
	) {
		super();
	}

	/** The document the current picker rewrites, while one is open. */
	get document(): vscode.TextDocument | undefined {
		return this.session?.spec.document;
	}

	/** The current picker's state, if one is open. */
	get current(): PickerState | undefined {
		return this.session?.state;
	}

	/** The failed run's error message and its buttons, while it is on screen (for diagnostics and tests). */
	get failure(): FailureView | undefined {
		return this.shownFailure;
	}

	/**
	 * Opens a picker for a new session and starts its run, then closes the current one (cancelling its
	 * run): in that order, so a reward model download shared by both goes on. Resolves when the run ends.
	 */
	start(spec: SessionSpec): Promise<RunResult> {
		const previous = this.session;
		const session = this.open(spec);
		const run = session.startRun();
		previous?.dispose();
		return run;
	}

	/**
	 * Whether a run can start with the current settings: with the built-in backend, its model is on
	 * this machine, or the person agreed to download it now (asked with its size) and it loaded.
	 */
	async prepare(): Promise<boolean> {
		const settings = readSettings(this.logger);
		if (settings.backend !== 'builtin' || !this.builtin.needsDownload(settings)) return true;
		return this.builtin.ensureReady(settings);
	}

	/** Opens a picker on a finished run's state again, without generating anything. */
	reopen(spec: SessionSpec, state: PickerState): PickerSession {
		const previous = this.session;
		const session = this.open(spec);
		session.replay(state);
		previous?.dispose();
		return session;
	}

	/** Best-of-N: Cancel — stops the current run; its finished candidates stay in the picker. */
	cancel(): void {
		this.session?.cancelRun();
	}

	/** Accepts the candidate at 1-based `rank` (default the best) of the current picker. */
	async acceptCandidate(args?: unknown): Promise<AcceptOutcome | undefined> {
		const session = this.session;
		const candidate = session && candidateAt(session.state, args);
		if (!session?.state) return undefined;
		return candidate ? session.accept(candidate.id) : 'unavailable';
	}

	/** Opens the diff editor on the candidate at 1-based `rank` (default the best), as the picker's `d` does. */
	async compareCandidate(args?: unknown): Promise<boolean> {
		const session = this.session;
		const candidate = session && candidateAt(session.state, args);
		if (!session || !candidate) {
			void vscode.window.showInformationMessage('Best-of-N: no picker with a finished candidate is open.');
			return false;
		}
		return session.openDiff(candidate.id);
	}

	/** Accept, from the diff editor's title bar or its keybinding: applies the candidate the diff shows. */
	async acceptDiff(uri?: unknown): Promise<AcceptOutcome | undefined> {
		const shown = diffUri(uri);
		const session = this.session;
		if (!shown || !session?.ownsDiff(shown)) {
			void vscode.window.showInformationMessage('Best-of-N: this diff belongs to a picker that is closed; run the rewrite again.');
			return undefined;
		}
		return session.acceptDiff(shown);
	}

	/** Next/Previous Candidate in the diff editor. */
	async stepDiff(delta: 1 | -1, uri?: unknown): Promise<void> {
		const shown = diffUri(uri);
		if (shown && this.session?.ownsDiff(shown)) await this.session.stepDiff(delta);
	}

	/** What the current session is asking the user, while it waits for the answer. */
	get question(): string | undefined {
		return this.session?.question;
	}

	override dispose(): void {
		this.session?.dispose();
		super.dispose();
	}

	private open(spec: SessionSpec): PickerSession {
		const session = new PickerSession(spec, {
			extensionUri: this.extensionUri,
			logger: this.logger,
			rewards: this.rewards,
			documents: this.documents,
			apiKeys: this.apiKeys,
			builtin: this.builtin,
			nextRunId: () => ++this.runIds,
			reportFailure: (error, failed) => void this.reportFailure(error, () => this.retry(failed)),
			onRunningChanged: () => this.updateRunningKey(),
			agreement: this.agreement && (state => this.agreement!.for(state)),
			// A new picker takes the place of the one it replaces, not a third column.
			pickerColumn: this.session?.pickerColumn,
		});
		this.session = session;
		session.onDidAccept(e => this.accepted.fire(e));
		session.onDidEnd(() => {
			if (this.session === session) this.session = undefined;
			this.updateRunningKey();
		});
		return session;
	}

	/** `bestOfN.running` enables Best-of-N: Cancel; only the current session's run counts. */
	private updateRunningKey(): void {
		void vscode.commands.executeCommand('setContext', 'bestOfN.running', this.running);
		this.runningChanged.fire();
	}

	/** Whether the current session's run is generating or ranking. */
	get running(): boolean {
		return this.session?.running ?? false;
	}

	/**
	 * Retry from an error notification, which can outlive its picker (a pull takes minutes): rerun in
	 * the same picker if it is open, else in a new one, if the selected text is still as it was.
	 */
	private retry(session: PickerSession): void {
		if (!session.isDisposed) {
			void session.startRun();
			return;
		}
		const again = session.repeatable();
		if (!again) {
			void vscode.window.showInformationMessage('Best-of-N: the selected text changed since; select it and run the command again.');
			return;
		}
		void this.start(again);
	}

	/**
	 * The error's text with buttons for its way out: Pull when the model is missing and the backend can
	 * pull, Open Settings on the setting the error names, Retry unless retrying would fail the same way.
	 */
	private async reportFailure(error: BestOfNError, retry: () => void): Promise<void> {
		const settings = readSettings();
		const backend = createBackend(settings, { logger: this.logger, builtin: s => this.builtin.generatorFor(s) });
		// No server answered: the built-in model needs none. Its size is part of the offer.
		const useBuiltin = error.kind === 'unreachable' && settings.backend !== 'builtin' ? await this.builtinOffer(settings) : undefined;
		const pull = error.kind === 'model-not-found' && backend.pullModel ? `Pull ${settings.model}` : undefined;
		const setKey = error.kind === 'unauthorized' ? 'Set API Key…' : undefined;
		const open = error.setting ? (error.setting === 'model' ? 'Choose Another Model' : 'Open Settings') : undefined;
		const canRetry = error.kind !== 'model-not-found' && error.kind !== 'unauthorized';
		const buttons = [useBuiltin, pull, setKey, canRetry ? 'Retry' : undefined, open, 'Show Log'].filter(
			(b): b is string => b !== undefined,
		);
		const shown: FailureView = { message: error.message, buttons };
		this.shownFailure = shown;
		let choice: string | undefined;
		try {
			choice = await vscode.window.showErrorMessage(error.message, ...buttons);
		} finally {
			if (this.shownFailure === shown) this.shownFailure = undefined;
		}
		if (choice === undefined) return;
		if (choice === useBuiltin) {
			// The button stated the size: clicking it is the yes to the download.
			if (await this.builtin.useAsBackend(settings, { alreadyAgreed: true })) retry();
		} else if (choice === pull) {
			if (await this.pull(backend, settings.model)) retry();
		} else if (choice === setKey) {
			if (await this.apiKeys.set()) retry();
		} else if (choice === 'Retry') retry();
		else if (choice === open && error.setting === 'model') void vscode.commands.executeCommand('bestOfN.selectModel');
		else if (choice === open && error.setting) void openSettings(keyOf(error.setting));
		else if (choice === 'Show Log') void vscode.commands.executeCommand('bestOfN.showLog');
	}

	/** "Use the Built-in Model (646 MB)": the label states what clicking it downloads. */
	private async builtinOffer(settings: Settings): Promise<string> {
		const size = await this.builtin.downloadSize(settings, 3000);
		return `Use the Built-in Model${size ? ` (${size})` : ''}`;
	}

	/** Pulls a model with streamed, cancellable progress. Resolves true when it is installed. */
	private pull(backend: GenerationBackend, model: string): Thenable<boolean> {
		const pullModel = backend.pullModel;
		if (!pullModel) return Promise.resolve(false);
		return vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: `Pulling ${model}`, cancellable: true },
			async (progress, token) => {
				const controller = new AbortController();
				const sub = token.onCancellationRequested(() => controller.abort());
				let last = 0;
				try {
					await pullModel(model, controller.signal, p => {
						const percent = p.percent ?? last;
						progress.report({ message: p.status, increment: Math.max(0, percent - last) });
						last = percent;
					});
					this.logger.info(`pulled ${model} from ${backend.host}`);
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

/** The candidate at `{ "rank": n }` (1-based, in the picker's order; default the first). */
function candidateAt(state: PickerState | undefined, args: unknown): PickerState['candidates'][number] | undefined {
	const raw = typeof args === 'object' && args !== null ? (args as Record<string, unknown>).rank : undefined;
	const position = typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 ? raw : 1;
	return state?.candidates[position - 1];
}

/** The `bestofn:` document of the diff a command came from: the title-bar menu passes it, a keybinding does not. */
function diffUri(arg: unknown): vscode.Uri | undefined {
	if (arg instanceof vscode.Uri && arg.scheme === SCHEME) return arg;
	const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
	return input instanceof vscode.TabInputTextDiff && input.modified.scheme === SCHEME ? input.modified : undefined;
}

/**
 * One picker and the runs shown in it: the first run and any Regenerate after it, all on the same
 * task and selection. What accepting a candidate means (replace the selection, show it inline) is the
 * strategy it is given; the session only dispatches the picker's messages, switches runs, and tells
 * `onDidAccept` listeners which candidate of which run was chosen. It owns its lifetime's disposables
 * (panel, run, document listener); the first of accept, close or a new session ends it and cancels
 * whatever still runs.
 */
import * as vscode from 'vscode';
import { errorMessage, type BestOfNError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { PickerState, RankerAgreementView, WebviewToHost } from '../core/protocol';
import { BestOfNRun, type RunResult } from '../core/run';
import type { Task } from '../core/tasks/task';
import { TrackedRange } from '../core/trackedRange';
import { createBackend } from '../generation/backends';
import type { ApiKeys } from './apiKeys';
import type { BuiltinService } from './builtinService';
import { confirmCutCandidate, cutQuestion, focusEditorAfterPick, hasTab, type PickPlace, visibleEditor } from './applyEdit';
import { CandidateDiff, parseCandidateUri } from './candidateDiff';
import type { CandidateDocuments } from './candidateDocuments';
import { generationHost, runSettings } from '../core/settings';
import { readSettings } from './config';
import { Disposable } from './dispose';
import { isPickerTab, PickerPanel, type PickerPlace } from './pickerPanel';
import { currentPick } from './pickTracker';
import type { RewardService } from './rewardService';

/** `cancelled`: the candidate was cut at the token limit and the user chose not to apply it. */
export type AcceptOutcome = 'applied' | 'conflict' | 'unavailable' | 'failed' | 'cancelled';

/** Where the selection a session works on is now, and whether it still holds the text it had. */
export interface SessionTarget extends PickPlace {
	/** The column of the editor the run started from. */
	readonly column: vscode.ViewColumn | undefined;
	/** Undefined once the document is closed. */
	readonly range: vscode.Range | undefined;
	/** The selected text exactly as it was (its own line endings). */
	readonly originalRaw: string;
	/** Whether the text at `range` is still `originalRaw` and no edit touched it. */
	readonly unchanged: boolean;
}

/** What accepting a candidate does for one task. */
export interface AcceptStrategy {
	/** Acts on the chosen candidate; `applied` ends the session, anything else keeps the picker open. */
	accept(
		candidate: { readonly id: number; readonly text: string; readonly state: PickerState },
		target: SessionTarget,
	): Promise<AcceptOutcome>;
}

/** What a session is started from; a Retry after its picker closed starts a new one from the same spec. */
export interface SessionSpec {
	readonly task: Task;
	readonly strategy: AcceptStrategy;
	readonly document: vscode.TextDocument;
	readonly column: vscode.ViewColumn | undefined;
	readonly selection: vscode.Range;
	/** The picker tab's title. */
	readonly title: string;
	/** `num_ctx` to send when `bestOfN.contextLength` is 0, so the selection fits (see `checkContext`). */
	readonly numCtx?: number;
}

/** Fired when a candidate was accepted: the whole state of the run it came from, and its id. */
export interface AcceptEvent {
	readonly state: PickerState;
	readonly id: number;
	readonly task: Task;
	/** The document the selection is in (the preference log skips untitled and excluded ones). */
	readonly document: vscode.TextDocument;
	/** Chosen from a run shown again (`replay`, for Show Other Candidates): a pick from it came before. */
	readonly again: boolean;
}

export interface SessionDeps {
	readonly extensionUri: vscode.Uri;
	readonly logger: Logger;
	readonly rewards: RewardService;
	readonly documents: CandidateDocuments;
	readonly apiKeys: ApiKeys;
	readonly builtin: BuiltinService;
	readonly nextRunId: () => number;
	/** Shows a failed run's error with its way out (retrying is the owner's: the picker may be gone by then). */
	readonly reportFailure: (error: BestOfNError, session: PickerSession) => void;
	/** A run started or ended here (the owner keeps the `bestOfN.running` context key). */
	readonly onRunningChanged: () => void;
	/** The ranker's agreement with the person's recorded picks, for the header. */
	readonly agreement?: (state: PickerState) => RankerAgreementView | undefined;
	/** Where to open the picker: the column of the picker this session replaces, else beside the editor. */
	readonly pickerColumn?: vscode.ViewColumn;
}

export class PickerSession extends Disposable {
	private readonly range: TrackedRange;
	private readonly panel: PickerPanel;
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
	private readonly accepted = new vscode.EventEmitter<AcceptEvent>();
	/** Fires when a candidate was accepted, before the session ends. */
	readonly onDidAccept = this.accepted.event;
	private readonly diff: CandidateDiff;
	private _question: string | undefined;
	/** The current run's own snapshot, before the session adds what it knows (agreement, built-in speed). */
	private runState?: PickerState;
	/** Whether the current run generates with the built-in model. */
	private builtinRun = false;
	/** The key of the run `replay` showed again, whose earlier pick a new one replaces. */
	private replayedRunKey?: string;

	constructor(
		readonly spec: SessionSpec,
		private readonly deps: SessionDeps,
	) {
		super();
		const { document, selection } = spec;
		this.originalRaw = document.getText(selection);
		this.range = new TrackedRange(document.offsetAt(selection.start), document.offsetAt(selection.end));
		this.diff = this._register(
			new CandidateDiff({
				target: () => this.target(),
				documents: deps.documents,
				current: () => this.lastState && { runId: this.lastState.runId, candidates: this.lastState.candidates },
			}),
		);
		this.panel = this._register(
			PickerPanel.create(deps.extensionUri, spec.title, deps.pickerColumn ?? vscode.ViewColumn.Beside, deps.logger),
		);
		this._register(this.panel.onMessage(m => void this.onMessage(m)));
		this._register(
			this.panel.onDidDispose(({ wasActive }) => {
				// Closed by the user (its tab's ×, Ctrl+W) while it had focus: focus goes back to the editor.
				// Later, not now: when every editor is being closed (Close All) the picker may go first, and
				// focusing the document then would open it again after the rest close.
				if (!this.disposed && wasActive) setTimeout(() => void this.focusEditor(undefined), 100);
				this.dispose();
			}),
		);
		// The speed is measured when the built-in model's batch ends, which may be after the run's last snapshot.
		this._register(
			deps.builtin.onDidMeasureSpeed(() => {
				if (this.builtinRun && this.runState) this.show(this.runState);
			}),
		);
		this._register(
			vscode.workspace.onDidChangeTextDocument(e => {
				if (e.document !== document) return;
				this.range.update(e.contentChanges);
				this.diff.refresh();
			}),
		);
	}

	/** The question this session waits on the user for (applying a cut candidate), while it is on screen. */
	get question(): string | undefined {
		return this._question;
	}

	/** The column the picker is in, while it is open. */
	get pickerColumn(): vscode.ViewColumn | undefined {
		return this.disposed ? undefined : this.panel.viewColumn;
	}

	/** Whether `uri` is one side of a diff this session opened (a document of one of its runs). */
	ownsDiff(uri: vscode.Uri): boolean {
		const parsed = parseCandidateUri(uri);
		return parsed !== undefined && this.runIds.includes(parsed.runId);
	}

	/** Accepts the candidate a diff of the current run shows, as the picker would. */
	acceptDiff(uri: vscode.Uri): Promise<AcceptOutcome> {
		const parsed = parseCandidateUri(uri);
		if (!parsed || parsed.runId !== this.lastState?.runId) return Promise.resolve('unavailable');
		return this.accept(parsed.id);
	}

	/** Shows the next or previous candidate in the open diff. */
	stepDiff(delta: 1 | -1): Promise<boolean> {
		return this.diff.step(delta);
	}

	/**
	 * Focus back to the group of the editor the selection came from (by its position, never by showing
	 * the document: see `focusEditorAfterPick`), if it is still on screen and the person has not gone
	 * to another file meanwhile (opened from the explorer between Enter and the picker going) or opened
	 * one of Best-of-N's boxes (the next rewrite's instruction), which focus would close.
	 * `picker`: where the picker was; undefined when the person closed it themselves.
	 */
	private async focusEditor(picker: PickerPlace | undefined): Promise<void> {
		if (currentPick() || (picker && this.wentElsewhere(picker))) return;
		const editor = visibleEditor(this.spec.document);
		// Only an editor still open: showTextDocument would open a closed one again.
		if (!editor || !hasTab(this.spec.document.uri)) return;
		try {
			await focusEditorAfterPick(editor);
		} catch (e) {
			this.deps.logger.debug(`could not focus the editor again: ${errorMessage(e)}`);
		}
	}

	/**
	 * Whether the person has moved on: one of Best-of-N's boxes is open (a command begun while the
	 * picker went), or the active tab is one the person went to: not the picker, the document or one of
	 * its diffs. Read from the tabs, which show a file being opened before its editor is ready. Another tab
	 * in the picker's column, when the picker shares its group, is VS Code's doing: closing the picker
	 * shows the tab next to it. A group of the picker's own closes with it (and the columns right of it
	 * move one to the left).
	 */
	private wentElsewhere(picker: PickerPlace | undefined): boolean {
		if (currentPick()) return true;
		const group = vscode.window.tabGroups.activeTabGroup;
		const tab = group.activeTab;
		if (!tab || isPickerTab(tab) || (picker && !picker.alone && group.viewColumn === picker.column)) return false;
		const input = tab.input;
		const uri =
			input instanceof vscode.TabInputText ? input.uri : input instanceof vscode.TabInputTextDiff ? input.modified : undefined;
		return uri?.toString() !== this.spec.document.uri.toString() && !(uri && this.ownsDiff(uri));
	}

	/** The latest snapshot shown in the picker. */
	get state(): PickerState | undefined {
		return this.lastState;
	}

	/** Whether a run is generating or ranking now. */
	get running(): boolean {
		return !this.disposed && (this.lastState?.phase === 'generating' || this.lastState?.phase === 'scoring');
	}

	/** Whether the picker is gone (accepted, closed or replaced). */
	override get isDisposed(): boolean {
		return this.disposed;
	}

	/**
	 * Starts a run and resolves when it ends. The run before it (Regenerate) is cancelled only once the
	 * new one has started: a reward model still downloading for the old run keeps downloading for the
	 * new one instead of being dropped with its last waiter.
	 */
	startRun(): Promise<RunResult> {
		// A diff of the run before would show candidates the picker no longer lists.
		void this.diff.close();
		const previous = this.run;
		const previousListener = this.runListener;
		const read = runSettings(readSettings(this.deps.logger));
		const settings = read.contextLength === 0 && this.spec.numCtx ? { ...read, contextLength: this.spec.numCtx } : read;
		const { scorer, reason, notice } = this.deps.rewards.scorerFor(settings);
		const run = new BestOfNRun({
			runId: this.deps.nextRunId(),
			task: this.spec.task,
			settings,
			generator: createBackend(settings, {
				logger: this.deps.logger,
				apiKey: url => this.deps.apiKeys.get(url),
				// Never a download nobody agreed to: Sessions.prepare asks before the first run.
				builtin: s => (this.deps.builtin.needsDownload(s) ? undefined : this.deps.builtin.generatorFor(s)),
			}),
			scorer,
			rankerReason: reason,
			rankerNotice: notice,
			logger: this.deps.logger,
		});
		this.run = run;
		this.builtinRun = settings.backend === 'builtin';
		this.runIds.push(run.snapshot().runId);
		this.runListener = run.onState(state => this.show(state));
		this.show(run.snapshot());
		this.deps.logger.info(
			`run ${run.snapshot().runId} (${this.spec.task.view.kind}): ${settings.candidates} × ${settings.model} at ${generationHost(settings)} (${settings.backend}), ranker ${settings.ranker}`,
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

	/** Shows a finished run's state again (no generation): its candidates can be accepted as before. */
	replay(state: PickerState): void {
		this.builtinRun = false; // the state carries what was said about its run
		this.runIds.push(state.runId);
		this.replayedRunKey = state.runKey;
		this.show(state);
	}

	/** Stops generation and scoring; what completed stays in the picker, still acceptable. */
	cancelRun(): void {
		this.run?.cancel();
	}

	/** Where the selection is now, and whether it still holds the text the session started from. */
	target(): SessionTarget {
		const doc = this.spec.document;
		const range = doc.isClosed ? undefined : new vscode.Range(doc.positionAt(this.range.start), doc.positionAt(this.range.end));
		const unchanged = !!range && !this.range.changed && doc.getText(range) === this.originalRaw;
		const place = this.panel.place;
		// In a tab but off screen while the picker has a group of its own: a file the person opened since
		// took its place. (A document whose tab was closed is shown again with the change.)
		const onScreen = !!visibleEditor(doc);
		const hidden = !!place?.alone && !onScreen && hasTab(doc.uri);
		const takeFocus = !this.wentElsewhere(place) && !hidden;
		return { document: doc, column: this.spec.column, range, originalRaw: this.originalRaw, unchanged, takeFocus, onScreen };
	}

	/** The spec of a fresh session on the same selection, or undefined when its text changed or its document closed. */
	repeatable(): SessionSpec | undefined {
		const target = this.target();
		return target.unchanged && target.range ? { ...this.spec, selection: target.range } : undefined;
	}

	/** Accepts candidate `id` through the task's strategy; a second accept while one is under way is refused. */
	async accept(id: number): Promise<AcceptOutcome> {
		// Enter twice, or a digit then Enter: the second must not see the first edit as the user's.
		if (this.accepting) return 'unavailable';
		this.accepting = true;
		try {
			const state = this.lastState;
			const view = state?.candidates.find(c => c.id === id && c.status === 'done');
			const text = view?.text;
			if (!state || !view || text === undefined) return 'unavailable';
			if (state.task.diffable && view.doneReason === 'length') {
				// Cut at the token limit: it most likely ends mid-way, so it replaces nothing unasked.
				const name = view.rank ? `Best-of-N #${view.rank}` : `Best-of-N candidate ${id + 1}`;
				const confirmed = await confirmCutCandidate(name, text, state.original, () => (this._question = cutQuestion(name))).finally(
					() => (this._question = undefined),
				);
				if (!confirmed) return 'cancelled';
				if (this.disposed) return 'unavailable'; // the picker went away while the question was open
			}
			const outcome = await this.spec.strategy.accept({ id, text, state }, this.target());
			if (outcome === 'applied') {
				const again = state.runKey === this.replayedRunKey;
				this.accepted.fire({ state, id, task: this.spec.task, document: this.spec.document, again });
				const place = this.panel.place;
				// The editor has the keyboard at once, and again once the picker has gone (its page could
				// take it back while going), so the next keys typed go there.
				await this.focusEditor(place);
				const closed = this.panel.close();
				this.dispose();
				await closed;
				await this.focusEditor(place);
			}
			return outcome;
		} finally {
			this.accepting = false;
		}
	}

	/**
	 * Opens VS Code's diff editor (diffable tasks only): the document against the document with
	 * candidate `id` in place of the selection.
	 */
	async openDiff(id: number): Promise<boolean> {
		if (!this.lastState?.task.diffable) return false;
		return this.diff.open(id);
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
		this.accepted.dispose();
	}

	private show(state: PickerState): void {
		this.runState = state;
		const agreement = this.deps.agreement?.(state);
		const builtin = this.builtinRun ? { tokensPerSecond: this.deps.builtin.lastSpeed?.tokensPerSecond } : undefined;
		this.lastState = agreement || builtin ? { ...state, ...(agreement && { agreement }), ...(builtin && { builtin }) } : state;
		if (!this.disposed) this.panel.update(this.lastState);
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
			case 'close': {
				// Esc in the picker: the picker goes and the editor it rewrites takes the keyboard back,
				// at once and again once the picker's page has gone (it could take it back while going).
				const place = this.panel.place;
				await this.focusEditor(place);
				const closed = this.panel.close();
				this.dispose();
				await closed;
				await this.focusEditor(place);
				return;
			}
			case 'showLog':
				void vscode.commands.executeCommand('bestOfN.showLog');
				return;
			case 'openLink':
				// Already limited to web and mail links; VS Code asks before opening an untrusted domain.
				void vscode.env.openExternal(vscode.Uri.parse(message.href, true));
				return;
			case 'setupReward':
				void vscode.commands.executeCommand('bestOfN.selectRewardModel');
				return;
			default: {
				const never: never = message;
				this.deps.logger.debug(`unhandled picker message ${JSON.stringify(never)}`);
			}
		}
	}
}

/** A picker tab's title: the words cut to fit a tab. */
export function shorten(text: string, max: number): string {
	const line = text.replace(/\s+/g, ' ').trim();
	return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Wiring only: build the long-lived objects, register commands, hand every disposable to VS Code.
 * Nothing heavy loads here; the reward worker and transformers.js start on the first run that needs them.
 */
import * as vscode from 'vscode';
import type { PickerState } from './core/protocol';
import { Activity } from './vscode/activity';
import { ApiKeys } from './vscode/apiKeys';
import { CandidateDocuments } from './vscode/candidateDocuments';
import { CommentSyntaxes } from './vscode/commentSyntaxes';
import { parseSettings } from './core/settings';
import { onDidChangeSettings, openSettings, rawSettings, readSettings } from './vscode/config';
import { ExplainController } from './vscode/explainController';
import { Explanations, type ExplanationView } from './vscode/explanations';
import { GettingStarted, type WalkthroughKeys } from './vscode/gettingStarted';
import { liveDisposables } from './vscode/dispose';
import { createLog } from './vscode/log';
import { ModelPicker } from './vscode/modelPicker';
import { currentPick, type PickView } from './vscode/pickTracker';
import { RewardPicker } from './vscode/rewardPicker';
import { AgreementCache } from './vscode/agreementCache';
import { PreferenceCommands } from './vscode/preferenceCommands';
import { PreferenceRecorder } from './vscode/preferenceRecorder';
import { PreferenceStore } from './vscode/preferenceStore';
import { ReportPanel } from './vscode/reportPanel';
import { RewardService } from './vscode/rewardService';
import { BuiltinService } from './vscode/builtinService';
import { RewriteController } from './vscode/rewriteController';
import { Sessions, type FailureView } from './vscode/sessions';
import { StatusBar, type StatusBarView } from './vscode/statusBar';

/**
 * What `activate` returns to other extensions (and the integration tests): read-only views of the
 * current picker and of the reward worker, for diagnostics. Commands are the way to act.
 */
export interface BestOfNApi {
	readonly picker: PickerState | undefined;
	readonly rewardWorkerRunning: boolean;
	/** Whether the built-in generator's worker thread is alive (it holds the model in memory). */
	readonly builtinWorkerRunning: boolean;
	/** The quick pick Best-of-N shows now (model, scope, reward model), as a person sees it. */
	readonly quickPick: PickView | undefined;
	readonly statusBar: StatusBarView;
	/** Where the preference log is kept (it may not exist yet). */
	readonly preferenceLog: string;
	/** The folder VS Code writes this extension's log (Best-of-N: Show Log) into. */
	readonly logFolder: string;
	/** The question Best-of-N waits on the user for (e.g. applying a cut candidate), if any. */
	readonly question: string | undefined;
	/** A failed run's error message with its buttons (its ways out), while it is on screen. */
	readonly failure: FailureView | undefined;
	/** The Getting Started walkthrough's context keys as last set. */
	readonly walkthrough: WalkthroughKeys;
	/** The explanations shown inline now. */
	readonly explanations: readonly ExplanationView[];
	/** Owners of disposables alive now and what they hold; growth after runs have ended is a leak. */
	readonly liveDisposables: { readonly owners: number; readonly held: number };
}

export function activate(context: vscode.ExtensionContext): BestOfNApi {
	const log = createLog();
	const apiKeys = new ApiKeys(context.secrets, log);
	const rewards = new RewardService(context, log, apiKeys);
	const documents = new CandidateDocuments();
	const preferences = new PreferenceStore(context.globalStorageUri.fsPath, log);
	const agreement = new AgreementCache(preferences, log);
	const builtin = new BuiltinService(context, log);
	const sessions = new Sessions(context.extensionUri, log, rewards, documents, apiKeys, builtin, agreement);
	const recorder = new PreferenceRecorder(preferences, log);
	const preferenceCommands = new PreferenceCommands(preferences, rewards);
	const rewrites = new RewriteController(context, log, sessions, apiKeys);
	const activity = new Activity();
	const models = new ModelPicker(log, activity, apiKeys);
	const rewardPicker = new RewardPicker(log, rewards, activity);
	const statusBar = new StatusBar(
		activity,
		() => sessions.running,
		s => rewards.knownProblem(s),
		sessions.onDidChangeRunning,
		{ speed: () => builtin.lastSpeed, onDidMeasure: builtin.onDidMeasureSpeed },
	);
	const gettingStarted = new GettingStarted(log, apiKeys, s => builtin.needsDownload(s));
	const syntaxes = new CommentSyntaxes(log);
	const explanations = new Explanations(context, log, syntaxes, sessions);
	const explains = new ExplainController(sessions, explanations, log);
	context.subscriptions.push(
		log,
		rewards,
		builtin,
		documents,
		sessions,
		activity,
		statusBar,
		gettingStarted,
		// The walkthrough's steps complete on what runs show: a finished run proves server and model.
		sessions.onDidChangeRunning(() => {
			const state = sessions.current;
			if (!sessions.running && state?.phase === 'done') gettingStarted.runFinished(state.ranker.kind === 'reward');
		}),
		rewrites,
		syntaxes,
		explanations,
		vscode.commands.registerCommand('bestOfN.explainSelection', () => explains.explainSelection()),
		vscode.commands.registerCommand('bestOfN.explanation.insertAsComment', (arg?: unknown) => explanations.insertAsComment(arg)),
		vscode.commands.registerCommand('bestOfN.explanation.copy', (arg?: unknown) => explanations.copy(arg)),
		vscode.commands.registerCommand('bestOfN.explanation.showOtherCandidates', (arg?: unknown) => explanations.showOthers(arg)),
		vscode.commands.registerCommand('bestOfN.explanation.dismiss', (arg?: unknown) => explanations.dismiss(arg)),
		vscode.commands.registerCommand('bestOfN.rewriteSelection', (args?: unknown) => rewrites.rewriteSelection(args)),
		vscode.commands.registerCommand('bestOfN.cancel', () => {
			sessions.cancel();
			activity.cancelAll();
		}),
		vscode.commands.registerCommand('bestOfN.acceptCandidate', (args?: unknown) => sessions.acceptCandidate(args)),
		vscode.commands.registerCommand('bestOfN.selectModel', (args?: unknown) => models.selectModel(args)),
		vscode.commands.registerCommand('bestOfN.selectRewardModel', async (args?: unknown) => {
			const outcome = await rewardPicker.selectRewardModel(args);
			if (outcome.saved) gettingStarted.rankerWorks();
			return outcome;
		}),
		vscode.commands.registerCommand('bestOfN.checkServer', () => gettingStarted.checkAgain()),
		vscode.commands.registerCommand('bestOfN.useBuiltinModel', () => builtin.useAsBackend(readSettings(log))),
		vscode.commands.registerCommand('bestOfN.openSample', () => gettingStarted.openSample()),
		vscode.commands.registerCommand('bestOfN.compareCandidate', (args?: unknown) => sessions.compareCandidate(args)),
		vscode.commands.registerCommand('bestOfN.diff.accept', (uri?: unknown) => sessions.acceptDiff(uri)),
		vscode.commands.registerCommand('bestOfN.diff.next', (uri?: unknown) => sessions.stepDiff(1, uri)),
		vscode.commands.registerCommand('bestOfN.diff.previous', (uri?: unknown) => sessions.stepDiff(-1, uri)),
		vscode.commands.registerCommand('bestOfN.showLog', () => log.show()),
		preferences,
		agreement,
		sessions.onDidAccept(accepted => void recorder.record(accepted)),
		vscode.commands.registerCommand('bestOfN.clearPreferences', () => preferenceCommands.clear()),
		vscode.commands.registerCommand('bestOfN.exportPreferences', () => preferenceCommands.export()),
		vscode.commands.registerCommand('bestOfN.evaluateRewardModel', () => preferenceCommands.evaluate()),
		vscode.commands.registerCommand('bestOfN.showRankingReport', () => void ReportPanel.show(context.extensionUri, preferences, log)),
		{ dispose: () => ReportPanel.closeCurrent() },
		vscode.commands.registerCommand('bestOfN.setApiKey', (args?: unknown) => apiKeys.set(args)),
		// Settings are read at the start of each run; this reports bad values as soon as they are made,
		// and gives a loaded built-in model its new idle time.
		onDidChangeSettings(() => {
			builtin.settingsChanged(readSettings(log));
			// A prompt template with a typo is not used; say so where it was made, with the way back to it.
			for (const problem of parseSettings(rawSettings()).problems) {
				const key = /^bestOfN\.(prompts\.\S+)/.exec(problem)?.[1];
				if (key === undefined) continue;
				void vscode.window.showWarningMessage(problem, 'Open Settings').then(c => c && openSettings(key));
			}
		}),
	);
	// Cheap (one request to the configured server) and silent: it only ticks the walkthrough's steps.
	void gettingStarted.check();
	// Explanations of the last window come back where their lines are unchanged.
	void explanations.restore();
	return {
		get picker() {
			return sessions.current;
		},
		get rewardWorkerRunning() {
			return rewards.running;
		},
		get builtinWorkerRunning() {
			return builtin.running;
		},
		get quickPick() {
			return currentPick();
		},
		get statusBar() {
			return statusBar.current;
		},
		preferenceLog: preferences.file,
		logFolder: context.logUri.fsPath,
		get question() {
			return sessions.question;
		},
		get failure() {
			return sessions.failure;
		},
		get explanations() {
			return explanations.list();
		},
		get walkthrough() {
			return gettingStarted.state;
		},
		get liveDisposables() {
			return liveDisposables();
		},
	};
}

export function deactivate(): void {}

/**
 * Wiring only: build the long-lived objects, register commands, hand every disposable to VS Code.
 * Nothing heavy loads here; the reward worker and transformers.js start on the first run that needs them.
 */
import * as vscode from 'vscode';
import type { PickerState } from './core/protocol';
import { CandidateDocuments } from './vscode/candidateDocuments';
import { onDidChangeSettings, readSettings } from './vscode/config';
import { createLog } from './vscode/log';
import { RewardService } from './vscode/rewardService';
import { RewriteController } from './vscode/rewriteController';
import { Sessions } from './vscode/sessions';

/**
 * What `activate` returns to other extensions (and the integration tests): read-only views of the
 * current picker and of the reward worker, for diagnostics. Commands are the way to act.
 */
export interface BestOfNApi {
	readonly picker: PickerState | undefined;
	readonly rewardWorkerRunning: boolean;
}

export function activate(context: vscode.ExtensionContext): BestOfNApi {
	const log = createLog();
	const rewards = new RewardService(context, log);
	const documents = new CandidateDocuments();
	const sessions = new Sessions(context.extensionUri, log, rewards, documents);
	const rewrites = new RewriteController(context, log, sessions);
	context.subscriptions.push(
		log,
		rewards,
		documents,
		sessions,
		vscode.commands.registerCommand('bestOfN.rewriteSelection', (args?: unknown) => rewrites.rewriteSelection(args)),
		vscode.commands.registerCommand('bestOfN.cancel', () => sessions.cancel()),
		vscode.commands.registerCommand('bestOfN.acceptCandidate', (args?: unknown) => sessions.acceptCandidate(args)),
		vscode.commands.registerCommand('bestOfN.showLog', () => log.show()),
		// Settings are read at the start of each run; this only reports bad values as soon as they are made.
		onDidChangeSettings(() => readSettings(log)),
	);
	return {
		get picker() {
			return sessions.current;
		},
		get rewardWorkerRunning() {
			return rewards.running;
		},
	};
}

export function deactivate(): void {}

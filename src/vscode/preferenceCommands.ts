/**
 * The preference log's commands: clear it (after a modal confirmation) and export it for training.
 * Export asks three questions in quick picks (task, date range, fewest distinct candidates) and the
 * form, then where to save; every step can be backed out of with Escape, writing nothing.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { errorMessage, isCancelled } from '../core/errors';
import { describeRate, evaluatePairs, type Evaluation } from '../core/evaluate';
import { distinctCandidates, filterRecords, parseDateBound, type PreferenceFilter, type PreferenceRecord } from '../core/preferences';
import { toJsonl, toTrlRows, type StandardRow, type TrlFormat } from '../core/trl';
import { openSettings, readSettings } from './config';
import type { PreferenceStore } from './preferenceStore';
import type { RewardService } from './rewardService';

type Item<T> = vscode.QuickPickItem & { readonly value: T };

const DAY_MS = 86400_000;

export class PreferenceCommands {
	constructor(
		private readonly store: PreferenceStore,
		private readonly rewards: RewardService,
	) {}

	/**
	 * Best-of-N: Evaluate Reward Model on My Picks — scores every (chosen, rejected) pair of the log with
	 * the configured reward model, with progress and cancel. Resolves with the result, if it finished.
	 */
	async evaluate(): Promise<Evaluation | undefined> {
		const { records } = await this.store.read();
		const pairs = toTrlRows(records, 'standard') as StandardRow[];
		if (pairs.length === 0) {
			void vscode.window.showInformationMessage(
				'Best-of-N: no picks with a rejected candidate are recorded yet, so there is nothing to evaluate on.',
			);
			return undefined;
		}
		const settings = readSettings();
		if (!settings.rewardModel) {
			const choice = await vscode.window.showWarningMessage('Best-of-N: no reward model is configured to evaluate.', 'Open Settings');
			if (choice) void openSettings('rewardModel');
			return undefined;
		}
		// Evaluating asks for this reward model explicitly, whatever ranks the runs.
		const { scorer, reason } = this.rewards.scorerFor({ ...settings, ranker: 'reward' });
		if (!scorer) {
			void vscode.window.showErrorMessage(`Best-of-N cannot evaluate: ${reason ?? 'no reward model'}.`);
			return undefined;
		}
		const model = settings.rewardModel;
		try {
			const result = await vscode.window.withProgress(
				{
					location: vscode.ProgressLocation.Notification,
					title: `Evaluating ${model} on ${pairs.length} pairs`,
					cancellable: true,
				},
				async (progress, token) => {
					const controller = new AbortController();
					const sub = token.onCancellationRequested(() => controller.abort());
					try {
						progress.report({ message: 'loading the reward model…' });
						await scorer.load(controller.signal);
						let last = 0;
						return await evaluatePairs(scorer, pairs, controller.signal, (done, total) => {
							progress.report({ message: `${done} of ${total}`, increment: ((done - last) / total) * 100 });
							last = done;
						});
					} finally {
						sub.dispose();
					}
				},
			);
			const report = 'Show Ranking Report';
			void vscode.window
				.showInformationMessage(
					`Best-of-N: ${model} scores your pick above the other candidate in ${describeRate(result.overall)} (ties count half).`,
					report,
				)
				.then(choice => {
					if (choice === report) void vscode.commands.executeCommand('bestOfN.showRankingReport');
				});
			return result;
		} catch (e) {
			if (!isCancelled(e)) void vscode.window.showErrorMessage(`Best-of-N could not evaluate ${model}: ${errorMessage(e)}`);
			return undefined;
		}
	}

	/** Best-of-N: Clear Preference Log. Resolves true when the log was cleared. */
	async clear(): Promise<boolean> {
		const { records } = await this.store.read();
		if (records.length === 0) {
			void vscode.window.showInformationMessage('Best-of-N: the preference log is already empty.');
			return false;
		}
		const clear = 'Clear Log';
		const choice = await vscode.window.showWarningMessage(
			`Delete all ${records.length} recorded picks?`,
			{
				modal: true,
				detail: `The preference log ${this.store.file} is deleted. This cannot be undone; export it first to keep a copy.`,
			},
			clear,
		);
		if (choice !== clear) return false;
		await this.store.clear();
		void vscode.window.showInformationMessage('Best-of-N: the preference log is cleared.');
		return true;
	}

	/** Best-of-N: Export Preferences…  Resolves with the file written, if any. */
	async export(): Promise<vscode.Uri | undefined> {
		const { records } = await this.store.read();
		if (records.length === 0) {
			void vscode.window.showInformationMessage(
				'Best-of-N: no picks are recorded yet. Each candidate you accept is recorded (bestOfN.preferences.record).',
			);
			return undefined;
		}
		const filter = await this.askFilter(records);
		if (!filter) return undefined;
		const chosen = filterRecords(records, filter);
		const format = await pick<TrlFormat>('Export: form of the rows', [
			{ label: 'Standard', description: 'prompt, chosen, rejected as text: for reward models (RewardTrainer)', value: 'standard' },
			{
				label: 'Conversational',
				description: 'the chat sent as prompt, chat messages: for chat models (DPOTrainer)',
				value: 'conversational',
			},
		]);
		if (!format) return undefined;
		const rows = toTrlRows(chosen, format);
		if (rows.length === 0) {
			void vscode.window.showWarningMessage(
				`Best-of-N: none of the ${chosen.length} matching picks had a rejected candidate to pair with, so there is nothing to export. Try a wider date range or a smaller minimum.`,
			);
			return undefined;
		}
		const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
		const target = await vscode.window.showSaveDialog({
			title: 'Export Preferences',
			defaultUri: vscode.Uri.joinPath(folder, 'preferences.jsonl'),
			filters: { 'JSON Lines': ['jsonl'] },
			saveLabel: 'Export',
		});
		if (!target) return undefined;
		try {
			await fs.writeFile(target.fsPath, toJsonl(rows), 'utf8');
		} catch (e) {
			void vscode.window.showErrorMessage(`Best-of-N could not write ${target.fsPath}: ${errorMessage(e)}`);
			return undefined;
		}
		void vscode.window
			.showInformationMessage(
				`Best-of-N: exported ${rows.length} pairs from ${chosen.length} picks to ${path.basename(target.fsPath)}.`,
				'Open',
			)
			.then(choice => {
				if (choice === 'Open') void vscode.window.showTextDocument(target);
			});
		return target;
	}

	private async askFilter(records: readonly PreferenceRecord[]): Promise<PreferenceFilter | undefined> {
		const tasks = [...new Set(records.map(r => r.task))].sort();
		const task = await pick<string | null>('Export: which task', [
			{ label: 'All tasks', description: `${records.length} picks`, value: null },
			...tasks.map(t => ({ label: t, description: `${records.filter(r => r.task === t).length} picks`, value: t })),
		]);
		if (task === undefined) return undefined;
		const range = await this.askRange();
		if (!range) return undefined;
		const most = Math.max(2, ...records.map(distinctCandidates));
		const minimum = await pick<number>(
			'Export: only runs with at least this many distinct candidates',
			Array.from({ length: most - 1 }, (_, i) => i + 2).map(k => ({
				label: String(k),
				description: `${records.filter(r => distinctCandidates(r) >= k).length} picks`,
				value: k,
			})),
		);
		if (minimum === undefined) return undefined;
		return { ...(task !== null ? { task } : {}), ...range, minCandidates: minimum };
	}

	private async askRange(): Promise<{ since?: number; until?: number } | undefined> {
		const now = Date.now();
		const range = await pick<'all' | number | 'custom'>('Export: which dates', [
			{ label: 'All time', value: 'all' },
			{ label: 'Last 7 days', value: 7 },
			{ label: 'Last 30 days', value: 30 },
			{ label: 'Last 90 days', value: 90 },
			{ label: 'Between two dates…', value: 'custom' },
		]);
		if (range === undefined) return undefined;
		if (range === 'all') return {};
		if (typeof range === 'number') return { since: now - range * DAY_MS };
		const text = await vscode.window.showInputBox({
			title: 'Export: dates',
			prompt: 'From and to, inclusive, as YYYY-MM-DD..YYYY-MM-DD (either side may be left empty)',
			placeHolder: '2026-01-01..2026-03-31',
			validateInput: value => (parseRange(value) ? undefined : 'Write two dates like 2026-01-01..2026-03-31; either may be empty.'),
		});
		return text === undefined ? undefined : parseRange(text);
	}
}

/** `A..B`, either side optional; undefined when a side is not a date. */
export function parseRange(text: string): { since?: number; until?: number } | undefined {
	const [from = '', to = '', extra] = text.split('..');
	if (extra !== undefined) return undefined;
	const since = from.trim() ? parseDateBound(from, 'since') : undefined;
	const until = to.trim() ? parseDateBound(to, 'until') : undefined;
	if ((from.trim() && since === undefined) || (to.trim() && until === undefined)) return undefined;
	return { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
}

async function pick<T>(title: string, items: Item<T>[]): Promise<T | undefined> {
	const chosen = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: false });
	return chosen?.value;
}

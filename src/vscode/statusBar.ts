/**
 * The status bar item: the generation model and the ranker (`$(sparkle) llama3.1:8b · reward`), a
 * spinner while a run, a pull or a reward-model load is going, the host and reward model in the
 * tooltip; a click opens the model picker. It follows settings as they change, without a reload.
 */
import * as vscode from 'vscode';
import type { Settings } from '../core/settings';
import type { Activity } from './activity';
import { onDidChangeSettings, readSettings } from './config';
import { Disposable } from './dispose';

export interface StatusBarView {
	readonly text: string;
	readonly tooltip: string;
}

/** What ranks candidates under these settings, in one word for the status bar. */
export function rankerWord(settings: Settings, rewardProblem: string | undefined): 'reward' | 'consensus' {
	if (settings.ranker === 'consensus' || !settings.rewardModel) return 'consensus';
	// `auto` falls back when the model is known not to load; `reward` keeps trying (and says why it fails).
	return rewardProblem && settings.ranker === 'auto' ? 'consensus' : 'reward';
}

export class StatusBar extends Disposable {
	private readonly item: vscode.StatusBarItem;
	private view: StatusBarView = { text: '', tooltip: '' };

	constructor(
		private readonly activity: Activity,
		private readonly isRunning: () => boolean,
		/** Why the configured reward model is not in use, when that is known. */
		private readonly rewardProblem: (settings: Settings) => string | undefined,
		onRunningChanged: vscode.Event<void>,
	) {
		super();
		this.item = this._register(vscode.window.createStatusBarItem('bestOfN.status', vscode.StatusBarAlignment.Right, 100));
		this.item.name = 'Best-of-N';
		this.item.command = 'bestOfN.selectModel';
		this._register(onDidChangeSettings(() => this.update()));
		this._register(activity.onDidChange(() => this.update()));
		this._register(onRunningChanged(() => this.update()));
		this.update();
		this.item.show();
	}

	/** What the item shows now (for the diagnostics API). */
	get current(): StatusBarView {
		return this.view;
	}

	update(): void {
		const settings = readSettings();
		const problem = this.rewardProblem(settings);
		const ranker = rankerWord(settings, problem);
		const task = this.activity.current;
		const busy = this.isRunning() || task !== undefined;
		const text = task ? `$(loading~spin) ${task.label}` : `${busy ? '$(loading~spin)' : '$(sparkle)'} ${settings.model} · ${ranker}`;
		const rewardLine =
			settings.ranker === 'consensus'
				? 'Ranker: consensus (bestOfN.ranker)'
				: !settings.rewardModel
					? 'Ranker: consensus (no reward model set)'
					: `Reward model: ${settings.rewardModel} (${settings.rewardDtype})${problem ? ` — not in use: ${problem}` : ''}`;
		const lines = [
			`Best-of-N${this.isRunning() ? ' (running)' : ''}`,
			`Generation: ${settings.model} at ${settings.ollamaHost}`,
			rewardLine,
			'Click to choose the generation model.',
		];
		this.view = { text, tooltip: lines.join('\n') };
		this.item.text = text;
		const tooltip = new vscode.MarkdownString(lines.map(escapeMarkdown).join('\n\n'));
		this.item.tooltip = tooltip;
		this.item.accessibilityInformation = { label: `Best-of-N: ${settings.model}, ranked by ${ranker}${busy ? ', busy' : ''}` };
	}
}

function escapeMarkdown(text: string): string {
	return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/**
 * The status bar item: the generation model and the ranker (`$(sparkle) llama3.1:8b · reward`), a
 * still `$(pulse)` while a run goes (its picker shows how far it has got) and a spinner while a pull or
 * a reward-model load goes with no run, the host and reward model in the tooltip; a click opens the
 * model picker. It follows settings as they change, without a reload.
 *
 * Nothing spins during a run: a spinning icon far from the picker makes the browser redraw everything
 * between the two at the display's rate, which in software compositing takes a core from the scores.
 */
import * as vscode from 'vscode';
import { generationHost, runSettings, type Settings } from '../core/settings';
import type { GenerationSpeed } from '../generation/builtinGenerator';
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
		/** The built-in generator's measured speed, shown while it is the backend. */
		private readonly builtin?: {
			readonly speed: () => GenerationSpeed | undefined;
			readonly onDidMeasure: vscode.Event<GenerationSpeed>;
		},
	) {
		super();
		this.item = this._register(vscode.window.createStatusBarItem('bestOfN.status', vscode.StatusBarAlignment.Right, 100));
		this.item.name = 'Best-of-N';
		this.item.command = 'bestOfN.selectModel';
		this._register(onDidChangeSettings(() => this.update()));
		this._register(activity.onDidChange(() => this.update()));
		this._register(onRunningChanged(() => this.update()));
		if (builtin) this._register(builtin.onDidMeasure(() => this.update()));
		this.update();
		this.item.show();
	}

	/** What the item shows now (for the diagnostics API). */
	get current(): StatusBarView {
		return this.view;
	}

	update(): void {
		const settings = runSettings(readSettings());
		const problem = this.rewardProblem(settings);
		const ranker = rankerWord(settings, problem);
		const task = this.activity.current;
		const running = this.isRunning();
		const busy = running || task !== undefined;
		const isBuiltin = settings.backend === 'builtin';
		const speed = isBuiltin ? this.builtin?.speed() : undefined;
		const perSecond = speed ? ` · ${speed.tokensPerSecond.toFixed(1)} tok/s` : '';
		const model = isBuiltin ? `${shortName(settings.model)} (built-in${perSecond})` : settings.model;
		const icon = running ? '$(pulse)' : task ? '$(loading~spin)' : '$(sparkle)';
		const text = task ? `${icon} ${task.label}` : `${icon} ${model} · ${ranker}`;
		const rewardLine =
			settings.ranker === 'consensus'
				? 'Ranker: consensus (bestOfN.ranker)'
				: !settings.rewardModel
					? 'Ranker: consensus (no reward model set)'
					: `Reward model: ${settings.rewardModel} (${settings.rewardDtype})${problem ? ` — not in use: ${problem}` : ''}`;
		const lines = [
			`Best-of-N${running ? ' (running)' : ''}`,
			isBuiltin
				? `Generation: the built-in model ${settings.model}, on this machine${speed ? `, ${speed.tokensPerSecond.toFixed(1)} tokens/s in the last run (${speed.rows} at once)` : ''}`
				: `Generation: ${settings.model} at ${generationHost(settings)}`,
			...(isBuiltin
				? ['For better results: a model server (bestOfN.backend) or a bigger built-in model (bestOfN.builtin.model).']
				: []),
			rewardLine,
			'Click to choose the generation model.',
		];
		this.view = { text, tooltip: lines.join('\n') };
		this.item.text = text;
		const tooltip = new vscode.MarkdownString(lines.map(escapeMarkdown).join('\n\n'));
		this.item.tooltip = tooltip;
		this.item.accessibilityInformation = { label: `Best-of-N: ${model}, ranked by ${ranker}${busy ? ', busy' : ''}` };
	}
}

/** `onnx-community/Qwen2.5-Coder-0.5B-Instruct` → `Qwen2.5-Coder-0.5B-Instruct`; a folder by its last segment. */
function shortName(model: string): string {
	return model.split(/[\\/]/).filter(Boolean).pop() ?? model;
}

function escapeMarkdown(text: string): string {
	return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/**
 * API keys for OpenAI-compatible servers, one per base URL, in VS Code's secret storage (the OS
 * keychain on desktop). Never in settings, never in the log: only whether one is set is ever shown.
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import { isRewardServer } from '../reward/servedScorer';
import { readSettings } from './config';

const PREFIX = 'bestOfN.apiKey:';

export class ApiKeys {
	constructor(
		private readonly secrets: vscode.SecretStorage,
		private readonly logger: Logger,
	) {}

	get(baseUrl: string): Promise<string | undefined> {
		return Promise.resolve(this.secrets.get(PREFIX + baseUrl));
	}

	/**
	 * Best-of-N: Set API Key…  for the configured `bestOfN.openai.baseUrl`, or the reward model's server
	 * when `bestOfN.rewardModel` is one (asked which, when both are set). An empty answer removes the
	 * key. `{ "apiKey": "…", "url": "…" }` as the argument stores it without asking (scripts, tests).
	 */
	async set(args?: unknown): Promise<boolean> {
		const given = typeof args === 'object' && args !== null ? (args as Record<string, unknown>).apiKey : undefined;
		const givenUrl = typeof args === 'object' && args !== null ? (args as Record<string, unknown>).url : undefined;
		const baseUrl = typeof givenUrl === 'string' ? givenUrl : await this.chooseUrl();
		if (baseUrl === undefined) return false;
		const key =
			typeof given === 'string'
				? given
				: await vscode.window.showInputBox({
						title: `Best-of-N: API key for ${baseUrl}`,
						prompt: "Kept in VS Code's secret storage for this base URL only and sent only to it. Leave empty to remove the key.",
						password: true,
						ignoreFocusOut: true,
						placeHolder: 'sk-…',
					});
		if (key === undefined) return false;
		if (key.trim()) {
			await this.secrets.store(PREFIX + baseUrl, key.trim());
			this.logger.info(`API key set for ${baseUrl}.`);
			void vscode.window.showInformationMessage(`Best-of-N: API key saved for ${baseUrl}.`);
		} else {
			await this.secrets.delete(PREFIX + baseUrl);
			this.logger.info(`API key removed for ${baseUrl}.`);
			void vscode.window.showInformationMessage(`Best-of-N: no API key is sent to ${baseUrl} any more.`);
		}
		return true;
	}

	private async chooseUrl(): Promise<string | undefined> {
		const settings = readSettings();
		const generation = settings.openaiBaseUrl;
		const reward = settings.rewardModel;
		if (!isRewardServer(reward) || reward === generation) return generation;
		const pick = await vscode.window.showQuickPick(
			[
				{ label: generation, description: 'generation (bestOfN.openai.baseUrl)' },
				{ label: reward, description: 'reward model (bestOfN.rewardModel)' },
			],
			{ title: 'Best-of-N: which server is the API key for?' },
		);
		return pick?.label;
	}
}

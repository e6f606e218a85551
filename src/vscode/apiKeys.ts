/**
 * API keys for OpenAI-compatible servers, one per base URL, in VS Code's secret storage (the OS
 * keychain on desktop). Never in settings, never in the log: only whether one is set is ever shown.
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
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
	 * Best-of-N: Set API Key…  for the configured `bestOfN.openai.baseUrl`. An empty answer removes the
	 * key. `{ "apiKey": "…" }` as the argument stores it without asking (scripts, tests).
	 */
	async set(args?: unknown): Promise<boolean> {
		const baseUrl = readSettings().openaiBaseUrl;
		const given = typeof args === 'object' && args !== null ? (args as Record<string, unknown>).apiKey : undefined;
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
}

/**
 * What the Getting Started walkthrough's steps complete on: context keys that say whether the model
 * server answers (or the built-in model is chosen: it needs none), whether the configured model is
 * there (installed on Ollama, listed by `/v1/models`, the built-in one downloaded), whether a ranker
 * works and whether a rewrite has finished. The server is asked on activation, when its settings
 * change and on "Check Again"; runs that finish confirm all of it.
 */
import * as vscode from 'vscode';
import { errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import type { ModelCatalog } from '../core/modelCatalog';
import { generationHost, runSettings, type Settings } from '../core/settings';
import { modelCatalogFor } from '../generation/modelCatalog';
import type { ApiKeys } from './apiKeys';
import { readSettings, SECTION } from './config';
import { Disposable } from './dispose';

const SAMPLE = `// Select this function and run Best-of-N: Rewrite Selection… (Ctrl+Alt+R).
// Try "add JSDoc and types", or "make it shorter".
function total(items) {
  let sum = 0;
  for (let i = 0; i < items.length; i++) {
    if (items[i].price != undefined) {
      sum = sum + items[i].price * (items[i].quantity || 1);
    }
  }
  return sum;
}
`;

/** The walkthrough's context keys as last set, for diagnostics and tests (VS Code offers no way to read them). */
export type WalkthroughKeys = Partial<Record<'serverReachable' | 'modelInstalled' | 'rankerReady' | 'triedRewrite', boolean>>;

export class GettingStarted extends Disposable {
	private checks = 0;
	private readonly inFlight = new Set<AbortController>();
	private readonly keys: WalkthroughKeys = {};

	constructor(
		private readonly logger: Logger,
		private readonly apiKeys: ApiKeys,
		/** Whether the built-in model still has to be downloaded before it can run. */
		private readonly builtinNeedsDownload: (settings: Settings) => boolean,
	) {
		super();
		this._register(
			vscode.workspace.onDidChangeConfiguration(e => {
				const server = ['backend', 'ollama.host', 'openai.baseUrl', 'model', 'builtin.model', 'builtin.dtype'];
				if (server.some(key => e.affectsConfiguration(`${SECTION}.${key}`))) void this.check();
				if (e.affectsConfiguration(`${SECTION}.ranker`) && readSettings().ranker === 'consensus') this.rankerWorks();
			}),
		);
		if (readSettings().ranker === 'consensus') this.rankerWorks();
	}

	/** The walkthrough's keys as last set. */
	get state(): WalkthroughKeys {
		return { ...this.keys };
	}

	/**
	 * Asks the server for its models; sets `bestOfN.serverReachable` and `bestOfN.modelInstalled`
	 * (only the latest check does, when several overlap). Resolves with whether it answered.
	 */
	async check(): Promise<boolean> {
		const id = ++this.checks;
		const settings = runSettings(readSettings());
		if (settings.backend === 'builtin') {
			// No server to reach; the model is there once downloaded (or a folder on this machine).
			this.setContext('serverReachable', true);
			this.setContext('modelInstalled', !this.builtinNeedsDownload(settings));
			return true;
		}
		const controller = new AbortController();
		this.inFlight.add(controller);
		try {
			const models = await this.catalog(settings).listModels(controller.signal);
			const wanted = canonical(settings.model);
			if (id === this.checks) {
				this.setContext('serverReachable', true);
				this.setContext(
					'modelInstalled',
					models.some(m => canonical(m.name) === wanted),
				);
			}
			return true;
		} catch (e) {
			this.logger.debug(`server check: ${errorMessage(e)}`);
			if (id === this.checks && !controller.signal.aborted) {
				this.setContext('serverReachable', false);
				this.setContext('modelInstalled', false);
			}
			return false;
		} finally {
			this.inFlight.delete(controller);
		}
	}

	private catalog(settings: Settings): ModelCatalog {
		return modelCatalogFor(settings, { logger: this.logger, apiKey: url => this.apiKeys.get(url) });
	}

	/** "Check Again" in the walkthrough: says what it found. */
	async checkAgain(): Promise<boolean> {
		const ok = await this.check();
		const settings = readSettings();
		if (settings.backend === 'builtin') {
			void vscode.window.showInformationMessage('Best-of-N: the built-in model runs on this machine; no server is needed.');
			return ok;
		}
		const { serverName, hostSetting } = this.catalog(settings);
		const start = settings.backend === 'ollama' ? 'Start Ollama (`ollama serve`)' : 'Start the server';
		if (ok) void vscode.window.showInformationMessage(`Best-of-N: ${serverName} answers.`);
		else
			void vscode.window
				.showWarningMessage(
					`Best-of-N: nothing answers at ${generationHost(settings)}. ${start} or set ${SECTION}.${hostSetting}.`,
					'Open Setting',
				)
				.then(choice => choice && vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.${hostSetting}`));
		return ok;
	}

	/** A run finished with candidates: server, model and (if it ranked by reward) the reward model all work. */
	runFinished(rankedByReward: boolean): void {
		this.setContext('serverReachable', true);
		this.setContext('modelInstalled', true);
		this.setContext('triedRewrite', true);
		if (rankedByReward) this.rankerWorks();
	}

	rankerWorks(): void {
		this.setContext('rankerReady', true);
	}

	private setContext(key: keyof WalkthroughKeys, value: boolean): void {
		this.keys[key] = value;
		void vscode.commands.executeCommand('setContext', `bestOfN.${key}`, value);
	}

	/** Opens a small function to rewrite, selected. */
	async openSample(): Promise<void> {
		const doc = await vscode.workspace.openTextDocument({ content: SAMPLE, language: 'javascript' });
		const editor = await vscode.window.showTextDocument(doc);
		const start = SAMPLE.indexOf('function total');
		editor.selection = new vscode.Selection(doc.positionAt(start), doc.positionAt(SAMPLE.length - 1));
	}

	override dispose(): void {
		for (const c of this.inFlight) c.abort();
		super.dispose();
	}
}

function canonical(name: string): string {
	return (name.slice(name.lastIndexOf('/') + 1).includes(':') ? name : `${name}:latest`).toLowerCase();
}

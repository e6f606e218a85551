/**
 * Owns the reward worker for the extension's lifetime: one warm worker shared by successive runs,
 * replaced when the reward-model settings change, unloaded by the client itself when idle.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BestOfNError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { LoadProgress, RewardModelInfo, RewardScorer } from '../core/reward';
import type { Settings } from '../core/settings';
import { RewardWorkerClient } from '../reward/rewardClient';
import { isRewardServer, ServedRewardScorer } from '../reward/servedScorer';
import type { ApiKeys } from './apiKeys';

export interface ScorerChoice {
	readonly scorer?: RewardScorer;
	/** Why there is no scorer, for the picker's header. */
	readonly reason?: string;
	/** Said in the picker (with "Set Up Reward Model…") when a reward model was wanted but cannot rank. */
	readonly notice?: string;
}

/** Load failures that the next run would only repeat: remembered until the reward settings change. */
const LASTING_FAILURES: ReadonlySet<string> = new Set(['reward-no-onnx', 'reward-failed']);
/** A model that could not be found (often: no network) is tried again after this long. */
const RETRY_NOT_FOUND_MS = 5 * 60_000;

export class RewardService implements vscode.Disposable {
	private client?: RewardWorkerClient;
	private key?: string;
	private failure?: { readonly error: BestOfNError; readonly at: number };

	private served?: ServedRewardScorer;
	private servedUrl?: string;

	constructor(
		private readonly context: vscode.ExtensionContext,
		private readonly logger: Logger,
		private readonly apiKeys: ApiKeys,
	) {}

	scorerFor(settings: Settings): ScorerChoice {
		if (settings.ranker === 'consensus') return { reason: 'bestOfN.ranker is set to consensus' };
		if (!settings.rewardModel)
			return {
				reason: 'no reward model configured (bestOfN.rewardModel)',
				notice: 'Ranked by consensus: no reward model is set up.',
			};
		if (isRewardServer(settings.rewardModel)) {
			// Nothing runs here and nothing is remembered: a server that failed may be up by the next run.
			const url = settings.rewardModel;
			if (!this.served || this.servedUrl !== url) {
				this.served = new ServedRewardScorer({ url, logger: this.logger, apiKey: () => this.apiKeys.get(url) });
				this.servedUrl = url;
				this.logger.info(`reward model: served at ${url}`);
			}
			this.served.idleMs = settings.requestIdleSeconds * 1000;
			return { scorer: this.served };
		}
		const model = resolveModelLocation(settings.rewardModel);
		const key = JSON.stringify([model, settings.rewardDtype]);
		if (!this.client || key !== this.key) {
			this.client?.dispose();
			this.key = key;
			this.failure = undefined;
			this.client = this.createClient(model, settings);
			this.logger.info(`reward model: ${model} (${settings.rewardDtype})`);
		}
		this.client.idleMs = settings.rewardIdleMinutes * 60_000;
		// Under `auto`, a model that failed for a lasting reason is not retried (and the Hub not asked
		// again) on every run; `reward` asks for it explicitly, so it always tries and shows the error.
		const failure = this.failure;
		if (
			settings.ranker === 'auto' &&
			failure &&
			(LASTING_FAILURES.has(failure.error.kind) || Date.now() - failure.at < RETRY_NOT_FOUND_MS)
		) {
			return {
				reason: `reward model unavailable, ${failure.error.message}`,
				notice: `Ranked by consensus: ${failure.error.message}`,
			};
		}
		const client = this.client;
		return {
			scorer: {
				load: (signal, onProgress) =>
					client.load(signal, onProgress).then(
						info => {
							this.failure = undefined;
							return info;
						},
						(e: unknown) => {
							// A missing folder is cheap to look for again (the user may be converting into it); a Hub id is not.
							const remember =
								e instanceof BestOfNError &&
								(LASTING_FAILURES.has(e.kind) || (e.kind === 'reward-not-found' && !path.isAbsolute(model)));
							if (remember && client === this.client) {
								this.failure = { error: e, at: Date.now() };
							}
							throw e;
						},
					),
				score: (pairs, signal) => client.score(pairs, signal),
			},
		};
	}

	/**
	 * Loads `model` in a worker of its own, without touching the one runs use, so a failed try leaves
	 * the current choice as it was. On success the loaded worker becomes the current one (the next
	 * run, once the setting names it, finds the model warm).
	 */
	async trial(model: string, settings: Settings, signal: AbortSignal, onProgress: (p: LoadProgress) => void): Promise<RewardModelInfo> {
		const location = resolveModelLocation(model);
		const client = this.createClient(location, settings);
		try {
			const info = await client.load(signal, onProgress);
			this.client?.dispose();
			this.client = client;
			this.key = JSON.stringify([location, settings.rewardDtype]);
			this.failure = undefined;
			return info;
		} catch (e) {
			client.dispose();
			throw e;
		}
	}

	private createClient(model: string, settings: Settings): RewardWorkerClient {
		return new RewardWorkerClient({
			workerPath: this.context.asAbsolutePath(path.join('dist', 'rewardWorker.js')),
			request: {
				model,
				dtype: settings.rewardDtype,
				// Downloads go to the extension's global storage, never into its install folder.
				cacheDir: path.join(this.context.globalStorageUri.fsPath, 'models'),
				allowRemote: true,
				threads: 0,
			},
			idleMs: settings.rewardIdleMinutes * 60_000,
			logger: this.logger,
		});
	}

	/** Why the reward model these settings name will not be used by `auto`, when a load already failed. */
	knownProblem(settings: Settings): string | undefined {
		if (!settings.rewardModel || !this.failure) return undefined;
		const key = JSON.stringify([resolveModelLocation(settings.rewardModel), settings.rewardDtype]);
		return key === this.key ? this.failure.error.message : undefined;
	}

	/** Whether a worker is alive (for tests and diagnostics). */
	get running(): boolean {
		return this.client?.running ?? false;
	}

	dispose(): void {
		this.client?.dispose();
		this.client = undefined;
		this.key = undefined;
	}
}

/**
 * `./x` and `../x` are relative to the first workspace folder (where a user keeps a converted model
 * next to their project); everything else (Hub ids, absolute and `~/` paths) is the scorer's to read.
 */
export function resolveModelLocation(value: string): string {
	if (!value.startsWith('./') && !value.startsWith('../')) return value;
	const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
	return path.resolve(base, value);
}

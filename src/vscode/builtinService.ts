/**
 * Owns the built-in generator for the extension's lifetime: one warm worker shared by successive
 * runs, replaced when the model or dtype changes, unloaded by the client itself after
 * `bestOfN.builtin.idleMinutes` without a run (a change to it applies at once). Before a
 * Hub model is first used it states the download's size and downloads only after the person agrees,
 * with progress and cancel; a model already in the download cache, or a local folder, needs no asking.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { errorMessage, isCancelled } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Settings } from '../core/settings';
import { builtinModelCached, formatBytes, planBuiltinDownload } from '../generation/builtinDownload';
import { BuiltinGenerator, type GenerationSpeed } from '../generation/builtinGenerator';
import { resolveModelLocation } from './rewardService';
import { writeSetting } from './settingScope';

/** Sizes from the recommended model's card (onnx-community, checked 2026-12), for when the Hub cannot be asked. */
const CARD_SIZES: Readonly<Record<string, Partial<Record<Settings['builtinDtype'], number>>>> = {
	'onnx-community/Qwen2.5-Coder-0.5B-Instruct': {
		q8: 646e6,
		int8: 646e6,
		uint8: 646e6,
		q4f16: 562e6,
		q4: 869e6,
		bnb4: 839e6,
		fp16: 1.27e9,
		fp32: 2.54e9,
	},
};

export class BuiltinService implements vscode.Disposable {
	private generator?: BuiltinGenerator;
	private key?: string;
	private readonly speed = new vscode.EventEmitter<GenerationSpeed>();
	/** Fired after each generation with its measured tokens per second. */
	readonly onDidMeasureSpeed = this.speed.event;

	constructor(
		private readonly context: vscode.ExtensionContext,
		private readonly logger: Logger,
	) {}

	private get cacheDir(): string {
		// The same download cache as reward models: the extension's global storage, never its install folder.
		return path.join(this.context.globalStorageUri.fsPath, 'models');
	}

	/** The generator for these settings, warm from the last run when they name the same model. */
	generatorFor(settings: Settings): BuiltinGenerator {
		const model = resolveModelLocation(settings.builtinModel);
		const key = JSON.stringify([model, settings.builtinDtype]);
		if (!this.generator || key !== this.key) {
			this.generator?.dispose();
			this.key = key;
			const generator = new BuiltinGenerator({
				workerPath: this.context.asAbsolutePath(path.join('dist', 'generatorWorker.js')),
				request: { model, dtype: settings.builtinDtype, cacheDir: this.cacheDir, allowRemote: true, threads: 0 },
				idleMs: settings.builtinIdleMinutes * 60_000,
				logger: this.logger,
			});
			generator.onSpeed(s => this.speed.fire(s));
			this.generator = generator;
			this.logger.info(`built-in model: ${model} (${settings.builtinDtype})`);
		}
		this.generator.idleMs = settings.builtinIdleMinutes * 60_000;
		return this.generator;
	}

	/** Applies a changed idle time to the model loaded now (a changed model waits for the next run). */
	settingsChanged(settings: Settings): void {
		if (this.generator) this.generator.idleMs = settings.builtinIdleMinutes * 60_000;
	}

	/** The last measured speed of the current model, if it generated since it was chosen. */
	get lastSpeed(): GenerationSpeed | undefined {
		return this.generator?.lastSpeed;
	}

	/** Whether these settings' model needs a download before it can run. */
	needsDownload(settings: Settings): boolean {
		return !builtinModelCached(resolveModelLocation(settings.builtinModel), settings.builtinDtype, this.cacheDir);
	}

	/**
	 * The download's size as a person reads it ("646 MB"), asking the Hub for at most `timeoutMs`;
	 * the model card's figure when the Hub does not answer in time; undefined when nothing is known.
	 */
	async downloadSize(settings: Settings, timeoutMs = 4000): Promise<string | undefined> {
		if (!this.needsDownload(settings)) return undefined;
		const model = resolveModelLocation(settings.builtinModel);
		try {
			const plan = await planBuiltinDownload(model, settings.builtinDtype, this.cacheDir, AbortSignal.timeout(timeoutMs));
			return formatBytes(plan.bytes);
		} catch (e) {
			this.logger.debug(`could not size the built-in model ${model}: ${errorMessage(e)}`);
			const card = CARD_SIZES[model]?.[settings.builtinDtype];
			return card ? `about ${formatBytes(card)}` : undefined;
		}
	}

	/**
	 * Makes the model ready to run: asks before a download (stating its size), then loads it with
	 * progress in a cancellable notification. Resolves false when the person declines or cancels, or
	 * the load fails (which is shown, with the setting to change).
	 */
	async ensureReady(settings: Settings, options: { alreadyAgreed?: boolean } = {}): Promise<boolean> {
		const model = resolveModelLocation(settings.builtinModel);
		if (this.needsDownload(settings) && !options.alreadyAgreed) {
			const size = await vscode.window.withProgress(
				{ location: vscode.ProgressLocation.Window, title: `Best-of-N: sizing ${model}…` },
				() => this.downloadSize(settings),
			);
			const answer = await vscode.window.showInformationMessage(
				`Download the built-in model ${model}${size ? ` (${size})` : ''}?`,
				{
					modal: true,
					detail: `It is stored in VS Code's storage for this extension and runs on this machine, without a model server. Your text never leaves the machine.`,
				},
				'Download',
			);
			if (answer !== 'Download') return false;
		}
		const generator = this.generatorFor(settings);
		return vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: `Best-of-N: loading the built-in model ${model}`, cancellable: true },
			async (progress, token) => {
				const controller = new AbortController();
				const sub = token.onCancellationRequested(() => controller.abort());
				try {
					const info = await generator.load(controller.signal, p => {
						if (p.status !== 'progress') return;
						const bytes = p.loaded !== undefined && p.total ? `${formatBytes(p.loaded)} of ${formatBytes(p.total)}` : undefined;
						const percent = p.percent !== undefined ? `${Math.floor(p.percent)}%` : undefined;
						progress.report({ message: [p.file, bytes, percent].filter(Boolean).join(' · ') });
					});
					this.logger.info(`built-in model ${info.id} ready in ${info.loadMs} ms`);
					return true;
				} catch (e) {
					if (!isCancelled(e)) {
						const choice = await vscode.window.showErrorMessage(errorMessage(e), 'Open Settings', 'Show Log');
						if (choice === 'Open Settings')
							void vscode.commands.executeCommand('workbench.action.openSettings', 'bestOfN.builtin');
						else if (choice === 'Show Log') void vscode.commands.executeCommand('bestOfN.showLog');
					}
					return false;
				} finally {
					sub.dispose();
				}
			},
		);
	}

	/**
	 * Makes the built-in model the backend (Best-of-N: Use the Built-in Model, the walkthrough's first
	 * step, the unreachable-server error's offer): asks before a download unless the person already
	 * agreed to one whose size they were shown, loads it, then sets `bestOfN.backend` in user settings.
	 * Resolves whether it is now the backend.
	 */
	async useAsBackend(settings: Settings, options: { alreadyAgreed?: boolean } = {}): Promise<boolean> {
		if (!(await this.ensureReady(settings, options))) return false;
		await writeSetting('backend', 'builtin', 'user');
		this.logger.info(`switched to the built-in model ${settings.builtinModel}`);
		return true;
	}

	/** Whether a worker is alive (for tests and diagnostics). */
	get running(): boolean {
		return this.generator?.running ?? false;
	}

	dispose(): void {
		this.generator?.dispose();
		this.generator = undefined;
		this.key = undefined;
		this.speed.dispose();
	}
}

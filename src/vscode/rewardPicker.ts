/**
 * Best-of-N: Select Reward Model. Recommended models with an honest line each, a local folder
 * (checked before anything loads: every missing piece named), a Hub id, or none (consensus). A
 * choice is loaded in a worker of its own with visible progress and saved only once it loads, so a
 * failure keeps the previous choice; a Hub model without ONNX weights gets the exact conversion line
 * with Copy, Run in Terminal (typed, not run) and Choose Folder… for the result.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { BestOfNError, errorMessage, isCancelled } from '../core/errors';
import type { Logger } from '../core/logger';
import { formatBytes } from '../core/modelCatalog';
import type { LoadProgress } from '../core/reward';
import { conversionCommand, RECOMMENDED_REWARD_MODELS, suggestedFolder } from '../core/rewardModels';
import { checkRewardFolder } from '../reward/modelFolder';
import { locateModel } from '../reward/scorer';
import type { Activity } from './activity';
import { readSettings } from './config';
import { trackQuickPick } from './pickTracker';
import { resolveModelLocation, type RewardService } from './rewardService';
import { chooseScope, parseScope, writeSetting, type Scope } from './settingScope';

/** What a choice came to; the command resolves with it (for keybindings, other extensions, tests). */
export interface RewardChoiceOutcome {
	/** Whether a new choice was saved. */
	readonly saved: boolean;
	/** The reward model now chosen ('' for consensus), when saved. */
	readonly model?: string;
	/** The message shown when it was not saved. */
	readonly message?: string;
	/** The buttons that message offered. */
	readonly actions?: readonly string[];
	/** The conversion line offered, for a model without ONNX weights. */
	readonly command?: string;
}

/** `{ "model": "id or folder" | "", "scope": "user" | "workspace" }`; "" means rank by consensus. */
export function parseSelectRewardArgs(value: unknown): { model?: string; scope?: Scope } {
	if (typeof value !== 'object' || value === null) return {};
	const m = value as Record<string, unknown>;
	return { model: typeof m.model === 'string' ? m.model.trim() : undefined, scope: parseScope(m.scope) };
}

type Action =
	| { readonly kind: 'model'; readonly model: string }
	| { readonly kind: 'folder' }
	| { readonly kind: 'hub' }
	| { readonly kind: 'none' }
	| { readonly kind: 'separator' };

type Item = vscode.QuickPickItem & { readonly action: Action };

const COPY = 'Copy Command';
const TERMINAL = 'Run in Terminal';
const CHOOSE_FOLDER = 'Choose Folder…';
const ANOTHER_ID = 'Enter Another Hub Id…';

export class RewardPicker {
	constructor(
		private readonly logger: Logger,
		private readonly rewards: RewardService,
		private readonly activity: Activity,
	) {}

	async selectRewardModel(args?: unknown): Promise<RewardChoiceOutcome> {
		const given = parseSelectRewardArgs(args);
		const action: Action | undefined =
			given.model === undefined ? await this.pick() : given.model ? { kind: 'model', model: given.model } : { kind: 'none' };
		return this.act(action, given.scope);
	}

	private async act(action: Action | undefined, scope: Scope | undefined): Promise<RewardChoiceOutcome> {
		switch (action?.kind) {
			case 'model':
				return this.tryModel(action.model, scope);
			case 'folder': {
				const folder = await askFolder();
				return folder ? this.tryModel(folder, scope) : { saved: false };
			}
			case 'hub': {
				const id = await askHubId();
				return id ? this.tryModel(id, scope) : { saved: false };
			}
			case 'none': {
				const where = await chooseScope('ranker', 'consensus ranking', scope);
				if (!where) return { saved: false };
				await writeSetting('ranker', 'consensus', where);
				this.logger.info(`ranker: consensus (${where} settings)`);
				return { saved: true, model: '' };
			}
			default:
				return { saved: false };
		}
	}

	private pick(): Promise<Action | undefined> {
		const settings = readSettings();
		const current = settings.ranker === 'consensus' ? '' : settings.rewardModel;
		const mark = (id: string, label: string) => (id === current ? `$(check) ${label}` : label);
		const recommended: Item[] = RECOMMENDED_REWARD_MODELS.map(m => ({
			label: mark(m.id, m.id),
			description: m.facts,
			detail: `${m.note} No ONNX export on the Hub: needs a one-time conversion (offered).`,
			action: { kind: 'model', model: m.id },
		}));
		const isRecommended = RECOMMENDED_REWARD_MODELS.some(m => m.id === current);
		const items: Item[] = [
			...(current && !isRecommended
				? [
						{ label: 'Current', kind: vscode.QuickPickItemKind.Separator, action: { kind: 'separator' } } as Item,
						{
							label: `$(check) ${current}`,
							description: settings.rewardDtype,
							action: { kind: 'model', model: current },
						} as Item,
					]
				: []),
			{ label: 'Recommended', kind: vscode.QuickPickItemKind.Separator, action: { kind: 'separator' } },
			...recommended,
			{ label: 'Other', kind: vscode.QuickPickItemKind.Separator, action: { kind: 'separator' } },
			{
				label: '$(folder) Use a local folder…',
				detail: 'A converted model: config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx.',
				action: { kind: 'folder' },
			},
			{
				label: '$(cloud) Enter a Hub id…',
				detail: 'Any encoder reward model on the Hugging Face Hub (owner/name).',
				action: { kind: 'hub' },
			},
			{
				label: mark('', '$(circle-slash) None: rank by consensus'),
				detail: 'The candidate most like the others wins. Nothing to download.',
				action: { kind: 'none' },
			},
		];
		const pick = vscode.window.createQuickPick<Item>();
		pick.title = 'Best-of-N: Select Reward Model';
		pick.placeholder = current ? `Current: ${current} (${settings.rewardDtype})` : 'Current: none, candidates are ranked by consensus';
		pick.matchOnDescription = true;
		pick.matchOnDetail = true;
		pick.items = items;
		const active = items.find(i => i.label.startsWith('$(check)'));
		if (active) pick.activeItems = [active];
		trackQuickPick(pick);
		return new Promise(resolve => {
			pick.onDidAccept(() => {
				const action = pick.selectedItems[0]?.action;
				if (!action || action.kind === 'separator') return;
				resolve(action);
				pick.hide();
			});
			pick.onDidHide(() => {
				resolve(undefined);
				pick.dispose();
			});
			pick.show();
		});
	}

	/**
	 * Checks (folders) and loads `model`; saves it when it loads. Otherwise says why, keeps the
	 * previous choice, and may hand back what the person chose to do next (another folder or id).
	 */
	private async tryModel(model: string, scope?: Scope): Promise<RewardChoiceOutcome> {
		const settings = readSettings(this.logger);
		const where = locateModel(resolveModelLocation(model));
		if (where.source === 'local') {
			const check = checkRewardFolder(where.dir, settings.rewardDtype);
			if (check.problems.length) {
				const message = `${model} cannot be the reward model: ${check.problems.join('; ')}. The previous choice is kept.`;
				const command = check.onlyOnnxMissing ? conversionCommand(model, `${model}-onnx`) : undefined;
				return this.explain(message, command, [CHOOSE_FOLDER], scope);
			}
		}
		try {
			await this.load(model, settings);
		} catch (e) {
			if (isCancelled(e)) return { saved: false, message: 'Cancelled.' };
			this.logger.warn(`reward model ${model} did not load: ${errorMessage(e)}`);
			const noOnnx = e instanceof BestOfNError && e.kind === 'reward-no-onnx';
			const message = noOnnx
				? `${model} has no ONNX weights for dtype ${settings.rewardDtype}, which transformers.js needs. The previous choice is kept.`
				: `${errorMessage(e)} The previous choice is kept.`;
			const command = noOnnx
				? conversionCommand(model, where.source === 'hub' ? suggestedFolder(model) : `${model}-onnx`)
				: undefined;
			return this.explain(message, command, noOnnx ? [CHOOSE_FOLDER] : [ANOTHER_ID, CHOOSE_FOLDER], scope);
		}
		const target = await chooseScope('rewardModel', model, scope);
		if (!target) return { saved: false };
		await writeSetting('rewardModel', model, target);
		// A model chosen here is meant to rank: lift an explicit consensus setting.
		if (readSettings().ranker === 'consensus') await writeSetting('ranker', 'auto', target);
		this.logger.info(`reward model: ${model} (${target} settings)`);
		void vscode.window.showInformationMessage(`Best-of-N: ${model} ranks the candidates from the next run on.`);
		return { saved: true, model };
	}

	/** Loads in a worker of its own with a cancellable notification and the status bar showing bytes and percent. */
	private load(model: string, settings: ReturnType<typeof readSettings>): Thenable<void> {
		return vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: `Loading reward model ${model}`, cancellable: true },
			async (progress, token) => {
				const controller = new AbortController();
				const task = this.activity.begin({ label: 'Loading reward model', cancel: () => controller.abort() });
				const sub = token.onCancellationRequested(() => controller.abort());
				const percents = new Map<string, number>();
				let shown = 0;
				try {
					await this.rewards.trial(model, settings, controller.signal, (p: LoadProgress) => {
						const line = describeLoad(p);
						if (p.status === 'progress' && p.percent !== undefined) percents.set(p.file, p.percent);
						// The bar follows the largest file being fetched (the weights); the others are small.
						const percent = percents.size ? Math.floor(Math.max(...percents.values())) : 0;
						progress.report({ message: line, increment: Math.max(0, percent - shown) });
						shown = Math.max(shown, percent);
						task.update(percents.size ? `Loading reward model ${percent}%` : 'Loading reward model');
					});
				} finally {
					sub.dispose();
					task.dispose();
				}
			},
		);
	}

	/**
	 * Shows why a choice was not saved, with its ways out, and resolves at once (the message may stay
	 * in the notification centre for long); a button pressed later starts what it says.
	 */
	private explain(message: string, command: string | undefined, extra: readonly string[], scope: Scope | undefined): RewardChoiceOutcome {
		const shownMessage = command ? `${message} Convert it once with: ${command}` : message;
		const actions = [...(command ? [COPY, TERMINAL] : []), ...extra];
		void vscode.window.showErrorMessage(`Best-of-N: ${shownMessage}`, ...actions).then(async choice => {
			switch (choice) {
				case COPY:
					await vscode.env.clipboard.writeText(command!);
					void vscode.window
						.showInformationMessage(
							'Best-of-N: conversion command copied. Once it has run, choose the folder it wrote.',
							CHOOSE_FOLDER,
						)
						.then(next => next === CHOOSE_FOLDER && void this.act({ kind: 'folder' }, scope));
					return;
				case TERMINAL: {
					const terminal = vscode.window.createTerminal({ name: 'Best-of-N: convert reward model' });
					terminal.show();
					// Typed, not run: the person reads it and presses Enter (it downloads, and needs Python's optimum).
					terminal.sendText(command!, false);
					return;
				}
				case CHOOSE_FOLDER:
					return void this.act({ kind: 'folder' }, scope);
				case ANOTHER_ID:
					return void this.act({ kind: 'hub' }, scope);
			}
		});
		return { saved: false, message: shownMessage, actions, command };
	}
}

/** "Downloading onnx/model.onnx: 12 MB of 540 MB (2%)". */
export function describeLoad(p: LoadProgress): string {
	switch (p.status) {
		case 'initiate':
			return `Looking for ${p.file}`;
		case 'download':
			return `Downloading ${p.file}`;
		case 'progress':
			if (p.loaded !== undefined && p.total !== undefined)
				return `Downloading ${p.file}: ${formatBytes(p.loaded)} of ${formatBytes(p.total)} (${Math.floor(p.percent ?? (100 * p.loaded) / p.total)}%)`;
			return p.percent !== undefined ? `Downloading ${p.file} (${Math.floor(p.percent)}%)` : `Downloading ${p.file}`;
		case 'done':
			return `Loaded ${p.file}`;
		case 'ready':
			return 'Ready';
	}
}

async function askFolder(): Promise<string | undefined> {
	const uris = await vscode.window.showOpenDialog({
		canSelectFolders: true,
		canSelectFiles: false,
		canSelectMany: false,
		openLabel: 'Use as Reward Model',
		title: 'Best-of-N: Reward Model Folder',
		defaultUri: vscode.Uri.file(os.homedir()),
	});
	return uris?.[0]?.fsPath;
}

async function askHubId(): Promise<string | undefined> {
	const id = await vscode.window.showInputBox({
		title: 'Best-of-N: Reward Model from the Hub',
		prompt: 'The model id on the Hugging Face Hub (owner/name). It must be an encoder with a sequence-classification head.',
		placeHolder: 'OpenAssistant/reward-model-deberta-v3-large-v2',
		validateInput: v => {
			const t = v.trim();
			if (!t) return undefined;
			return /^[\w.-]+(\/[\w.-]+)?$/.test(t) ? undefined : 'A Hub id looks like owner/name.';
		},
	});
	return id?.trim() || undefined;
}

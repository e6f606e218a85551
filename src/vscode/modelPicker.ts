/**
 * Best-of-N: Select Generation Model. A quick pick of the models the configured server has (size,
 * quantization, which are in memory), the current one marked; "Pull a model…" for servers that can
 * pull. The choice goes to `bestOfN.model` in the scope the person picks; runs read settings at their
 * start, so the next run uses it without a reload. The server is reached through a `ModelCatalog`,
 * never by engine name.
 */
import * as vscode from 'vscode';
import { BestOfNError, errorMessage, isCancelled } from '../core/errors';
import type { Logger } from '../core/logger';
import { describePull, formatBytes, type ModelCatalog, type ServerModel } from '../core/modelCatalog';
import { runSettings } from '../core/settings';
import { modelCatalogFor } from '../generation/modelCatalog';
import type { Activity } from './activity';
import type { ApiKeys } from './apiKeys';
import { openSettings, readSettings } from './config';
import { trackQuickPick } from './pickTracker';
import { chooseScope, parseScope, writeSetting, type Scope } from './settingScope';

/** `{ "model": "name", "scope": "user" | "workspace" }`, as a keybinding may pass it. */
export function parseSelectModelArgs(value: unknown): { model?: string; scope?: Scope } {
	if (typeof value !== 'object' || value === null) return {};
	const m = value as Record<string, unknown>;
	const model = typeof m.model === 'string' && m.model.trim() ? m.model.trim() : undefined;
	return { model, scope: parseScope(m.scope) };
}

type Action =
	| { readonly kind: 'model'; readonly name: string }
	| { readonly kind: 'pull'; readonly name?: string }
	| { readonly kind: 'openHost' }
	| { readonly kind: 'setApiKey' }
	| { readonly kind: 'retry' }
	| { readonly kind: 'none' };

type Item = vscode.QuickPickItem & { readonly action: Action };

const separator = (label: string): Item => ({ label, kind: vscode.QuickPickItemKind.Separator, action: { kind: 'none' } });

/** One row per installed model: "8.0B · Q4_K_M · 4.9 GB · loaded", the current one checked. */
export function modelItem(model: ServerModel, current: string): Item {
	const facts = [
		model.parameterSize,
		model.quantization,
		model.sizeBytes ? formatBytes(model.sizeBytes) : undefined,
		model.loaded ? 'loaded' : undefined,
	].filter(Boolean);
	const isCurrent = sameModel(model.name, current);
	return {
		label: isCurrent ? `$(check) ${model.name}` : model.name,
		description: [...facts, ...(isCurrent ? ['current'] : [])].join(' · '),
		action: { kind: 'model', name: model.name },
	};
}

/** Ollama reads `llama3` as `llama3:latest`. */
function sameModel(a: string, b: string): boolean {
	const canonical = (n: string) => (n.slice(n.lastIndexOf('/') + 1).includes(':') ? n : `${n}:latest`).toLowerCase();
	return canonical(a) === canonical(b);
}

export class ModelPicker {
	constructor(
		private readonly logger: Logger,
		private readonly activity: Activity,
		private readonly apiKeys: ApiKeys,
	) {}

	/**
	 * The command. With `{ model }` it selects that model without the list (pulling it first if the
	 * server lacks it and can pull). Resolves with the model now in `bestOfN.model`, or undefined.
	 */
	async selectModel(args?: unknown): Promise<string | undefined> {
		const given = parseSelectModelArgs(args);
		const catalog = modelCatalogFor(readSettings(this.logger), { logger: this.logger, apiKey: url => this.apiKeys.get(url) });
		if (given.model) return this.useModel(catalog, given.model, given.scope);
		for (;;) {
			const action = await this.pick(catalog);
			switch (action?.kind) {
				case 'model':
					return this.save(action.name, given.scope);
				case 'pull': {
					const name = action.name ?? (await askModelName(catalog));
					if (!name) return undefined;
					return (await this.pull(catalog, name)) ? this.save(name, given.scope) : undefined;
				}
				case 'openHost':
					void openSettings(catalog.hostSetting);
					return undefined;
				case 'setApiKey':
					// The key is read at each request: a key saved now is used by the next listing.
					if (!(await vscode.commands.executeCommand<boolean>('bestOfN.setApiKey'))) return undefined;
					continue;
				case 'retry':
					continue;
				default:
					return undefined;
			}
		}
	}

	/** Selects `name`, pulling it first when the server lacks it. */
	private async useModel(catalog: ModelCatalog, name: string, scope?: Scope): Promise<string | undefined> {
		let installed: ServerModel[] | undefined;
		try {
			installed = await catalog.listModels(new AbortController().signal);
		} catch (e) {
			this.logger.warn(`could not list models on ${catalog.serverName}: ${errorMessage(e)}`);
		}
		if (installed && !installed.some(m => sameModel(m.name, name)) && catalog.pull && !(await this.pull(catalog, name)))
			return undefined;
		return this.save(name, scope);
	}

	private async save(name: string, scope?: Scope): Promise<string | undefined> {
		// The built-in backend runs its own setting's model; `bestOfN.model` names a server's model.
		const key = readSettings().backend === 'builtin' ? 'builtin.model' : 'model';
		const where = await chooseScope(key, name, scope);
		if (!where) return undefined;
		await writeSetting(key, name, where);
		this.logger.info(`generation model: ${name} (${where} settings)`);
		return name;
	}

	/** Shows the list; resolves with what was chosen, undefined when dismissed. */
	private pick(catalog: ModelCatalog): Promise<Action | undefined> {
		const current = runSettings(readSettings()).model;
		const pick = vscode.window.createQuickPick<Item>();
		pick.title = 'Best-of-N: Select Generation Model';
		pick.placeholder = `Asking ${catalog.serverName} for its models…`;
		pick.matchOnDescription = true;
		pick.busy = true;
		const pullItems = (typed: string): Item[] => {
			if (!catalog.pull) return [];
			const name = typed.trim();
			const exact = name && listed.some(m => sameModel(m.name, name));
			return [
				separator('Get another model'),
				...(name && !exact && !/\s/.test(name)
					? [{ label: `$(cloud-download) Pull "${name}"`, alwaysShow: true, action: { kind: 'pull', name } } satisfies Item]
					: []),
				{
					label: '$(cloud-download) Pull a model…',
					detail: `Download a model by name onto ${catalog.serverName} (e.g. qwen2.5-coder:7b)`,
					alwaysShow: true,
					action: { kind: 'pull' },
				},
			];
		};
		let listed: ServerModel[] = [];
		let modelItems: Item[] = [];
		let failed = false;
		pick.items = pullItems('');
		trackQuickPick(pick);

		const controller = new AbortController();
		catalog.listModels(controller.signal).then(
			models => {
				listed = models;
				modelItems = models.length
					? [
							separator(`${catalog.pull ? 'Installed on' : 'Served by'} ${catalog.serverName}`),
							...models.map(m => modelItem(m, current)),
						]
					: [
							{
								label: catalog.pull ? '$(info) No models installed yet' : '$(info) The server lists no models',
								detail: catalog.pull ? 'Pull one below.' : `Install one on ${catalog.serverName}.`,
								action: { kind: 'none' },
							},
						];
				pick.items = [...modelItems, ...pullItems(pick.value)];
				const active = pick.items.find(i => i.action.kind === 'model' && sameModel(i.action.name, current));
				if (active) pick.activeItems = [active];
				pick.placeholder = `Current: ${current}. Type to filter${catalog.pull ? ', or a name to pull' : ''}.`;
				pick.busy = false;
			},
			(e: unknown) => {
				if (isCancelled(e)) return;
				const unreachable = e instanceof BestOfNError && e.kind === 'unreachable';
				const unauthorized = e instanceof BestOfNError && e.kind === 'unauthorized';
				modelItems = [
					{
						label: unreachable ? `$(error) ${catalog.serverName} does not answer` : '$(error) Could not list the models',
						detail: errorMessage(e),
						action: { kind: 'none' },
					},
					...(unauthorized ? [{ label: '$(key) Set API Key…', action: { kind: 'setApiKey' } } satisfies Item] : []),
					{ label: `$(gear) Open Setting bestOfN.${catalog.hostSetting}`, action: { kind: 'openHost' } },
					{ label: '$(refresh) Try Again', action: { kind: 'retry' } },
				];
				failed = true;
				pick.items = modelItems;
				pick.placeholder = `Current: ${current}. The model list is unavailable.`;
				pick.busy = false;
			},
		);
		pick.onDidChangeValue(value => {
			if (!failed) pick.items = [...modelItems, ...pullItems(value)];
		});

		return new Promise<Action | undefined>(resolve => {
			pick.onDidAccept(() => {
				const action = pick.selectedItems[0]?.action;
				if (!action || action.kind === 'none') return;
				resolve(action);
				pick.hide();
			});
			pick.onDidHide(() => {
				controller.abort();
				resolve(undefined);
				pick.dispose();
			});
			pick.show();
		});
	}

	/**
	 * Pulls `name` with streamed, cancellable progress in a notification and the status bar
	 * (Best-of-N: Cancel stops it too). Resolves true once the server has it.
	 */
	pull(catalog: ModelCatalog, name: string): Thenable<boolean> {
		const pullFn = catalog.pull;
		if (!pullFn) return Promise.resolve(false);
		return vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: `Pulling ${name}`, cancellable: true },
			async (progress, token) => {
				const controller = new AbortController();
				const task = this.activity.begin({ label: `Pulling ${name}`, cancel: () => controller.abort() });
				const sub = token.onCancellationRequested(() => controller.abort());
				// The bar follows the largest part (the weights); small parts would only make it jump back.
				let largest = 0;
				let shown = 0;
				try {
					await pullFn(name, controller.signal, p => {
						let increment = 0;
						if (p.total !== undefined && p.percent !== undefined && p.total >= largest) {
							if (p.total > largest) shown = 0;
							largest = p.total;
							increment = Math.max(0, p.percent - shown);
							shown = Math.max(shown, p.percent);
						}
						progress.report({ message: describePull(p), increment });
						task.update(p.percent !== undefined && p.total === largest ? `Pulling ${name} ${p.percent}%` : `Pulling ${name}`);
					});
					this.logger.info(`pulled ${name} onto ${catalog.serverName}`);
					return true;
				} catch (e) {
					if (isCancelled(e)) {
						this.logger.info(`pull of ${name} cancelled`);
					} else {
						this.logger.error(`pulling ${name} failed: ${errorMessage(e)}`);
						void vscode.window.showErrorMessage(`Pulling ${name} failed: ${errorMessage(e)}`, 'Show Log').then(choice => {
							if (choice === 'Show Log') void vscode.commands.executeCommand('bestOfN.showLog');
						});
					}
					return false;
				} finally {
					sub.dispose();
					task.dispose();
				}
			},
		);
	}
}

async function askModelName(catalog: ModelCatalog): Promise<string | undefined> {
	const name = await vscode.window.showInputBox({
		title: 'Best-of-N: Pull a Model',
		prompt: `The model's name as ${catalog.serverName} knows it; see ollama.com/library.`,
		placeHolder: 'qwen2.5-coder:7b',
		validateInput: v => (!v.trim() ? undefined : /\s/.test(v.trim()) ? 'A model name has no spaces.' : undefined),
	});
	return name?.trim() || undefined;
}

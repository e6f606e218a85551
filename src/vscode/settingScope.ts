/**
 * Where a picker writes its choice: user settings (every workspace) or this workspace's settings,
 * as the person picks. An untrusted workspace, or a window without a folder, gets user settings
 * without a question: workspace values of the restricted settings are ignored there anyway.
 */
import * as vscode from 'vscode';
import { RESTRICTED_SETTING_KEYS } from '../core/settings';
import { SECTION } from './config';
import { trackQuickPick } from './pickTracker';

/** package.json's `capabilities.untrustedWorkspaces.restrictedConfigurations`, without the prefix. */
const RESTRICTED: ReadonlySet<string> = new Set(RESTRICTED_SETTING_KEYS);

export type Scope = 'user' | 'workspace';

export function parseScope(value: unknown): Scope | undefined {
	return value === 'user' || value === 'workspace' ? value : undefined;
}

export function canWriteWorkspace(): boolean {
	return vscode.workspace.isTrusted && (vscode.workspace.workspaceFolders?.length ?? 0) > 0;
}

/** Asks where to save `bestOfN.<key>`; undefined when the person backs out. */
export async function chooseScope(key: string, value: string, given?: Scope): Promise<Scope | undefined> {
	if (!canWriteWorkspace()) return 'user';
	if (given) return given;
	const inspected = vscode.workspace.getConfiguration(SECTION).inspect(key);
	const workspaceValue = inspected?.workspaceValue ?? inspected?.workspaceFolderValue;
	type Item = vscode.QuickPickItem & { scope: Scope };
	const items: [user: Item, workspace: Item] = [
		{
			scope: 'user',
			label: 'User Settings',
			description: 'every workspace',
			detail:
				workspaceValue !== undefined
					? `This workspace sets its own value (${JSON.stringify(workspaceValue)}), which wins here until it is removed.`
					: undefined,
		},
		{ scope: 'workspace', label: 'Workspace Settings', description: 'only this workspace (.vscode/settings.json)' },
	];
	const pick = vscode.window.createQuickPick<Item>();
	pick.title = `Best-of-N: Save ${value} for…`;
	pick.placeholder = `Where to save bestOfN.${key}`;
	pick.items = items;
	// Offer first where the value lives now.
	if (workspaceValue !== undefined) pick.activeItems = [items[1]];
	trackQuickPick(pick);
	const picked = await new Promise<Item | undefined>(resolve => {
		pick.onDidAccept(() => {
			resolve(pick.selectedItems[0]);
			pick.hide();
		});
		pick.onDidHide(() => {
			resolve(undefined);
			pick.dispose();
		});
		pick.show();
	});
	return picked?.scope;
}

/**
 * Writes `bestOfN.<key>` at `scope`. When a workspace value would still win over a user value, says
 * so and offers to remove it, so the choice never silently does nothing.
 */
export async function writeSetting(key: string, value: unknown, scope: Scope): Promise<void> {
	const config = vscode.workspace.getConfiguration(SECTION);
	await config.update(key, value, scope === 'workspace' ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
	if (scope !== 'user') return;
	const inspected = vscode.workspace.getConfiguration(SECTION).inspect(key);
	const shadow = inspected?.workspaceFolderValue ?? inspected?.workspaceValue;
	if (shadow === undefined || JSON.stringify(shadow) === JSON.stringify(value)) return;
	// Untrusted, VS Code itself ignores workspace values of the restricted settings.
	if (!vscode.workspace.isTrusted && RESTRICTED.has(key)) return;
	void vscode.window
		.showWarningMessage(
			`Saved in your user settings, but this workspace sets bestOfN.${key} to ${JSON.stringify(shadow)}, which wins here.`,
			'Remove Workspace Value',
		)
		.then(async choice => {
			if (choice !== 'Remove Workspace Value') return;
			await vscode.workspace.getConfiguration(SECTION).update(key, undefined, vscode.ConfigurationTarget.Workspace);
		});
}

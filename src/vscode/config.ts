/**
 * The one place that reads `bestOfN.*` settings. Values are re-read at the start of every run, so a
 * change takes effect on the next run without a reload. Workspace values of the restricted settings
 * (`RESTRICTED_SETTING_KEYS`: the backend, its server, model folders) are ignored by VS Code itself in untrusted workspaces, per
 * `capabilities.untrustedWorkspaces.restrictedConfigurations` in package.json.
 */
import * as vscode from 'vscode';
import { parseSettings, SETTING_KEYS, type Settings } from '../core/settings';
import type { Logger } from '../core/logger';

export const SECTION = 'bestOfN';

/** The `bestOfN.*` values as configured, keyed as in package.json without the prefix. */
export function rawSettings(): Record<string, unknown> {
	const config = vscode.workspace.getConfiguration(SECTION);
	const raw: Record<string, unknown> = {};
	for (const key of Object.keys(SETTING_KEYS)) raw[key] = config.get(key);
	return raw;
}

export function readSettings(logger?: Logger): Settings {
	const { settings, problems } = parseSettings(rawSettings());
	for (const problem of problems) logger?.warn(problem);
	return settings;
}

/** Fires when any `bestOfN.*` setting changes. */
export function onDidChangeSettings(listener: () => void): vscode.Disposable {
	return vscode.workspace.onDidChangeConfiguration(e => {
		if (e.affectsConfiguration(SECTION)) listener();
	});
}

export function openSettings(key?: string): Thenable<unknown> {
	return vscode.commands.executeCommand('workbench.action.openSettings', key ? `${SECTION}.${key}` : SECTION);
}

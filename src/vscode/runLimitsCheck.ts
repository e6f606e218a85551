/**
 * The run caps (core/runLimits.ts) as the extension meets them: checked when a command is given,
 * before an instruction is asked for, a picker opens or anything is sent; the document is not touched.
 */
import * as vscode from 'vscode';
import { keyOf, type Settings } from '../core/settings';
import type { Logger } from '../core/logger';
import { runLimitError } from '../core/runLimits';
import { openSettings } from './config';

/** True when the run must not start; the person is told why, with the setting to change. */
export function refusedByLimits(settings: Settings, selectionLength: number, logger: Logger): boolean {
	const error = runLimitError(settings, selectionLength);
	if (!error) return false;
	logger.warn(`run refused: ${error.message}`);
	const open = error.setting ? 'Open Settings' : undefined;
	void vscode.window.showErrorMessage(`Best-of-N: ${error.message}`, ...(open ? [open] : [])).then(choice => {
		if (choice === open && error.setting) void openSettings(keyOf(error.setting));
	});
	return true;
}

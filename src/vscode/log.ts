import * as vscode from 'vscode';
import type { Logger } from '../core/logger';

/** The extension's single log; a `LogOutputChannel` already satisfies the pure `Logger` interface. */
export function createLog(): vscode.LogOutputChannel & Logger {
	return vscode.window.createOutputChannel('Best-of-N', { log: true });
}

/**
 * Best-of-N: Show Ranking Report — one webview panel, redrawn from the log whenever it changes.
 * The page is the picker's strict shell (nonce'd bundle, no inline code, no remote resources); the
 * charts are SVG the bundle builds with DOM calls.
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { rankingReport } from '../core/agreement';
import { errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import { parseReportMessage, type HostToReport, type ReportToHost } from '../core/reportProtocol';
import { openSettings } from './config';
import { Disposable } from './dispose';
import { buildPickerHtml } from './pickerHtml';
import type { PreferenceStore } from './preferenceStore';

export class ReportPanel extends Disposable {
	static readonly viewType = 'bestOfN.report';
	private static current?: ReportPanel;

	/** Shows the report, reusing the open panel. */
	static show(extensionUri: vscode.Uri, store: PreferenceStore, logger: Logger): ReportPanel {
		if (ReportPanel.current && !ReportPanel.current.isDisposed) {
			ReportPanel.current.panel.reveal();
			void ReportPanel.current.refresh();
			return ReportPanel.current;
		}
		const panel = vscode.window.createWebviewPanel(
			ReportPanel.viewType,
			'Best-of-N: Ranking Report',
			{ viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
			{
				enableScripts: true,
				localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
			},
		);
		ReportPanel.current = new ReportPanel(panel, extensionUri, store, logger);
		return ReportPanel.current;
	}

	/** Closes the open report (the extension is going away). */
	static closeCurrent(): void {
		ReportPanel.current?.dispose();
	}

	private ready = false;

	private constructor(
		private readonly panel: vscode.WebviewPanel,
		extensionUri: vscode.Uri,
		private readonly store: PreferenceStore,
		private readonly logger: Logger,
	) {
		super();
		this._register(panel);
		this._register(panel.onDidDispose(() => this.dispose()));
		this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)));
		this._register(store.onDidChange(() => void this.refresh()));
		const webview = panel.webview;
		webview.html = buildPickerHtml({
			cspSource: webview.cspSource,
			nonce: crypto.randomBytes(16).toString('base64'),
			scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'report.js')).toString(),
			styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'report.css')).toString(),
			title: 'Best-of-N: Ranking Report',
		});
	}

	/** Recomputes the report from the log and posts it, once the page has said `ready`. */
	async refresh(): Promise<void> {
		if (!this.ready || this.isDisposed) return;
		try {
			const { records } = await this.store.read();
			const message: HostToReport = { type: 'report', report: rankingReport(records) };
			await this.panel.webview.postMessage(message);
		} catch (e) {
			this.logger.error(`ranking report: ${errorMessage(e)}`);
			void vscode.window.showErrorMessage(`Best-of-N could not read the preference log: ${errorMessage(e)}`);
		}
	}

	private receive(raw: unknown): void {
		const message: ReportToHost | undefined = parseReportMessage(raw);
		if (!message) {
			this.logger.debug('ranking report: ignored a malformed message');
			return;
		}
		switch (message.type) {
			case 'ready':
				this.ready = true;
				void this.refresh();
				return;
			case 'export':
				void vscode.commands.executeCommand('bestOfN.exportPreferences');
				return;
			case 'evaluate':
				void vscode.commands.executeCommand('bestOfN.evaluateRewardModel');
				return;
			case 'openSettings':
				void openSettings('preferences');
				return;
			default: {
				const never: never = message;
				this.logger.debug(`ranking report: unhandled ${JSON.stringify(never)}`);
			}
		}
	}

	override dispose(): void {
		if (ReportPanel.current === this) ReportPanel.current = undefined;
		super.dispose();
	}
}

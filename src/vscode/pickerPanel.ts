import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { parseWebviewMessage, type HostToWebview, type PickerState, type WebviewToHost } from '../core/protocol';
import { Disposable } from './dispose';
import { buildPickerHtml } from './pickerHtml';
import { SnapshotSender } from './snapshotSender';

export interface PickerPanelLogger {
	debug(message: string): void;
}

/** Streaming produces a snapshot per token batch; ten redraws a second is plenty for the eye. */
const POST_INTERVAL_MS = 100;

function describe(raw: unknown): string {
	try {
		const text = JSON.stringify(raw) ?? String(raw);
		return text.length > 200 ? `${text.slice(0, 200)}…` : text;
	} catch {
		return Object.prototype.toString.call(raw);
	}
}

/**
 * The host side of the candidate picker: one webview panel per run.
 *
 * The webview keeps no context when hidden, because it redraws from one snapshot: whenever its page
 * (re)loads it says `ready` and gets the newest `PickerState`. Messages from it are untrusted and
 * only those that pass `parseWebviewMessage` reach `onMessage` (including `ready`).
 */
export class PickerPanel extends Disposable {
	static readonly viewType = 'bestOfN.picker';

	static create(
		extensionUri: vscode.Uri,
		title: string,
		viewColumn: vscode.ViewColumn = vscode.ViewColumn.Beside,
		logger?: PickerPanelLogger,
	): PickerPanel {
		const panel = vscode.window.createWebviewPanel(
			PickerPanel.viewType,
			title,
			// The picker is keyboard-first, so it takes focus when it opens.
			{ viewColumn, preserveFocus: false },
			{
				enableScripts: true,
				localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
				retainContextWhenHidden: false,
			},
		);
		return new PickerPanel(panel, extensionUri, title, logger);
	}

	private readonly _onMessage = this._register(new vscode.EventEmitter<WebviewToHost>());
	readonly onMessage: vscode.Event<WebviewToHost> = this._onMessage.event;

	// Not registered: it must outlive the other disposables long enough to announce their end.
	private readonly _onDidDispose = new vscode.EventEmitter<void>();
	readonly onDidDispose: vscode.Event<void> = this._onDidDispose.event;

	private readonly sender: SnapshotSender<PickerState>;

	private constructor(
		private readonly panel: vscode.WebviewPanel,
		extensionUri: vscode.Uri,
		title: string,
		private readonly logger?: PickerPanelLogger,
	) {
		super();
		// Registered first so it is disposed last, after the listeners on it.
		this._register(panel);
		this.sender = new SnapshotSender<PickerState>(state => this.post(state), POST_INTERVAL_MS);
		this._register({ dispose: () => this.sender.dispose() });

		this._register(panel.onDidDispose(() => this.dispose()));
		this._register(
			panel.onDidChangeViewState(() => {
				if (!panel.visible) this.sender.notReady();
			}),
		);
		this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)));

		const webview = panel.webview;
		webview.html = buildPickerHtml({
			cspSource: webview.cspSource,
			nonce: crypto.randomBytes(16).toString('base64'),
			scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'picker.js')).toString(),
			styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'picker.css')).toString(),
			title,
		});
	}

	/** Posts at most every ~100 ms, always the newest snapshot, and nothing before `ready`. */
	update(state: PickerState): void {
		if (this.isDisposed) return;
		this.sender.update(state);
	}

	reveal(): void {
		if (this.isDisposed) return;
		this.panel.reveal(undefined, false);
	}

	override dispose(): void {
		if (this.isDisposed) return;
		try {
			super.dispose();
		} finally {
			this._onDidDispose.fire();
			this._onDidDispose.dispose();
		}
	}

	private receive(raw: unknown): void {
		const message = parseWebviewMessage(raw);
		if (!message) {
			this.logger?.debug(`picker: ignored malformed message ${describe(raw)}`);
			return;
		}
		if (message.type === 'ready') this.sender.ready();
		this._onMessage.fire(message);
	}

	private post(state: PickerState): void {
		const message: HostToWebview = { type: 'state', state };
		this.panel.webview.postMessage(message).then(
			delivered => {
				// Not delivered means the page is gone; its next `ready` gets the newest snapshot.
				if (!delivered) this.logger?.debug('picker: snapshot not delivered (webview not loaded)');
			},
			(e: unknown) => this.logger?.debug(`picker: postMessage failed: ${String(e)}`),
		);
	}
}

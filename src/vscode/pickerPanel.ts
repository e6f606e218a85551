import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { parseWebviewMessage, type HostToWebview, type PickerState, type WebviewToHost } from '../core/protocol';
import { Disposable } from './dispose';
import { buildPickerHtml, pickerPlaceholder } from './pickerHtml';
import { pickerNews, SnapshotSender } from './snapshotSender';

export interface PickerPanelLogger {
	debug(message: string): void;
}

/** Where the picker is: its column, and whether it is alone in its group (which closes with it). */
export interface PickerPlace {
	readonly column: vscode.ViewColumn;
	readonly alone: boolean;
}

/** Streaming produces a snapshot per token batch; ten redraws a second is plenty for the eye (news goes at once). */
const POST_INTERVAL_MS = 100;

export function isPickerTab(tab: vscode.Tab): boolean {
	return tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith(PickerPanel.viewType);
}

function describe(raw: unknown): string {
	try {
		const text = JSON.stringify(raw) ?? String(raw);
		return text.length > 200 ? `${text.slice(0, 200)}…` : text;
	} catch {
		return Object.prototype.toString.call(raw);
	}
}

/**
 * The host side of the candidate picker: one webview panel per session (runs replace each other in it).
 *
 * The webview keeps no context when hidden, because it redraws from one snapshot: its first page is
 * written with the first `PickerState` in it, and whenever a page (re)loads it says `ready` and gets
 * the newest one it has not drawn. Messages from it are untrusted and
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
	private readonly _onDidDispose = new vscode.EventEmitter<{ readonly wasActive: boolean }>();
	/** Fires once; `wasActive` says whether the picker had focus when it went. */
	readonly onDidDispose: vscode.Event<{ readonly wasActive: boolean }> = this._onDidDispose.event;

	/** `panel.active` as last reported: a disposed panel can no longer be asked. */
	private wasActive = false;
	private groupLocked = false;

	private readonly sender: SnapshotSender<PickerState>;
	/** The snapshot `update` was given last, to tell news from a stream growing. */
	private lastUpdate: PickerState | undefined;
	/** Set once the page is written; `state`: the snapshot in it, until the first `ready`. */
	private pageWritten: { state: PickerState | undefined } | undefined;

	private constructor(
		private readonly panel: vscode.WebviewPanel,
		private readonly extensionUri: vscode.Uri,
		private readonly title: string,
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
				this.wasActive = panel.active;
				if (!panel.visible) this.sender.notReady();
				this.lockGroupIfOwn();
			}),
		);
		// The tab model reaches the extension host after the panel's first view state; wait for either.
		this._register(vscode.window.tabGroups.onDidChangeTabs(() => this.lockGroupIfOwn()));
		this.wasActive = panel.active;
		this.lockGroupIfOwn();
		this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)));
	}

	/**
	 * Posts at most every ~100 ms, always the newest snapshot, and nothing before `ready`; news (a
	 * candidate's first text, a score, a status) at once.
	 */
	update(state: PickerState): void {
		if (this.isDisposed) return;
		if (!this.pageWritten) this.writePage(state);
		this.sender.update(state, pickerNews(this.lastUpdate, state));
		this.lastUpdate = state;
	}

	/** The editor column the picker is in. */
	get viewColumn(): vscode.ViewColumn | undefined {
		return this.isDisposed ? undefined : this.panel.viewColumn;
	}

	/** Where the picker is, while it is open: its column, and whether its group goes with it. */
	get place(): PickerPlace | undefined {
		const column = this.viewColumn;
		const group = vscode.window.tabGroups.all.find(g => g.viewColumn === column);
		return column === undefined || !group ? undefined : { column, alone: group.tabs.every(isPickerTab) };
	}

	/**
	 * Disposes the panel and resolves once its tab has left the workbench, or after `timeoutMs`. Its
	 * page can take the keyboard back while it goes, so focus given to an editor before that may not last.
	 */
	close(timeoutMs = 500): Promise<void> {
		const count = () => vscode.window.tabGroups.all.reduce((n, group) => n + group.tabs.filter(isPickerTab).length, 0);
		const before = count();
		const gone = new Promise<void>(resolve => {
			if (before === 0) return resolve();
			const done = () => {
				clearTimeout(timer);
				listener.dispose();
				resolve();
			};
			const timer = setTimeout(done, timeoutMs);
			const listener = vscode.window.tabGroups.onDidChangeTabs(() => {
				if (count() < before) done();
			});
		});
		this.dispose();
		return gone;
	}

	override dispose(): void {
		if (this.isDisposed) return;
		const wasActive = this.wasActive;
		try {
			super.dispose();
		} finally {
			this._onDidDispose.fire({ wasActive });
			this._onDidDispose.dispose();
		}
	}

	/**
	 * Keeps other editors out of the picker's group. A file opened from the explorer or Quick Open
	 * lands in the active group, which is the picker's while the picker has focus; VS Code sends new
	 * editors past a locked group to the group used before it (as it does for locked terminal and
	 * preview groups). Only a group of the picker's own (it opened beside the editor into a new
	 * group) is locked: it closes with the picker, so no lock outlives it. Locking acts on the active
	 * group, hence the wait until the picker is active.
	 */
	private lockGroupIfOwn(): void {
		if (this.groupLocked || this.isDisposed || !this.panel.active) return;
		const group = vscode.window.tabGroups.activeTabGroup;
		const ours = group.viewColumn === this.panel.viewColumn && group.tabs.length === 1 && group.tabs.every(isPickerTab);
		if (!ours) return;
		this.groupLocked = true;
		void vscode.commands
			.executeCommand('workbench.action.lockEditorGroup')
			.then(undefined, (e: unknown) => this.logger?.debug(`picker: could not lock its editor group: ${String(e)}`));
	}

	/**
	 * The page is written with the first snapshot in it, so it draws that as soon as it loads instead
	 * of after the round trip of `ready` and the first post. A page
	 * reloaded later (the panel hidden and shown again) gets the same HTML but draws only what it is
	 * posted after its `ready`: it has saved state of its own, which the first page never has.
	 */
	private writePage(state: PickerState): void {
		const webview = this.panel.webview;
		this.pageWritten = { state };
		webview.html = buildPickerHtml({
			cspSource: webview.cspSource,
			nonce: crypto.randomBytes(16).toString('base64'),
			scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'picker.js')).toString(),
			styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'picker.css')).toString(),
			title: this.title,
			state,
			placeholder: pickerPlaceholder(state),
		});
	}

	private receive(raw: unknown): void {
		const message = parseWebviewMessage(raw);
		if (!message) {
			this.logger?.debug(`picker: ignored malformed message ${describe(raw)}`);
			return;
		}
		if (message.type === 'ready') {
			// The first page drew the snapshot in its HTML: posted again only if a newer one came since.
			this.sender.ready(message.drewPageState ? this.pageWritten?.state : undefined);
			if (this.pageWritten) this.pageWritten = { state: undefined };
		}
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

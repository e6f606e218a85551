/**
 * Read-only virtual documents holding a run's original text and its candidates, so VS Code's own
 * diff editor can show them. Their URIs end in the source file's name, which gives them its language.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

export const SCHEME = 'bestofn';

export class CandidateDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
	private readonly contents = new Map<string, string>();
	private readonly changed = new vscode.EventEmitter<vscode.Uri>();
	readonly onDidChange = this.changed.event;
	private readonly registration = vscode.workspace.registerTextDocumentContentProvider(SCHEME, this);

	/** Stores `text` and returns the URI that shows it (`bestofn:/run-3/candidate-2/file.ts`). */
	put(runId: number, label: string, sourceName: string, text: string): vscode.Uri {
		const uri = vscode.Uri.from({ scheme: SCHEME, path: `/run-${runId}/${label}/${path.basename(sourceName) || 'text'}` });
		this.contents.set(uri.toString(), text);
		this.changed.fire(uri);
		return uri;
	}

	/** Forgets a run's documents once its picker is gone. */
	forgetRun(runId: number): void {
		for (const key of [...this.contents.keys()]) {
			if (key.startsWith(`${SCHEME}:/run-${runId}/`)) this.contents.delete(key);
		}
	}

	provideTextDocumentContent(uri: vscode.Uri): string {
		return this.contents.get(uri.toString()) ?? '';
	}

	dispose(): void {
		this.registration.dispose();
		this.changed.dispose();
		this.contents.clear();
	}
}

/**
 * Finds a language's comment tokens the way VS Code does: in the `language-configuration.json` of
 * whichever installed extension contributes that language (`contributes.languages[].configuration`),
 * so a language added by any extension works, not only a fixed list.
 */
import * as vscode from 'vscode';
import { findCommentSyntax, type CommentSyntax } from '../core/commentSyntax';
import type { Logger } from '../core/logger';

export class CommentSyntaxes implements vscode.Disposable {
	private readonly cache = new Map<string, Promise<CommentSyntax | undefined>>();
	// Installing or removing an extension can add or change a language.
	private readonly listener = vscode.extensions.onDidChange(() => this.cache.clear());

	constructor(private readonly logger: Logger) {}

	/** The comment tokens of `languageId`, or undefined when no installed extension declares any. */
	lookup(languageId: string): Promise<CommentSyntax | undefined> {
		let found = this.cache.get(languageId);
		if (!found) {
			found = this.find(languageId);
			this.cache.set(languageId, found);
		}
		return found;
	}

	dispose(): void {
		this.listener.dispose();
		this.cache.clear();
	}

	private find(languageId: string): Promise<CommentSyntax | undefined> {
		const sources = vscode.extensions.all.map(extension => ({
			id: extension.id,
			manifest: extension.packageJSON as unknown,
			read: async (relative: string) =>
				new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extension.extensionUri, relative))),
		}));
		return findCommentSyntax(sources, languageId, message => this.logger.warn(message));
	}
}

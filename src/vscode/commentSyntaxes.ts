/**
 * Finds a language's comment tokens the way VS Code does: in the `language-configuration.json` of
 * whichever installed extension contributes that language (`contributes.languages[].configuration`),
 * so a language added by any extension works, not only a fixed list.
 */
import * as vscode from 'vscode';
import { languageConfigurations, parseCommentSyntax, type CommentSyntax } from '../core/commentSyntax';
import { errorMessage } from '../core/errors';
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

	private async find(languageId: string): Promise<CommentSyntax | undefined> {
		for (const extension of vscode.extensions.all) {
			for (const configuration of languageConfigurations(extension.packageJSON, languageId)) {
				const uri = vscode.Uri.joinPath(extension.extensionUri, configuration);
				try {
					const syntax = parseCommentSyntax(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)));
					if (syntax) return syntax;
				} catch (e) {
					this.logger.warn(`comment syntax of ${languageId} from ${extension.id}: ${errorMessage(e)}`);
				}
			}
		}
		return undefined;
	}
}

/**
 * A language's comment tokens, read from the `language-configuration.json` an extension contributes
 * for it (`contributes.languages[].configuration`), the same file VS Code's own Toggle Line Comment
 * reads. The file is JSON with comments and trailing commas.
 */
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { errorMessage } from './errors';

export interface CommentSyntax {
	/** `//`, `#`, `--`; absent when the language has no line comments. */
	readonly line?: string;
	/** `['/*', '*\/']`, `['<!--', '-->']`. */
	readonly block?: readonly [string, string];
}

/**
 * The comment tokens of one language configuration file, or undefined when it declares none.
 * `lineComment` is a string, or `{ comment, noIndent }` in newer VS Code versions.
 * Throws on a file that is not JSON(C), naming the first problem.
 */
export function parseCommentSyntax(text: string): CommentSyntax | undefined {
	const errors: ParseError[] = [];
	const config: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
	const [error] = errors;
	if (error) throw new Error(`not a language configuration: ${printParseErrorCode(error.error)} at offset ${error.offset}`);
	const comments = isObject(config) ? config.comments : undefined;
	if (!isObject(comments)) return undefined;
	const lineValue = comments.lineComment;
	const line =
		typeof lineValue === 'string'
			? lineValue
			: isObject(lineValue) && typeof lineValue.comment === 'string'
				? lineValue.comment
				: undefined;
	const blockValue = comments.blockComment;
	const block =
		Array.isArray(blockValue) && blockValue.length === 2 && blockValue.every(t => typeof t === 'string' && t.trim() !== '')
			? ([blockValue[0], blockValue[1]] as const)
			: undefined;
	const syntax: CommentSyntax = { ...(line?.trim() ? { line } : {}), ...(block ? { block } : {}) };
	return syntax.line || syntax.block ? syntax : undefined;
}

/**
 * The language configuration files an extension's manifest (`package.json`) declares for `languageId`,
 * relative to the extension's folder: any extension, built in or installed, may contribute a language.
 */
export function languageConfigurations(manifest: unknown, languageId: string): string[] {
	const contributes = isObject(manifest) ? manifest.contributes : undefined;
	const languages = isObject(contributes) ? contributes.languages : undefined;
	if (!Array.isArray(languages)) return [];
	return languages
		.filter((l): l is Record<string, unknown> => isObject(l) && l.id === languageId && typeof l.configuration === 'string')
		.map(l => l.configuration as string);
}

/** An installed extension as the lookup sees it: its manifest, and a way to read a file in its folder. */
export interface LanguageSource {
	readonly id: string;
	readonly manifest: unknown;
	/** The text of a file, by the path the manifest gives (relative to the extension's folder). */
	read(relativePath: string): Promise<string>;
}

/**
 * The comment tokens of `languageId` from the first extension whose configuration file for it declares
 * any, in the order given; a file that cannot be read or parsed is reported and skipped.
 */
export async function findCommentSyntax(
	sources: Iterable<LanguageSource>,
	languageId: string,
	warn: (message: string) => void,
): Promise<CommentSyntax | undefined> {
	for (const source of sources) {
		for (const configuration of languageConfigurations(source.manifest, languageId)) {
			try {
				const syntax = parseCommentSyntax(await source.read(configuration));
				if (syntax) return syntax;
			} catch (e) {
				warn(`comment syntax of ${languageId} from ${source.id}: ${errorMessage(e)}`);
			}
		}
	}
	return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

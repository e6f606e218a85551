/**
 * Syntax highlighting of candidates and diffs, in the selection's language, with highlight.js core and
 * a curated set of 27 grammars: 130 KB minified with the core, where highlight.js's own `common` set
 * is 164 KB and all its grammars 1.09 MB, mostly for languages few people rewrite.
 * Pure: text in, lines of tokens out; `codeView.ts` turns tokens into elements.
 *
 * Model output is untrusted. highlight.js escapes every character of the input in its HTML result,
 * and `parseHighlighted` reads that result back accepting only its own two tags and five entities,
 * so the tokens hold exactly the input text and nothing ever reaches the page as markup.
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import kotlin from 'highlight.js/lib/languages/kotlin';
import lua from 'highlight.js/lib/languages/lua';
import makefile from 'highlight.js/lib/languages/makefile';
import markdown from 'highlight.js/lib/languages/markdown';
import php from 'highlight.js/lib/languages/php';
import powershell from 'highlight.js/lib/languages/powershell';
import python from 'highlight.js/lib/languages/python';
import r from 'highlight.js/lib/languages/r';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import swift from 'highlight.js/lib/languages/swift';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import type { DiffRow } from './view';

/** VS Code language id → grammar, for every id whose grammar is registered below. */
const grammarOf = new Map<string, string>([
	['javascript', 'javascript'],
	['javascriptreact', 'javascript'],
	['typescript', 'typescript'],
	['typescriptreact', 'typescript'],
	['python', 'python'],
	['java', 'java'],
	['c', 'c'],
	['cpp', 'cpp'],
	['cuda-cpp', 'cpp'],
	['csharp', 'csharp'],
	['go', 'go'],
	['rust', 'rust'],
	['php', 'php'],
	['ruby', 'ruby'],
	['shellscript', 'bash'],
	['powershell', 'powershell'],
	['json', 'json'],
	['jsonc', 'json'],
	['jsonl', 'json'],
	['html', 'xml'],
	['xml', 'xml'],
	['xsl', 'xml'],
	['svg', 'xml'],
	['css', 'css'],
	// SCSS and Less read well enough as CSS; their own grammars would add 29 KB.
	['scss', 'css'],
	['less', 'css'],
	['markdown', 'markdown'],
	['sql', 'sql'],
	['yaml', 'yaml'],
	['dockercompose', 'yaml'],
	['kotlin', 'kotlin'],
	['swift', 'swift'],
	['lua', 'lua'],
	['r', 'r'],
	['dockerfile', 'dockerfile'],
	['makefile', 'makefile'],
	['ini', 'ini'],
	['properties', 'ini'],
	['toml', 'ini'],
	['diff', 'diff'],
]);

const highlighter = hljs.newInstance();
for (const [name, grammar] of Object.entries({
	bash,
	c,
	cpp,
	csharp,
	css,
	diff,
	dockerfile,
	go,
	ini,
	java,
	javascript,
	json,
	kotlin,
	lua,
	makefile,
	markdown,
	php,
	powershell,
	python,
	r,
	ruby,
	rust,
	sql,
	swift,
	typescript,
	xml,
	yaml,
})) {
	highlighter.registerLanguage(name, grammar);
}

/** Longer texts are shown plain: highlighting them would hold up the picker for little gain. */
export const MAX_HIGHLIGHT_CHARS = 100_000;

/**
 * One run of text and the highlight.js scopes it sits in, outermost first: each scope is a class
 * list such as `hljs-title function_`. Plain text has no scopes.
 */
export interface Token {
	readonly text: string;
	readonly scopes: readonly string[];
}

export type TokenLine = readonly Token[];

/** The grammar for a VS Code language id, or undefined when it is not in the curated set. */
export function grammarFor(languageId: string): string | undefined {
	return grammarOf.get(languageId.toLowerCase());
}

const entities: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'" };

/**
 * Reads highlight.js's HTML back into tokens. It accepts only what highlight.js writes (an opening
 * `<span class="…">` whose classes are plain words, `</span>`, escaped text) and throws on anything
 * else, so a future change in its output falls back to plain text instead of reaching the page.
 */
export function parseHighlighted(html: string): Token[] {
	const tokens: Token[] = [];
	const stack: string[] = [];
	const part = /<span class="([\w\- ]+)">|<\/span>|([^<&]+)|(&(?:amp|lt|gt|quot|#x27);)|([<&])/g;
	for (let m = part.exec(html); m; m = part.exec(html)) {
		const [whole, classes, text, entity, stray] = m;
		if (stray !== undefined) throw new Error(`unexpected ${JSON.stringify(stray)} in highlighted output`);
		if (classes !== undefined) stack.push(classes);
		else if (whole === '</span>') {
			if (stack.pop() === undefined) throw new Error('unbalanced </span> in highlighted output');
		} else {
			const value = text ?? entities[entity ?? ''];
			if (value === undefined) throw new Error(`unexpected ${JSON.stringify(whole)} in highlighted output`);
			push(tokens, value, stack);
		}
	}
	if (stack.length) throw new Error('unclosed <span> in highlighted output');
	return tokens;
}

function push(tokens: Token[], text: string, scopes: readonly string[]): void {
	const last = tokens[tokens.length - 1];
	if (last && sameScopes(last.scopes, scopes)) tokens[tokens.length - 1] = { text: last.text + text, scopes: last.scopes };
	else tokens.push({ text, scopes: [...scopes] });
}

function sameScopes(a: readonly string[], b: readonly string[]): boolean {
	return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** Splits tokens at line ends; a token across lines (a block comment, a template string) keeps its scopes on each. */
export function splitTokenLines(tokens: readonly Token[]): Token[][] {
	let line: Token[] = [];
	const lines = [line];
	for (const t of tokens) {
		t.text.split('\n').forEach((text, i) => {
			if (i > 0) lines.push((line = []));
			if (text) line.push({ text, scopes: t.scopes });
		});
	}
	return lines;
}

/**
 * The text as lines of tokens in the language of `languageId`, or undefined to show it plain: an
 * unknown language, a text too long, or a grammar that gave up. A whole text at once, not line by
 * line, so block comments and multi-line strings are coloured right.
 */
export function highlightLines(text: string, languageId: string): Token[][] | undefined {
	const language = grammarFor(languageId);
	if (!language || text.length > MAX_HIGHLIGHT_CHARS) return undefined;
	try {
		const result = highlighter.highlight(text, { language, ignoreIllegals: true });
		const lines = splitTokenLines(parseHighlighted(result.value));
		// Every character must come back, in order: anything else is a bug worth plain text.
		if (lines.map(l => l.map(t => t.text).join('')).join('\n') !== text) return undefined;
		return lines;
	} catch {
		return undefined;
	}
}

/**
 * Remembers the highlighted lines of each text it was asked about (by a key such as a candidate id),
 * recomputed only when that text or its language changes: a snapshot arrives ten times a second.
 */
export class HighlightCache {
	private readonly entries = new Map<string, { text: string; languageId: string; lines: Token[][] | undefined }>();

	lines(key: string, text: string, languageId: string): Token[][] | undefined {
		const hit = this.entries.get(key);
		if (hit && hit.text === text && hit.languageId === languageId) return hit.lines;
		const lines = highlightLines(text, languageId);
		this.entries.set(key, { text, languageId, lines });
		return lines;
	}

	clear(): void {
		this.entries.clear();
	}
}

function plainText(line: TokenLine): string {
	return line
		.map(t => t.text)
		.join('')
		.replace(/\r$/, '');
}

/**
 * The highlighted tokens of each diff row, or undefined for a row to show plain. Removed lines come
 * from the highlighted selection, added and unchanged ones from the highlighted candidate, so each
 * is coloured in the context of its whole text; a row whose tokens do not spell its text is plain.
 */
export function highlightDiffRows(
	rows: readonly DiffRow[],
	original: TokenLine[] | undefined,
	candidate: TokenLine[] | undefined,
): (TokenLine | undefined)[] {
	let i = 0;
	let j = 0;
	return rows.map(row => {
		let line: TokenLine | undefined;
		if (row.kind === 'del') line = original?.[i++];
		else {
			line = candidate?.[j++];
			if (row.kind === 'same') i++;
		}
		return line && plainText(line) === row.text ? line : undefined;
	});
}

/**
 * Turns an explanation (Markdown) into a comment in the document's language: line comments where the
 * language has them, else one block comment; wrapped so no line passes `width` columns, indented like
 * the code it sits above. Code blocks inside the explanation keep their lines; images become their
 * alt text and links show their target, since a comment cannot render either.
 */
import type MarkdownIt from 'markdown-it';
import type { CommentSyntax } from './commentSyntax';

export interface CommentLayout {
	/** The indentation of the explained code's first line, inserted before every comment line. */
	readonly indent: string;
	/** How many columns `indent` takes (tabs count as the editor's tab size). */
	readonly indentColumns: number;
	/** The editor's first ruler, or 80. */
	readonly width: number;
}

/** The comment's lines, each with its indentation, ending in a newline (LF). */
export function formatAsComment(markdown: string, syntax: CommentSyntax, layout: CommentLayout): string {
	const { indent, indentColumns, width } = layout;
	if (syntax.line) {
		const prefix = `${syntax.line} `;
		const room = Math.max(20, width - indentColumns - prefix.length);
		return textLines(markdown, room)
			.map(l => (l ? `${indent}${prefix}${l}` : `${indent}${syntax.line}`))
			.map(l => `${l}\n`)
			.join('');
	}
	if (!syntax.block) throw new Error('the language has no comment syntax');
	const [open, close] = syntax.block;
	const room = Math.max(20, width - indentColumns - 2);
	// The explanation must not end the comment early.
	const closeSafe = close.length > 1 ? `${close.slice(0, -1)} ${close.slice(-1)}` : `${close} `;
	const body = textLines(markdown, room).map(l => (l ? `${indent}  ${l.split(close).join(closeSafe)}` : ''));
	return [`${indent}${open}`, ...body, `${indent}${close}`].map(l => `${l}\n`).join('');
}

/** Markdown as plain lines of at most `room` columns (code blocks as they are); blank lines between blocks. */
export function textLines(markdown: string, room: number): string[] {
	const out: string[] = [];
	const lines = markdown.replace(/\r\n/g, '\n').trim().split('\n');
	let paragraph: { lead: string; hang: string; words: string[] } | undefined;
	let fence: string | undefined;
	const flush = () => {
		if (paragraph) out.push(...wrap(paragraph.words, paragraph.lead, paragraph.hang, room));
		paragraph = undefined;
	};
	for (const raw of lines) {
		if (fence !== undefined) {
			if (raw.trim().startsWith(fence)) fence = undefined;
			else out.push(raw.replace(/\s+$/, ''));
			continue;
		}
		const open = /^\s*(`{3,}|~{3,})/.exec(raw);
		if (open) {
			flush();
			fence = open[1] ?? '';
			continue;
		}
		const line = inline(raw);
		if (!line.trim()) {
			flush();
			if (out.length > 0 && out[out.length - 1] !== '') out.push('');
			continue;
		}
		const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
		if (heading) {
			flush();
			out.push(heading[1] ?? '');
			continue;
		}
		const item = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
		if (item) {
			flush();
			const [, indent = '', marker = '', rest = ''] = item;
			const lead = `${indent}${marker === '*' || marker === '+' ? '-' : marker} `;
			paragraph = { lead, hang: ' '.repeat(lead.length), words: words(rest) };
			continue;
		}
		if (paragraph) paragraph.words.push(...words(line));
		else paragraph = { lead: '', hang: '', words: words(line) };
	}
	flush();
	while (out.length > 0 && out[out.length - 1] === '') out.pop();
	return out;
}

/** Images as their alt text, links as "text (target)"; the rest of inline Markdown reads fine as is. */
function inline(line: string): string {
	return line
		.replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
		.replace(/\[([^\]]+)\]\(([^)\s]+)[^)]*\)/g, (_, text: string, url: string) => (text === url ? url : `${text} (${url})`));
}

function words(text: string): string[] {
	return text.split(/\s+/).filter(Boolean);
}

/** Greedy wrapping; a word longer than the room gets a line of its own rather than being split. */
function wrap(list: string[], lead: string, hang: string, room: number): string[] {
	const lines: string[] = [];
	let current = lead;
	let prefix = lead;
	for (const word of list) {
		if (current.length > prefix.length && current.length + 1 + word.length > room) {
			lines.push(current);
			current = hang;
			prefix = hang;
		}
		current += current.length > prefix.length ? ` ${word}` : word;
	}
	if (current.length > prefix.length) lines.push(current);
	return lines;
}

/**
 * Images as "[image: alt]": an explanation shown in the editor must not fetch anything. The inline,
 * reference and shortcut forms (`![alt](url)`, `![alt][ref]`, `![alt]` with a `[alt]: url` elsewhere)
 * become their alt text; then every `![` still left (an alt text with brackets in it, an image in
 * another's alt text) gets its bracket escaped. Every Markdown image starts with `![`, so none is left
 * for any parser to find, whatever the regular expression missed.
 */
export function withoutImages(markdown: string): string {
	return markdown
		.replace(/!\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])?/g, (_, alt: string) => (alt ? `[image: ${alt}]` : '[image]'))
		.replace(/!\[/g, '!\\[');
}

/**
 * Raw HTML as the text it is: VS Code draws a comment's Markdown without HTML and drops every tag it
 * finds, so "wraps it in a <div>" would lose its tag. Each `<` that would start HTML becomes `&lt;`,
 * which Markdown shows as `<`, so the thread shows what the picker shows (it renders the Markdown
 * with HTML as text). markdown-it finds the blocks: the text of paragraphs, headings and table
 * cells, and HTML blocks. Left as they are: code (blocks, and inline code spans, where `&lt;` would
 * show as typed), a backslash-escaped `<`, autolinks (`<https://…>`) and link destinations in angle
 * brackets (`[a](<b c>)`).
 */
export function htmlAsText(markdown: string): string {
	// Escaping can change the blocks (an HTML block gone, the indented line after it is no longer
	// code), so again until nothing changes; each round only removes HTML, so it ends.
	let text = markdown;
	for (let round = 0; round < 8; round++) {
		const next = escapeHtmlOnce(text);
		if (next === text) break;
		text = next;
	}
	return text;
}

function escapeHtmlOnce(markdown: string): string {
	// Line ranges of text that is not code. An HTML block that follows a paragraph with no blank line
	// between is, without HTML, more of the same paragraph, and a code span may run across both: they
	// are escaped as one.
	const regions: { start: number; end: number; html: boolean }[] = [];
	for (const t of blocks(markdown)) {
		if (!t.map || (t.type !== 'inline' && t.type !== 'html_block')) continue;
		const html = t.type === 'html_block';
		const last = regions[regions.length - 1];
		if (last && t.map[0] <= last.end && (html || last.html)) {
			last.end = Math.max(last.end, t.map[1]);
			last.html = html;
		} else regions.push({ start: t.map[0], end: t.map[1], html });
	}
	const lines = markdown.split('\n');
	for (const { start, end } of regions)
		lines.splice(start, end - start, ...escapeOutsideCodeSpans(lines.slice(start, end).join('\n')).split('\n'));
	return lines.join('\n');
}

let blockParser: MarkdownIt | undefined;

// Loaded on first use (an explanation shown inline), not when the extension starts: markdown-it and
// its entity tables are a third of the extension's bundle.
function blocks(markdown: string): ReturnType<MarkdownIt['parse']> {
	blockParser ??= new (require('markdown-it') as typeof MarkdownIt)({ html: true });
	return blockParser.parse(markdown, {});
}

const AUTOLINK =
	/^<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\p{Cc} ]*|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>/u;

/** Whether the `<` at `i` opens a link's destination in angle brackets: `[text](<dest> "title")`. */
function angleDestination(text: string, i: number): boolean {
	return text.slice(0, i).endsWith('](') && text.lastIndexOf('[', i) >= 0 && /^<[^<>\n\\]*>[ \t]*(?:\)|["'(])/.test(text.slice(i));
}

/** One paragraph's text: every `<` outside an inline code span that would start HTML becomes `&lt;`. */
function escapeOutsideCodeSpans(text: string): string {
	let result = '';
	let i = 0;
	while (i < text.length) {
		const c = text[i];
		if (c === '`') {
			const run = /^`+/.exec(text.slice(i))?.[0] ?? '`';
			// A code span ends at the next run of exactly as many backticks; without one, the run is text.
			const close = new RegExp(`(?<!\`)${run}(?!\`)`, 'g');
			close.lastIndex = i + run.length;
			const end = close.exec(text);
			const stop = end ? end.index + run.length : i + run.length;
			result += text.slice(i, stop);
			i = stop;
			continue;
		}
		if (c === '\\') {
			result += text.slice(i, i + 2);
			i += 2;
			continue;
		}
		// Only a `<` before a letter, `/`, `!` or `?` can start HTML (a tag, comment, declaration, instruction).
		if (c === '<' && /^<[A-Za-z/!?]/.test(text.slice(i, i + 2)) && !AUTOLINK.test(text.slice(i)) && !angleDestination(text, i))
			result += '&lt;';
		else result += c;
		i++;
	}
	return result;
}

/**
 * Turns a chat model's reply into the text that replaces the selection, the way a person would by
 * eye: drop "Here is the rewritten code:" and "This uses destructuring…", take the code out of its
 * fence (the block that answers, or consecutive blocks that together answer), drop an echoed
 * instruction, and give the result the selection's indentation and trailing newline.
 *
 * What the user selected on purpose is never stripped: a selection with fences keeps the reply's
 * fences, and prose only loses lines that are plainly chat, never a paragraph that could be content.
 * Pure and synchronous; the extension and the CLI both reach it through the run.
 */

export interface ReplyContext {
	/** The selected text, exactly as in the document. */
	readonly selection: string;
	/** VS Code language id of the selection (`typescript`, `markdown`, `plaintext`). */
	readonly languageId: string;
	/** What the user asked for; a reply that repeats it as its first line loses that line. */
	readonly instruction: string;
}

export interface CleanOptions {
	/**
	 * For text still streaming: a fence being typed is hidden, an unterminated block runs to the end,
	 * and nothing is re-indented yet, so the preview does not flicker between shapes.
	 */
	readonly partial?: boolean;
}

const PROSE_LANGUAGES = new Set(['plaintext', 'markdown', 'latex', 'restructuredtext', 'asciidoc', 'git-commit']);

export function isProseLanguage(languageId: string): boolean {
	return PROSE_LANGUAGES.has(languageId);
}

export function cleanReply(raw: string, context: ReplyContext, options: CleanOptions = {}): string {
	const partial = options.partial ?? false;
	const selection = context.selection.replace(/\r\n/g, '\n');
	let text = stripThinking(raw.replace(/\r\n/g, '\n'), partial);
	if (text === undefined) return '';
	text = stripEchoedMarkers(text);
	if (partial) text = text.replace(/(^|\n)[ \t]*(`{1,3}|~{1,3})[\w+#.-]*[ \t]*$/, ''); // a fence still being typed
	const wrapped = unwrapWholeFence(text, context.languageId);
	const code = wrapped ?? (hasFenceLine(selection) ? undefined : extractCode(text, selection, context.languageId));
	text = code ?? stripChat(text, selection, context, partial);
	if (partial) return text;
	text = matchIndentation(selection, text);
	return matchTrailingNewline(selection, text);
}

/** Reasoning models (qwen3, deepseek-r1) put their thoughts in <think>…</think> before the answer. */
function stripThinking(text: string, partial: boolean): string | undefined {
	const open = /^\s*<think>/.exec(text);
	if (!open) return text;
	const close = text.indexOf('</think>', open[0].length);
	if (close < 0) return partial ? undefined : text;
	return text.slice(close + '</think>'.length).replace(/^\s*\n/, '');
}

/** The prompt wraps the selection in <<< and >>>; some models answer in the same wrapping. */
function stripEchoedMarkers(text: string): string {
	const m = /^\s*<<<[ \t]*\n([\s\S]*?)(?:\n>>>[ \t]*)?\s*$/.exec(text);
	return m?.[1] ?? text;
}

interface Block {
	/** Index of the opening fence line and of the line after the closing one. */
	readonly start: number;
	readonly end: number;
	/** The info string's first word, lower-cased ('' when there is none). */
	readonly tag: string;
	readonly body: string;
}

const FENCE_LINE = /^[ \t]{0,3}(`{3,}|~{3,})(.*)$/;

interface FenceLine {
	/** The run of backticks or tildes. */
	readonly marker: string;
	/** What follows it on the line. */
	readonly info: string;
}

/** The fence on a line, or undefined when it is not one (or there is no such line). */
function fenceLine(line: string | undefined): FenceLine | undefined {
	const m = line === undefined ? null : FENCE_LINE.exec(line);
	if (!m) return undefined;
	const [, marker = '', info = ''] = m;
	return { marker, info };
}

function hasFenceLine(text: string): boolean {
	return text.split('\n').some(line => FENCE_LINE.test(line));
}

function fenceTag(info: string): string {
	return (info.trim().split(/[\s{,]/)[0] ?? '').toLowerCase();
}

function closes(line: string | undefined, open: FenceLine): boolean {
	const close = fenceLine(line);
	return !!close && close.marker[0] === open.marker[0] && close.marker.length >= open.marker.length && close.info.trim() === '';
}

/** The text up to its first line break. */
function firstLine(text: string): string {
	const end = text.indexOf('\n');
	return end < 0 ? text : text.slice(0, end);
}

/**
 * CommonMark's fenced blocks, line by line: a fence closes with the same character, at least as
 * long, and nothing after it. An unterminated last block (a reply cut at the token limit, or still
 * streaming) runs to the end.
 */
function parseBlocks(lines: readonly string[]): Block[] {
	const blocks: Block[] = [];
	for (let i = 0; i < lines.length; i++) {
		const open = fenceLine(lines[i]);
		if (!open || (open.marker[0] === '`' && open.info.includes('`'))) continue;
		let j = i + 1;
		while (j < lines.length && !closes(lines[j], open)) j++;
		blocks.push({ start: i, end: Math.min(j + 1, lines.length), tag: fenceTag(open.info), body: lines.slice(i + 1, j).join('\n') });
		i = j;
	}
	return blocks;
}

/**
 * A reply wrapped as a whole in one fence (perhaps after a preamble, before closing remarks) whose
 * inside has fences of its own. Models wrap Markdown in ```markdown without lengthening the fence,
 * so the wrapper closes at the last bare fence line, not the first. Undefined when the reply is not so.
 */
function unwrapWholeFence(text: string, languageId: string): string | undefined {
	const lines = text.split('\n');
	const first = lines.findIndex(l => FENCE_LINE.test(l));
	const open = fenceLine(lines[first]);
	if (!open) return undefined;
	const tag = fenceTag(open.info);
	if (!(tag === 'markdown' || tag === 'md' || open.marker.length > 3 || (tag !== '' && sameLanguage(tag, languageId)))) return undefined;
	let last = lines.length - 1;
	while (last > first && !closes(lines[last], open)) last--;
	if (last <= first) return undefined;
	const inner = lines.slice(first + 1, last);
	// Nested, not consecutive: the first fence inside opens a block (it has an info string), where
	// "```js … ``` Usage: ```js … ```" would show a bare closing fence first.
	const fences = inner.map(fenceLine).filter(f => f !== undefined);
	if (fences.length === 0 || fences.length % 2 !== 0 || fenceTag(fences[0]?.info ?? '') === '') return undefined;
	const before = lines.slice(0, first).join('\n').trim();
	const after = lines
		.slice(last + 1)
		.join('\n')
		.trim();
	if ((before && !isPreamble(before)) || (after && !isEpilogue(after, true))) return undefined;
	return inner.join('\n');
}

/**
 * Code out of a reply with fences, or undefined when there is none to take. For code, the words
 * around the blocks are chat by definition; the block that answers is the one sharing most of the
 * selection's words (an echo of the selection and usage examples lose), and consecutive blocks are
 * joined when each adds words of the selection the others lack (a reply split into "the helper" and
 * "the function"). For prose a fence is unwrapped only when everything outside it is plainly chat:
 * a Markdown rewrite may add code blocks of its own.
 */
function extractCode(text: string, selection: string, languageId: string): string | undefined {
	const lines = text.split('\n');
	const blocks = parseBlocks(lines);
	const [only, ...others] = blocks;
	if (!only) return undefined;
	if (isProseLanguage(languageId)) {
		if (others.length > 0) return undefined;
		const before = lines.slice(0, only.start).join('\n').trim();
		const after = lines.slice(only.end).join('\n').trim();
		return (!before || isPreamble(before)) && (!after || isEpilogue(after, true)) ? only.body : undefined;
	}
	if (others.length === 0) return only.body;

	const wanted = words(selection);
	const echo = normalizeSpace(selection);
	let pool = blocks.filter(b => normalizeSpace(b.body) !== echo && b.body.trim() !== '');
	if (pool.length === 0) pool = blocks;
	const ofLanguage = pool.filter(b => sameLanguage(b.tag, languageId));
	if (ofLanguage.length > 0) pool = ofLanguage;

	const score = (b: Block) => recall(words(b.body), wanted);
	// The first of the best: the pool is never empty (it falls back to all blocks, and there is one).
	const best = pool.reduce((a, b) => (score(b) > score(a) ? b : a));

	// Grow the answer over neighbouring blocks (at most a short line between them) that bring words
	// of the selection the answer does not have yet.
	const run = [best];
	const covered = words(best.body);
	const adds = (b: Block) => [...words(b.body)].filter(w => wanted.has(w) && !covered.has(w)).length;
	const joinable = (a: Block, b: Block) => b.start - a.end <= 3 && lines.slice(a.end, b.start).join('\n').trim().length <= 160;
	const threshold = Math.max(2, Math.ceil(wanted.size * 0.1));
	const take = (b: Block) => {
		for (const w of words(b.body)) covered.add(w);
		return b;
	};
	const at = pool.indexOf(best);
	let last = best;
	for (const b of pool.slice(at + 1)) {
		if (!joinable(last, b) || adds(b) < threshold) break;
		run.push(take(b));
		last = b;
	}
	let first = best;
	for (const b of pool.slice(0, at).reverse()) {
		if (!joinable(b, first) || adds(b) < threshold) break;
		run.unshift(take(b));
		first = b;
	}
	return run.map(b => b.body).join('\n\n');
}

const LANGUAGE_FAMILIES: readonly (readonly string[])[] = [
	['javascript', 'js', 'jsx', 'mjs', 'cjs', 'node', 'javascriptreact', 'typescript', 'ts', 'tsx', 'typescriptreact'],
	['python', 'py', 'python3', 'py3'],
	['shellscript', 'sh', 'bash', 'shell', 'zsh'],
	['csharp', 'cs', 'c#'],
	['cpp', 'c++', 'cc', 'cxx', 'hpp', 'c', 'h'],
	['rust', 'rs'],
	['go', 'golang'],
	['ruby', 'rb'],
	['markdown', 'md'],
	['yaml', 'yml'],
	['json', 'jsonc', 'json5'],
	['kotlin', 'kt'],
	['objective-c', 'objc'],
	['powershell', 'ps1', 'pwsh'],
	['plaintext', 'text', 'txt', 'plain'],
];

/** An untagged block may be anything; a tagged one must name the selection's language (or a close kin). */
function sameLanguage(tag: string, languageId: string): boolean {
	const id = languageId.toLowerCase();
	if (!tag || tag === id) return true;
	return LANGUAGE_FAMILIES.some(f => f.includes(tag) && f.includes(id));
}

function words(text: string): Set<string> {
	return new Set(text.match(/[A-Za-z_$][\w$]*|\d+/g) ?? []);
}

function recall(have: Set<string>, wanted: Set<string>): number {
	if (wanted.size === 0) return 0;
	let n = 0;
	for (const w of wanted) if (have.has(w)) n++;
	return n / wanted.size;
}

function normalizeSpace(text: string): string {
	return text.replace(/\s+/g, ' ').trim();
}

// One sentence said to the reader: "Sure! Here's a more concise version:", "Here is the rewritten
// code:", "Below is the refactored function.", "Certainly!", "Rewritten code:".
const PREAMBLE = new RegExp(
	[
		String.raw`^(?:sure|certainly|of course|absolutely|okay|ok|alright|great)[,.!](?:\s.*)?$`,
		String.raw`^(?:here(?:'s|’s| is| are)|below is|the following is|i(?:'ve| have) (?:rewritten|refactored|revised|updated|made)|this is the (?:rewritten|revised|refactored|updated|improved))\b.*[:.!]$`,
	].join('|'),
	'i',
);
// A title such as "Refactored code:" or "More concise version:". Case matters: `class Version:` and
// `if code:` are Python.
const TITLE =
	/^[A-Z][\w'’]*(?: [\w'’().-]+){0,8} (?:[Vv]ersion|[Cc]ode|[Rr]ewrite|[Ss]nippet|[Tt]ext|[Ff]unction|[Ii]mplementation|[Pp]aragraph|[Ss]entence)(?: [\w'’().-]+){0,4}:$/;

// Closing remarks about the rewrite: "This version…", "Changes made:", "Note: …", "Let me know…".
const REMARK = String.raw`this (?:version|rewrite|revision|revised|rewritten|refactored|updated)|changes(?: made)?:|explanation:|key changes|improvements:|notes?:|i (?:have |'ve )?(?:made|changed|used|replaced|removed|added|kept|simplified|rewrote|corrected|fixed)|let me know|hope this|feel free|\*\*(?:explanation|changes|notes?)|#+ (?:explanation|changes|notes?)`;
// After code, more openings are plainly chat: a paragraph of English at the margin is not code.
const CODE_REMARK = String.raw`this (?:code|implementation|approach|solution|function|change|refactor|uses|keeps|makes|removes|avoids|replaces|should|way|achieves|does|is)\b|these changes|the (?:changes?|main|key|code|function|rewritten|revised|refactored|updated|new)\b|in this (?:version|rewrite|code)|you can (?:also|now)|by using|with this|overall,|alternatively,`;
const PROSE_EPILOGUE = new RegExp(`^(?:${REMARK})`, 'i');
const CODE_EPILOGUE = new RegExp(`^(?:${REMARK}|${CODE_REMARK})`, 'i');

/** Code-looking characters outside `inline code` mean a line is code, not a sentence. */
function looksLikeCode(line: string): boolean {
	return /[=;{}]/.test(line.replace(/`[^`]*`/g, ''));
}

function isPreamble(text: string): boolean {
	const lines = text
		.trim()
		.split('\n')
		.filter(l => l.trim());
	return lines.length <= 2 && lines.every(l => l.length <= 200 && !looksLikeCode(l) && (PREAMBLE.test(l.trim()) || TITLE.test(l.trim())));
}

function isEpilogue(text: string, code: boolean): boolean {
	return (code ? CODE_EPILOGUE : PROSE_EPILOGUE).test(text.trim());
}

/** Lower-cased, "Instruction:" and end punctuation dropped: how an echoed instruction is recognized. */
function bare(line: string): string {
	return line
		.trim()
		.replace(/^(?:#+|\/\/|\*\*)\s*/, '')
		.replace(/^instruction:\s*/i, '')
		.replace(/[*:.!\s]+$/, '')
		.toLowerCase();
}

/** An unclosed block comment or string: a "paragraph" after it is inside it, not after the code. */
function insideCommentOrString(code: string): boolean {
	const count = (re: RegExp) => (code.match(re) ?? []).length;
	return count(/"""/g) % 2 === 1 || count(/'''/g) % 2 === 1 || count(/\/\*/g) > count(/\*\//g) || count(/`/g) % 2 === 1;
}

/**
 * An unfenced reply: leading chat lines (an echoed instruction, "Rewrite this … code:", a preamble)
 * and trailing closing remarks go. A line the selection itself begins with is the user's text and
 * stays; prose loses only a final paragraph that talks about the rewrite.
 */
function stripChat(text: string, selection: string, context: ReplyContext, partial: boolean): string {
	const selectionFirst = bare(selection.split('\n').find(l => l.trim()) ?? '');
	const instruction = bare(context.instruction);
	let lines = text.split('\n');
	for (let guard = 0; guard < 3; guard++) {
		const i = lines.findIndex(l => l.trim() !== '');
		const line = lines[i];
		if (line === undefined || (partial && i === lines.length - 1)) break; // the line may still be growing
		const b = bare(line);
		if (b === selectionFirst) break;
		const echo = (instruction !== '' && b === instruction) || /^rewrite this [\w#+-]+(?: code| text)?$/.test(b);
		const more = lines.slice(i + 1).some(l => l.trim() !== '');
		if (!more || !(echo || isPreamble(line))) break;
		lines = lines.slice(i + 1);
	}
	const body = lines.join('\n').replace(/^\s*\n/, '');

	// Trailing paragraphs, after a blank line and at the margin, from the first that reads as a remark.
	const prose = isProseLanguage(context.languageId);
	const paragraphs = splitParagraphs(body);
	for (const [p, { text: para, offset }] of paragraphs.entries()) {
		if (p === 0) continue;
		if (/^\s/.test(para) || !isEpilogue(para, !prose) || selection.includes(firstLine(para).trim())) continue;
		if (prose && p !== paragraphs.length - 1) continue;
		const kept = body.slice(0, offset).replace(/\s+$/, '');
		if (!prose && insideCommentOrString(kept)) continue;
		return kept;
	}
	return body;
}

function splitParagraphs(text: string): { text: string; offset: number }[] {
	const out: { text: string; offset: number }[] = [];
	const re = /\n[ \t]*\n+/g;
	let at = 0;
	for (let m = re.exec(text); m; m = re.exec(text)) {
		out.push({ text: text.slice(at, m.index), offset: at });
		at = m.index + m[0].length;
	}
	out.push({ text: text.slice(at), offset: at });
	return out.filter(p => p.text.trim() !== '');
}

function leadingIndent(line: string): string {
	return /^[ \t]*/.exec(line)![0];
}

function commonIndent(text: string): string {
	let common: string | undefined;
	for (const line of text.split('\n')) {
		if (!line.trim()) continue;
		const indent = leadingIndent(line);
		if (common === undefined || indent.length < common.length) common = indent;
	}
	return common ?? '';
}

/**
 * Models tend to return a selected, indented block flush left. When every line of the selection is
 * indented and the reply is not indented at all, give the reply the selection's indentation back.
 * A selection that starts mid-line keeps its first line as is: the document supplies that indent.
 */
export function matchIndentation(original: string, candidate: string): string {
	const lines = original.split('\n');
	const head = firstLine(original);
	const startsMidLine = lines.length > 1 && leadingIndent(head) === '' && head.trim() !== '';
	const reference = startsMidLine ? lines.slice(1).join('\n') : original;
	const want = commonIndent(reference);
	const candidateLines = candidate.split('\n');
	// Judge a candidate that also starts mid-line by its later lines too, or a correctly indented reply would be indented twice.
	const candidateReference = startsMidLine && candidateLines.length > 1 ? candidateLines.slice(1).join('\n') : candidate;
	if (!want || commonIndent(candidateReference) !== '') return candidate;
	return candidateLines.map((line, i) => (!line.trim() || (i === 0 && startsMidLine) ? line : want + line)).join('\n');
}

function matchTrailingNewline(original: string, candidate: string): string {
	const body = candidate.replace(/\s+$/, '');
	const trailing = /(\r?\n)+$/.exec(original);
	return trailing ? body + trailing[0].replace(/\r\n/g, '\n') : body;
}

/**
 * What is sent to the generation model for a rewrite, what the reward model is asked to judge, and
 * how a raw completion becomes text that can replace the selection.
 */
import type { ChatMessage } from './generation';

export interface RewriteInput {
	/** What the user asked for ("make this iterative"). */
	readonly instruction: string;
	/** The selected text, exactly as in the document. */
	readonly text: string;
	/** VS Code language id (`typescript`, `markdown`, `plaintext`). */
	readonly languageId: string;
}

const SYSTEM_PROMPT = [
	'You rewrite text as instructed.',
	'Reply with the rewritten text only: no introduction, no explanation, no notes, no surrounding code fence.',
	'Keep the original language, indentation style and line structure unless the instruction asks otherwise.',
].join(' ');

export function buildRewriteMessages(input: RewriteInput): ChatMessage[] {
	const kind = isProse(input.languageId) ? 'text' : `${input.languageId} code`;
	return [
		{ role: 'system', content: SYSTEM_PROMPT },
		{
			role: 'user',
			content: `Instruction: ${input.instruction.trim()}\n\nRewrite this ${kind}:\n<<<\n${input.text}\n>>>`,
		},
	];
}

/**
 * The "prompt" side of the (prompt, response) pair the reward model scores: the request as a person
 * would read it. Its head is what gets truncated when a pair is too long for the model.
 */
export function rewardPrompt(input: RewriteInput): string {
	return `${input.instruction.trim()}\n\n${input.text}`;
}

function isProse(languageId: string): boolean {
	return ['plaintext', 'markdown', 'latex', 'restructuredtext', 'asciidoc', 'git-commit'].includes(languageId);
}

const FENCE_OPEN = /^\s*(```|~~~)[^\n`]*\n/;

/**
 * Turns a model's reply into replacement text: unwraps a fence around the whole reply (or around the
 * only block, when the words outside it are a short preamble), strips our own `<<<`/`>>>` markers if
 * echoed, and gives the result the selection's indentation and trailing newline.
 * `partial` is for text still streaming: an unterminated opening fence is hidden too.
 */
export function cleanCandidate(raw: string, original: string, partial = false): string {
	let text = raw.replace(/\r\n/g, '\n');
	text = unwrapFence(text, original, partial);
	text = text.replace(/^\s*<<<\n/, '').replace(/\n>>>\s*$/, '');
	if (partial) return text;
	text = matchIndentation(original.replace(/\r\n/g, '\n'), text);
	return matchTrailingNewline(original, text);
}

function unwrapFence(text: string, original: string, partial: boolean): string {
	if (original.includes('```')) return text; // the user's own text has fences: leave the reply alone
	const trimmed = text.trim();
	const open = FENCE_OPEN.exec(trimmed);
	if (open && trimmed.startsWith(open[1])) {
		const body = trimmed.slice(open[0].length);
		const close = body.lastIndexOf(`\n${open[1]}`);
		if (close >= 0 && body.slice(close + 1 + open[1].length).trim() === '') return body.slice(0, close);
		if (partial || close < 0) return body.replace(/\n?(```|~~~)\s*$/, '');
	}
	// "Here is the rewritten code:\n```ts\n…\n```": take the only block when the rest is a short preamble.
	const blocks = [...text.matchAll(/(^|\n)(```|~~~)[^\n]*\n([\s\S]*?)\n\2[ \t]*(?=\n|$)/g)];
	if (blocks.length === 1) {
		const outside = text.replace(blocks[0][0], '').trim();
		if (outside.length <= 200 && !outside.includes('\n\n')) return blocks[0][3];
	}
	return text;
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
	const startsMidLine = lines.length > 1 && leadingIndent(lines[0]) === '' && lines[0].trim() !== '';
	const reference = startsMidLine ? lines.slice(1).join('\n') : original;
	const want = commonIndent(reference);
	if (!want || commonIndent(candidate) !== '') return candidate;
	return candidate
		.split('\n')
		.map((line, i) => (!line.trim() || (i === 0 && startsMidLine) ? line : want + line))
		.join('\n');
}

function matchTrailingNewline(original: string, candidate: string): string {
	const body = candidate.replace(/\s+$/, '');
	const trailing = /(\r?\n)+$/.exec(original);
	return trailing ? body + trailing[0].replace(/\r\n/g, '\n') : body;
}

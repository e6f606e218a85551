/**
 * Explain the selection: candidates are Markdown prose about the code, never diffed against it, and
 * accepting one shows it beside the explained lines instead of editing the document.
 */
import type { ChatMessage } from '../generation';
import { fillTemplate } from '../promptTemplate';
import type { Task } from './task';

export interface ExplainInput {
	/** The selected code, exactly as in the document. */
	readonly text: string;
	/** VS Code language id (`typescript`, `python`). */
	readonly languageId: string;
	/** The file's name as a person would say it (`src/app.ts`); empty for an untitled or piped text. */
	readonly fileName: string;
	/** A few whole lines above the selection, for context; empty at the top of the file. */
	readonly before: string;
	/** A few whole lines below the selection. */
	readonly after: string;
	/** The first explained line, 1-based, for the picker's title; absent outside an editor. */
	readonly startLine?: number;
	readonly endLine?: number;
}

const SYSTEM_PROMPT = [
	'You explain code to a programmer who is reading it.',
	'Reply in Markdown with a short, concrete explanation of what the selected code does and why:',
	'a few sentences or a short list, naming the non-obvious behaviour, edge cases and possible bugs.',
	'Do not repeat the code, do not rewrite it, no introduction and no closing remarks.',
].join(' ');

/** A fence longer than any run of backticks in the text, so the text cannot close it early. */
export function fenceFor(text: string): string {
	const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map(m => m[0].length));
	return '`'.repeat(Math.max(3, longest + 1));
}

function lf(text: string): string {
	return text.replace(/\r\n/g, '\n');
}

/** `template`: `bestOfN.prompts.explain`, the user message with placeholders; empty for the built-in one. */
export function buildExplainMessages(input: ExplainInput, template = ''): [system: ChatMessage, user: ChatMessage] {
	if (template) {
		const user = fillTemplate(template, {
			instruction: '',
			selection: lf(input.text),
			language: input.languageId,
			fileName: input.fileName,
			before: lf(input.before),
			after: lf(input.after),
		});
		return [
			{ role: 'system', content: SYSTEM_PROMPT },
			{ role: 'user', content: user },
		];
	}
	const text = lf(input.text);
	const before = lf(input.before);
	const after = lf(input.after);
	const fence = fenceFor(before + text + after);
	const lang = input.languageId === 'plaintext' ? '' : input.languageId;
	const where = input.fileName ? `File: ${input.fileName} (${input.languageId})` : `Language: ${input.languageId}`;
	const parts = [where];
	if (before.trim() || after.trim()) {
		parts.push(
			`The selection in its surroundings (the selection is between the ⟪ and ⟫ markers):\n${fence}${lang}\n${before}⟪${text}⟫${after}\n${fence}`,
		);
	}
	parts.push(`Explain this selection:\n${fence}${lang}\n${text}\n${fence}`);
	return [
		{ role: 'system', content: SYSTEM_PROMPT },
		{ role: 'user', content: parts.join('\n\n') },
	];
}

/** The request as a person would read it; the reward model judges (this, explanation). */
export function explainRewardPrompt(input: ExplainInput): string {
	const kind = input.languageId === 'plaintext' ? 'text' : `${input.languageId} code`;
	return `Explain what this ${kind} does, briefly and concretely.\n\n${lf(input.text)}`;
}

const MARKDOWN_FENCE = /^(`{3,}|~{3,})[ \t]*(?:markdown|md)[ \t]*\n/i;

/**
 * An explanation is prose: only line endings and surrounding blank space are tidied, and a reply
 * wrapped whole in a Markdown fence (some models do that) is unwrapped. Code blocks inside the
 * explanation stay as they are; nothing is re-indented.
 */
export function cleanExplanation(raw: string, partial = false): string {
	const text = lf(raw).trim();
	const open = MARKDOWN_FENCE.exec(text);
	if (!open) return text;
	const body = text.slice(open[0].length);
	const close = new RegExp(`(^|\\n)${open[1]}[ \\t]*$`).exec(body);
	if (close) return body.slice(0, close.index).trim();
	// A fence that never closes is hidden while streaming; a finished reply keeps it, being unsure.
	return partial ? body.trim() : text;
}

export function explainTask(input: ExplainInput, template = ''): Task {
	const source = lf(input.text);
	const prompt = explainRewardPrompt(input);
	const name = input.fileName ? baseName(input.fileName) : 'selection';
	const lines =
		input.startLine === undefined
			? ''
			: input.endLine !== undefined && input.endLine !== input.startLine
				? `:${input.startLine}–${input.endLine}`
				: `:${input.startLine}`;
	return {
		view: {
			kind: 'explain',
			title: `Explain ${name}${lines}`,
			diffable: false,
			acceptLabel: 'Show Inline',
			acceptHint: 'Show this explanation beside the code (Enter)',
			detail: 'markdown',
		},
		source,
		languageId: input.languageId,
		messages: () => buildExplainMessages(input, template),
		clean: (raw, partial) => cleanExplanation(raw, partial),
		rewardPair: candidate => ({ prompt, response: candidate }),
	};
}

function baseName(fileName: string): string {
	const segments = fileName.split(/[\\/]+/).filter(Boolean);
	return segments[segments.length - 1] ?? fileName;
}

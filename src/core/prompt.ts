/**
 * What is sent to the generation model for a rewrite and what the reward model is asked to judge.
 * How a reply becomes replacement text is `replyCleaning.ts`.
 */
import type { ChatMessage } from './generation';
import { isProseLanguage } from './replyCleaning';

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

export function buildRewriteMessages(input: RewriteInput): [system: ChatMessage, user: ChatMessage] {
	const kind = isProseLanguage(input.languageId) ? 'text' : `${input.languageId} code`;
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

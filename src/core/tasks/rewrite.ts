/**
 * Rewrite the selection as instructed: candidates are replacement text, diffable against the
 * selection, and accepting one replaces the selection.
 */
import { buildRewriteMessages, rewardPrompt, type RewriteInput } from '../prompt';
import { fillTemplate } from '../promptTemplate';
import { cleanReply } from '../replyCleaning';
import type { Task } from './task';

export type { RewriteInput } from '../prompt';

/** What a prompt template may use beyond the input; all optional. */
export interface RewriteContext {
	/** `bestOfN.prompts.rewrite`: the user message with placeholders; empty for the built-in one. */
	readonly template?: string;
	readonly fileName?: string;
	readonly before?: string;
	readonly after?: string;
}

export function rewriteTask(input: RewriteInput, context: RewriteContext = {}): Task {
	const source = input.text.replace(/\r\n/g, '\n');
	const normalized: RewriteInput = { ...input, text: source };
	const prompt = rewardPrompt(normalized);
	return {
		view: {
			kind: 'rewrite',
			title: input.instruction.trim(),
			diffable: true,
			acceptLabel: 'Accept',
			acceptHint: 'Replace the selection with this candidate (Enter)',
			detail: 'code',
		},
		source,
		languageId: input.languageId,
		messages: () => {
			const builtIn = buildRewriteMessages(normalized);
			if (!context.template) return builtIn;
			const user = fillTemplate(context.template, {
				instruction: normalized.instruction.trim(),
				selection: source,
				language: input.languageId,
				fileName: context.fileName ?? '',
				before: (context.before ?? '').replace(/\r\n/g, '\n'),
				after: (context.after ?? '').replace(/\r\n/g, '\n'),
			});
			return [builtIn[0], { role: 'user', content: user }];
		},
		clean: (raw, partial) =>
			cleanReply(raw, { selection: source, languageId: input.languageId, instruction: input.instruction }, { partial }),
		rewardPair: candidate => ({ prompt, response: candidate }),
	};
}

/**
 * Rewrite the selection as instructed: candidates are replacement text, diffable against the
 * selection, and accepting one replaces the selection.
 */
import { buildRewriteMessages, cleanCandidate, rewardPrompt, type RewriteInput } from '../prompt';
import type { Task } from './task';

export type { RewriteInput } from '../prompt';

export function rewriteTask(input: RewriteInput): Task {
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
		messages: () => buildRewriteMessages(normalized),
		clean: (raw, partial) => cleanCandidate(raw, source, partial),
		rewardPair: candidate => ({ prompt, response: candidate }),
	};
}

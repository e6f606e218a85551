/**
 * A task is what one kind of run asks of the model and what a person can do with the answers: the
 * messages sent, how a reply is cleaned, the (prompt, response) pair the reward model judges, and how
 * the picker presents a candidate. The run, the session and the picker are the same for every task.
 */
import type { ChatMessage } from '../generation';
import type { TaskView } from '../protocol';
import type { RewardPair } from '../reward';

export type { TaskKind, TaskView } from '../protocol';

export interface Task {
	/** What the picker shows and allows; sent in every snapshot. */
	readonly view: TaskView;
	/** The text the candidates are about (the selection), with LF line endings. */
	readonly source: string;
	/** VS Code language id of the source (`typescript`, `plaintext`). */
	readonly languageId: string;
	/** The chat sent to the generation model, the same for each of the N requests. */
	messages(): ChatMessage[];
	/**
	 * A raw reply as a person should see it. `partial` is for text still streaming: the cleaning must
	 * not flicker (an unterminated fence is hidden, nothing is re-indented yet).
	 */
	clean(raw: string, partial: boolean): string;
	/** What the reward model is asked to judge for one cleaned candidate. */
	rewardPair(candidate: string): RewardPair;
}

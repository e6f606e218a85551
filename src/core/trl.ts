/**
 * Preference data in the form Hugging Face TRL reads (`RewardTrainer`, `DPOTrainer`): JSONL rows of
 * `prompt`, `chosen`, `rejected`, one row per (chosen, rejected) pair.
 *
 * Two forms, as TRL's dataset-format guide names them:
 * - `standard` (the default): three strings. `prompt` is what Best-of-N's reward model judges (the
 *   instruction and the selection), so a model trained on the export is asked the same question when
 *   it ranks. Sequence classifiers such as DeBERTa have no chat template, which the conversational
 *   form needs.
 * - `conversational`: `prompt` is the chat sent to the generation model (system and user messages),
 *   `chosen`/`rejected` one assistant message each; for chat models and DPO on the generator itself.
 *
 * Reading accepts both forms, with the prompt explicit or implicit (then it is the shared head of
 * `chosen` and `rejected`, as TRL's `extract_prompt` finds it), plus an optional `subset` string.
 */
import type { ChatMessage } from './generation';
import { distinctCandidates, type PreferenceRecord } from './preferences';

export type TrlFormat = 'standard' | 'conversational';
export const TRL_FORMATS: readonly TrlFormat[] = ['standard', 'conversational'];

export type StandardRow = { readonly prompt: string; readonly chosen: string; readonly rejected: string };
export type ConversationalRow = {
	readonly prompt: readonly ChatMessage[];
	readonly chosen: readonly ChatMessage[];
	readonly rejected: readonly ChatMessage[];
};
export type TrlRow = StandardRow | ConversationalRow;

/** One row per rejected candidate whose text differs from the chosen one; runs with one choice give none. */
export function toTrlRows(records: readonly PreferenceRecord[], format: TrlFormat = 'standard'): TrlRow[] {
	const rows: TrlRow[] = [];
	for (const record of records) {
		if (distinctCandidates(record) < 2) continue;
		const chosen = record.candidates.find(c => c.id === record.chosen);
		if (!chosen) continue;
		const seen = new Set([chosen.text]);
		for (const other of record.candidates) {
			if (seen.has(other.text)) continue;
			seen.add(other.text);
			rows.push(
				format === 'standard'
					? { prompt: record.prompt, chosen: chosen.text, rejected: other.text }
					: {
							prompt: record.messages.filter(m => m.role !== 'assistant').map(m => ({ role: m.role, content: m.content })),
							chosen: [{ role: 'assistant', content: chosen.text }],
							rejected: [{ role: 'assistant', content: other.text }],
						},
			);
		}
	}
	return rows;
}

export function toJsonl(rows: readonly unknown[]): string {
	return rows.map(r => `${JSON.stringify(r)}\n`).join('');
}

/** A preference pair as a reward model scores it: one prompt, two responses. */
export interface PreferencePair {
	readonly prompt: string;
	readonly chosen: string;
	readonly rejected: string;
	readonly subset?: string;
}

export class PreferenceDataError extends Error {}

const isString = (v: unknown): v is string => typeof v === 'string';

function messages(value: unknown, what: string, line: number): ChatMessage[] {
	if (!Array.isArray(value)) throw new PreferenceDataError(`line ${line}: "${what}" must be a string or a list of messages`);
	return value.map(m => {
		const ok =
			typeof m === 'object' &&
			m !== null &&
			isString((m as Record<string, unknown>).role) &&
			isString((m as Record<string, unknown>).content);
		if (!ok) throw new PreferenceDataError(`line ${line}: each message in "${what}" needs a "role" and a "content" string`);
		return m as ChatMessage;
	});
}

/** The user's side of a chat, as one prompt text for a (prompt, response) reward model. */
function promptText(chat: readonly ChatMessage[]): string {
	return chat
		.filter(m => m.role === 'user')
		.map(m => m.content)
		.join('\n\n');
}

/** The assistant's reply at the end of a chat. */
function replyText(chat: readonly ChatMessage[], what: string, line: number): string {
	const last = chat[chat.length - 1];
	if (!last || last.role !== 'assistant') throw new PreferenceDataError(`line ${line}: "${what}" must end with an assistant message`);
	return last.content;
}

function commonPrefix(a: string, b: string): string {
	let i = 0;
	while (i < a.length && i < b.length && a[i] === b[i]) i++;
	return a.slice(0, i);
}

/** One JSONL row of either form to a pair; throws `PreferenceDataError` naming the line. */
export function parsePreferenceRow(value: unknown, line: number): PreferencePair {
	if (typeof value !== 'object' || value === null || Array.isArray(value))
		throw new PreferenceDataError(`line ${line}: not a JSON object`);
	const row = value as Record<string, unknown>;
	if (row.chosen === undefined || row.rejected === undefined) {
		throw new PreferenceDataError(`line ${line}: needs "chosen" and "rejected" (TRL's preference columns)`);
	}
	const subset = isString(row.subset) && row.subset ? row.subset : undefined;
	const withSubset = (pair: Omit<PreferencePair, 'subset'>): PreferencePair => (subset ? { ...pair, subset } : pair);
	if (isString(row.chosen) && isString(row.rejected)) {
		if (row.prompt === undefined) {
			// Implicit prompt: the shared head of both texts.
			const prompt = commonPrefix(row.chosen, row.rejected);
			return withSubset({ prompt, chosen: row.chosen.slice(prompt.length), rejected: row.rejected.slice(prompt.length) });
		}
		if (isString(row.prompt)) return withSubset({ prompt: row.prompt, chosen: row.chosen, rejected: row.rejected });
		return withSubset({ prompt: promptText(messages(row.prompt, 'prompt', line)), chosen: row.chosen, rejected: row.rejected });
	}
	const chosen = messages(row.chosen, 'chosen', line);
	const rejected = messages(row.rejected, 'rejected', line);
	const prompt =
		row.prompt === undefined
			? promptText(chosen.slice(0, -1))
			: isString(row.prompt)
				? row.prompt
				: promptText(messages(row.prompt, 'prompt', line));
	return withSubset({ prompt, chosen: replyText(chosen, 'chosen', line), rejected: replyText(rejected, 'rejected', line) });
}

/** A whole JSONL file; blank lines are skipped, the first bad line is an error that names it. */
export function parsePreferenceJsonl(text: string): PreferencePair[] {
	const pairs: PreferencePair[] = [];
	text.split('\n').forEach((raw, index) => {
		if (!raw.trim()) return;
		let value: unknown;
		try {
			value = JSON.parse(raw);
		} catch {
			throw new PreferenceDataError(`line ${index + 1}: not valid JSON`);
		}
		pairs.push(parsePreferenceRow(value, index + 1));
	});
	return pairs;
}

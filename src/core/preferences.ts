/**
 * The preference log's record: one line of JSONL per accepted candidate, holding everything a person
 * (or a trainer) needs to see what was asked, what came back, how it was ranked and what was picked.
 * Pure: building, reading back, filtering and bounding the log; the files live with the front ends.
 */
import type { ChatMessage } from './generation';
import type { CandidateView, RankerKind } from './protocol';

/** Bumped when a field changes meaning; readers skip records of versions they do not know. */
export const PREFERENCE_VERSION = 1;

export interface PreferenceCandidate {
	/** The candidate's id in its run (its request index). */
	readonly id: number;
	readonly text: string;
	/** The sampling seed it was generated with, when the run used one. */
	readonly seed?: number;
	/** The ranker's score (reward logit or consensus similarity); absent when unscored. */
	readonly score?: number;
	/** 1 = the ranker's best; absent when unranked. */
	readonly rank?: number;
	/** How many generated candidates had exactly this text. */
	readonly count: number;
}

export interface PreferenceRecord {
	readonly v: typeof PREFERENCE_VERSION;
	/** When the candidate was accepted (ISO 8601, UTC). */
	readonly time: string;
	/**
	 * The run the pick was made in (`PickerState.runKey`): the log holds one record per run, the latest
	 * pick (see `withRecord`). Absent in records written before runs had keys.
	 */
	readonly run?: string;
	/** `rewrite`, `explain`, … */
	readonly task: string;
	/** What the person asked for (the instruction, or the task's title). */
	readonly instruction: string;
	/** Exactly the chat messages sent to the generation model. */
	readonly messages: readonly ChatMessage[];
	/** What the reward model judges as the prompt side of each (prompt, response) pair. */
	readonly prompt: string;
	readonly languageId: string;
	readonly model: string;
	/** Which kind of server generated (`ollama`, …) and where. */
	readonly backend: string;
	readonly host: string;
	readonly ranker: { readonly kind: RankerKind; readonly label: string };
	/** The reward model that ranked, when the ranker was one. */
	readonly rewardModel?: string;
	/** Every completed, distinct candidate, best first as the picker showed them. */
	readonly candidates: readonly PreferenceCandidate[];
	/** The id of the candidate the person accepted. */
	readonly chosen: number;
}

/** What a front end knows at the moment a candidate is accepted. */
export interface AcceptedRun {
	readonly time: Date;
	readonly run?: string;
	readonly task: string;
	readonly instruction: string;
	readonly messages: readonly ChatMessage[];
	readonly prompt: string;
	readonly languageId: string;
	readonly model: string;
	readonly backend: string;
	readonly host: string;
	readonly ranker: { readonly kind: RankerKind; readonly label: string };
	readonly candidates: readonly (CandidateView & { readonly seed?: number })[];
	readonly chosen: number;
}

/** The record for an accepted candidate, or undefined when the chosen one is not among the completed. */
export function buildPreferenceRecord(run: AcceptedRun): PreferenceRecord | undefined {
	const candidates: PreferenceCandidate[] = run.candidates
		.filter(c => c.status === 'done')
		.map(c => ({
			id: c.id,
			text: c.text,
			...(c.seed !== undefined ? { seed: c.seed } : {}),
			...(c.score !== undefined && Number.isFinite(c.score) ? { score: c.score } : {}),
			...(c.rank !== undefined ? { rank: c.rank } : {}),
			count: c.count,
		}));
	if (!candidates.some(c => c.id === run.chosen)) return undefined;
	return {
		v: PREFERENCE_VERSION,
		time: run.time.toISOString(),
		...(run.run ? { run: run.run } : {}),
		task: run.task,
		instruction: run.instruction,
		messages: run.messages.map(m => ({ role: m.role, content: m.content })),
		prompt: run.prompt,
		languageId: run.languageId,
		model: run.model,
		backend: run.backend,
		host: run.host,
		ranker: { kind: run.ranker.kind, label: run.ranker.label },
		...(run.ranker.kind === 'reward' ? { rewardModel: run.ranker.label } : {}),
		candidates,
		chosen: run.chosen,
	};
}

export function serializeRecord(record: PreferenceRecord): string {
	return `${JSON.stringify(record)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Validates one parsed line; anything that is not a record this version understands yields undefined. */
export function parseRecord(value: unknown): PreferenceRecord | undefined {
	if (!isObject(value) || value.v !== PREFERENCE_VERSION) return undefined;
	const v = value;
	if (![v.time, v.task, v.instruction, v.prompt, v.languageId, v.model, v.backend, v.host].every(isString)) return undefined;
	if (Number.isNaN(Date.parse(v.time as string))) return undefined;
	if (v.run !== undefined && !isString(v.run)) return undefined;
	if (!Array.isArray(v.messages) || !v.messages.every(m => isObject(m) && isString(m.role) && isString(m.content))) return undefined;
	if (!isObject(v.ranker) || !isString(v.ranker.kind) || !isString(v.ranker.label)) return undefined;
	if (!['reward', 'consensus', 'none'].includes(v.ranker.kind)) return undefined;
	if (v.rewardModel !== undefined && !isString(v.rewardModel)) return undefined;
	if (!Array.isArray(v.candidates) || !isNumber(v.chosen)) return undefined;
	const candidates: PreferenceCandidate[] = [];
	for (const c of v.candidates) {
		if (!isObject(c) || !isNumber(c.id) || !isString(c.text) || !isNumber(c.count)) return undefined;
		if ((c.seed !== undefined && !isNumber(c.seed)) || (c.score !== undefined && !isNumber(c.score))) return undefined;
		// A rank counts the completed candidates up to this one: 1…n. Anything else (a hand-edited line)
		// would skew the report, and a huge one would make it build an array that long.
		if (c.rank !== undefined && !(isNumber(c.rank) && Number.isInteger(c.rank) && c.rank >= 1 && c.rank <= v.candidates.length))
			return undefined;
		candidates.push(c as unknown as PreferenceCandidate);
	}
	if (!candidates.some(c => c.id === v.chosen)) return undefined;
	return value as unknown as PreferenceRecord;
}

/**
 * The log's text with `record` added at the end. A record of the same run is taken out first: a run
 * chosen from again (Show Other Candidates on an explanation) holds one pick, the latest, or the
 * export would pair the same prompt's candidates both ways. Lines that are not records stay as they are.
 */
export function withRecord(text: string, record: PreferenceRecord): { readonly text: string; readonly replaced: number } {
	const lines = text.split('\n').filter(l => l.trim());
	const key = record.run;
	const kept = key ? lines.filter(line => !(line.includes(key) && runOf(line) === key)) : lines;
	const head = kept.length ? `${kept.join('\n')}\n` : '';
	return { text: head + serializeRecord(record), replaced: lines.length - kept.length };
}

function runOf(line: string): unknown {
	try {
		const value: unknown = JSON.parse(line);
		return isObject(value) ? value.run : undefined;
	} catch {
		return undefined;
	}
}

export interface ParsedLog {
	readonly records: PreferenceRecord[];
	/** Lines that were not JSON or not a record this version reads (a cut last line, a newer version). */
	readonly skipped: number;
}

/** Reads a whole log; blank lines are ignored, unreadable ones counted and skipped. */
export function parseLog(text: string): ParsedLog {
	const records: PreferenceRecord[] = [];
	let skipped = 0;
	for (const line of text.split('\n')) {
		if (!line.trim()) continue;
		let value: unknown;
		try {
			value = JSON.parse(line);
		} catch {
			skipped++;
			continue;
		}
		const record = parseRecord(value);
		if (record) records.push(record);
		else skipped++;
	}
	return { records, skipped };
}

const encoder = new TextEncoder();
const utf8Length = (text: string): number => encoder.encode(text).length;

/**
 * The tail of a log that fits in `maxBytes`: whole lines only, oldest dropped first. Returns the text
 * unchanged when it already fits. A single record larger than the bound is dropped too.
 */
export function trimLog(text: string, maxBytes: number): string {
	if (utf8Length(text) <= maxBytes) return text;
	const lines = text.split('\n').filter(l => l.trim());
	const kept: string[] = [];
	let size = 0;
	for (const line of lines.reverse()) {
		const bytes = utf8Length(line) + 1;
		if (size + bytes > maxBytes) break;
		kept.push(line);
		size += bytes;
	}
	return kept.length ? `${kept.reverse().join('\n')}\n` : '';
}

/** How many candidates of a record differ in text (the distinct choices the person had). */
export function distinctCandidates(record: PreferenceRecord): number {
	return new Set(record.candidates.map(c => c.text)).size;
}

export interface PreferenceFilter {
	readonly task?: string;
	/** Inclusive bounds, epoch ms. */
	readonly since?: number;
	readonly until?: number;
	/** Only runs where the person chose among at least this many distinct candidates. */
	readonly minCandidates?: number;
}

export function filterRecords(records: readonly PreferenceRecord[], filter: PreferenceFilter): PreferenceRecord[] {
	return records.filter(r => {
		const time = Date.parse(r.time);
		return (
			(filter.task === undefined || r.task === filter.task) &&
			(filter.since === undefined || time >= filter.since) &&
			(filter.until === undefined || time <= filter.until) &&
			(filter.minCandidates === undefined || distinctCandidates(r) >= filter.minCandidates)
		);
	});
}

/**
 * A date as people type it: `2026-03-01` (a whole day, UTC: the start for `since`, the last
 * millisecond for `until`) or a full ISO timestamp. Undefined when it is not a date.
 */
export function parseDateBound(text: string, end: 'since' | 'until'): number | undefined {
	const trimmed = text.trim();
	if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) {
		const start = Date.parse(`${trimmed}T00:00:00Z`);
		if (Number.isNaN(start)) return undefined;
		return end === 'since' ? start : start + 24 * 3600_000 - 1;
	}
	if (!/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) return undefined;
	const time = Date.parse(trimmed);
	return Number.isNaN(time) ? undefined : time;
}

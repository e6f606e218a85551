/**
 * The picker's view model: pure functions from a `PickerState` snapshot to what the webview shows.
 * No DOM here, so it runs (and is tested) in node; the views (`headerView.ts`, `listView.ts`,
 * `detailView.ts`) only turn these values into elements.
 */
import { diffLines } from 'diff';
import type { BuiltinModelView, CandidateView, PickerState, RankerAgreementView, RunPhase } from '../core/protocol';
import { formatScore } from './score';

export type ViewMode = 'text' | 'diff';

export function isRunning(phase: RunPhase): boolean {
	return phase === 'generating' || phase === 'scoring';
}

/** Only finished candidates can be applied; an unscored one is fine, a partial one is not. */
export function canAccept(c: CandidateView): boolean {
	return c.status === 'done';
}

export { formatScore } from './score';

/** "12.3 s" under a minute, "2 m 05 s" above. */
export function formatElapsed(ms: number): string {
	const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
	if (safe < 59_950) return `${(safe / 1000).toFixed(1)} s`;
	const total = Math.round(safe / 1000);
	const m = Math.floor(total / 60);
	const s = total % 60;
	return `${m} m ${String(s).padStart(2, '0')} s`;
}

/**
 * How long after the elapsed time's text changes the header redraws it on its own. While candidates
 * stream, the host posts a snapshot about every 100 ms, and each one's draw writes the clock's newest
 * text: a redraw of its own at the second would have the browser render and composite a frame for the
 * clock alone between two of them (10-16 ms of CPU a frame in software), and a candidate's text
 * arriving just after it would wait for the next frame. When nothing streams the clock is this late,
 * which a clock in whole seconds does not show.
 */
export const CLOCK_FOLD_MS = 250;

/**
 * The elapsed time while a run goes, in whole seconds ("12 s", "2 m 05 s"), how long until that text
 * changes, and when the header should redraw it if no snapshot has by then (`CLOCK_FOLD_MS` later).
 * The header redraws it only then: once a second, not at every tick of a clock that would have the
 * browser repaint the header ten times a second for the whole run (on a machine that composites in
 * software, CPU taken from the run itself). The run's final time keeps its tenths.
 */
export function runningElapsed(ms: number): { text: string; changesInMs: number; redrawInMs: number } {
	const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
	const total = Math.floor(safe / 1000);
	const text = total < 60 ? `${total} s` : `${Math.floor(total / 60)} m ${String(total % 60).padStart(2, '0')} s`;
	const changesInMs = 1000 - (safe % 1000);
	return { text, changesInMs, redrawInMs: changesInMs + CLOCK_FOLD_MS };
}

/** Collapsed duplicates still stand for `count` generations, so progress counts them all. */
export function formatProgress(state: PickerState): string {
	let done = 0;
	let failed = 0;
	let cancelled = 0;
	let seen = 0;
	for (const c of state.candidates) {
		const n = Math.max(1, c.count);
		seen += n;
		if (c.status === 'done') done += n;
		else if (c.status === 'failed') failed += n;
		else if (c.status === 'cancelled') cancelled += n;
	}
	const parts = [`${done} of ${Math.max(state.requested, seen)} done`];
	if (failed) parts.push(`${failed} failed`);
	if (cancelled) parts.push(`${cancelled} cancelled`);
	return parts.join(' · ');
}

/**
 * How far the run has got, 0 to 1, for the bar along the header's top edge: each generation counts
 * half while it streams and whole once it has ended; when something ranks, the second half of each is
 * its score (or why it has none). It moves only when a snapshot does, never by itself: an animation
 * would have the browser redraw the panel at the display's rate for as long as the run lasts, which
 * on a machine that composites in software takes a core from the scoring a person waits for.
 */
export function runProgress(state: PickerState): number {
	const ranks = state.ranker.kind !== 'none';
	let done = 0;
	let seen = 0;
	for (const c of state.candidates) {
		const n = Math.max(1, c.count);
		seen += n;
		const generated = c.status === 'queued' ? 0 : c.status === 'streaming' ? 0.5 : 1;
		const ended = c.status === 'failed' || c.status === 'cancelled';
		const scored = ended || (c.status === 'done' && (c.score !== undefined || c.scoreError !== undefined)) ? 1 : 0;
		done += n * (ranks ? (generated + scored) / 2 : generated);
	}
	const total = Math.max(state.requested, seen);
	return total > 0 ? Math.min(1, done / total) : 0;
}

export function phaseLabel(phase: RunPhase): string {
	switch (phase) {
		case 'generating':
			return 'Generating…';
		case 'scoring':
			return 'Ranking…';
		case 'done':
			return 'Done';
		case 'cancelled':
			return 'Cancelled';
		case 'failed':
			return 'Failed';
		default: {
			const never: never = phase;
			return String(never);
		}
	}
}

/**
 * Why a finished candidate has no score yet, while the run goes on: a score held until generation ends
 * says so, since an empty score beside candidates streaming on would otherwise look stuck.
 */
export function pendingScoreNote(c: CandidateView, phase: RunPhase): string | undefined {
	if (c.status !== 'done' || c.score !== undefined || c.scoreError !== undefined || !isRunning(phase)) return undefined;
	return c.scoreHeld ? 'Scored when generation ends: scoring during it slowed the model server, which shares this CPU' : undefined;
}

/** Status words for a row; empty for a normal finished candidate. */
export function statusLabel(c: CandidateView): string {
	switch (c.status) {
		case 'queued':
			return 'queued';
		case 'streaming':
			return 'streaming';
		case 'failed':
			return c.error ? `failed: ${c.error}` : 'failed';
		case 'cancelled':
			return 'cancelled';
		case 'done':
			return c.doneReason === 'length' ? 'cut at token limit' : '';
		default: {
			const never: never = c.status;
			return String(never);
		}
	}
}

/** "agreed with your pick 7 of 12 times (58%, 95% CI 32–81%)" */
export function agreementLine(a: RankerAgreementView): string {
	const pct = (x: number) => `${Math.round(100 * x)}%`;
	return `agreed with your pick ${a.agreed} of ${a.runs} times (${pct(a.agreed / a.runs)}, 95% CI ${pct(a.ci95[0])}–${pct(a.ci95[1])})`;
}

/**
 * The header's line while the built-in model generates: that it is in use, how fast it went here,
 * and (in a person's words) how to get better results.
 */
export function builtinLine(b: BuiltinModelView): { speed: string; hint: string } {
	const speed =
		b.tokensPerSecond !== undefined ? `${b.tokensPerSecond.toFixed(1)} tokens/s on this machine` : 'speed measured after its first run';
	return {
		speed: `Built-in model · ${speed}`,
		hint: 'For better results: a model server (bestOfN.backend) or a bigger model (bestOfN.builtin.model)',
	};
}

/**
 * The header's ranker line: what actually ranked this run, not what was configured, so a run that
 * never got a score says "Not ranked". A failure is told once, in the notice: the line repeats the
 * reason only when there is no notice, and always carries it in `title`.
 */
export function rankerLine(s: PickerState): { text: string; title: string } {
	const r = s.ranker;
	const running = isRunning(s.phase);
	const ranked = s.candidates.some(c => c.rank !== undefined);
	const why = (text: string) => (r.reason && !s.notice ? `${text} — ${r.reason}` : text);
	if (r.kind === 'none' || (!running && !ranked)) {
		const reason = r.kind === 'none' ? r.reason : s.phase === 'done' ? 'no candidate could be scored' : 'the run ended before ranking';
		return { text: reason && !s.notice ? `Not ranked — ${reason}` : 'Not ranked', title: reason };
	}
	switch (r.kind) {
		case 'reward':
			return { text: `${ranked && !running ? 'Ranked' : 'Ranking'} by reward model ${r.label}`, title: r.reason };
		case 'consensus':
			return { text: why(`${ranked && !running ? 'Ranked' : 'Ranking'} by consensus`), title: r.reason };
		default: {
			const never: never = r.kind;
			return { text: String(never), title: '' };
		}
	}
}

/** "qwen2.5-coder @ localhost:11434": the scheme is noise in a header. */
export function modelLine(model: string, host: string): string {
	const shortHost = host.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
	return shortHost ? `${model} @ ${shortHost}` : model;
}

// ---- line diff ---------------------------------------------------------------------------------

export interface DiffRow {
	readonly kind: 'add' | 'del' | 'same';
	readonly text: string;
}

export interface DiffStats {
	readonly added: number;
	readonly removed: number;
}

function splitLines(value: string): string[] {
	const lines = value.split('\n');
	if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
	return lines;
}

/**
 * Unified line diff of a candidate against the original selection. Models often drop or add the
 * final newline and may answer with CRLF, neither of which is a change worth showing. A diff that
 * takes too long (huge, unrelated texts) degrades to "everything replaced" rather than freezing.
 */
export function diffRows(original: string, candidate: string): DiffRow[] {
	const rows: DiffRow[] = [];
	if (original === '' && candidate === '') return rows;
	const changes = diffLines(original, candidate, { ignoreNewlineAtEof: true, stripTrailingCr: true, timeout: 250 });
	if (!changes) {
		for (const text of original ? splitLines(original) : []) rows.push({ kind: 'del', text });
		for (const text of candidate ? splitLines(candidate) : []) rows.push({ kind: 'add', text });
		return rows;
	}
	for (const change of changes) {
		const kind = change.added ? 'add' : change.removed ? 'del' : 'same';
		for (const text of splitLines(change.value)) rows.push({ kind, text: text.replace(/\r$/, '') });
	}
	return rows;
}

export function diffStats(rows: readonly DiffRow[]): DiffStats {
	let added = 0;
	let removed = 0;
	for (const r of rows) {
		if (r.kind === 'add') added++;
		else if (r.kind === 'del') removed++;
	}
	return { added, removed };
}

/** "+3 −2", or "no changes" when the model returned the selection as it was. */
export function formatStats(s: DiffStats): string {
	if (!s.added && !s.removed) return 'no changes';
	return `+${s.added} \u2212${s.removed}`;
}

const MAX_PREVIEW = 240;

function clip(line: string): string {
	const oneLine = line.replace(/\s+/g, ' ').trim();
	return oneLine.length > MAX_PREVIEW ? `${oneLine.slice(0, MAX_PREVIEW - 1)}…` : oneLine;
}

/** `'use strict';`, `"use client"`: directives every rewrite keeps, which tell candidates apart by nothing. */
const DIRECTIVE = /^(['"])use \w+\1;?$/;
/** Where a comment line starts: `//`, `/*`, ` * …`, `#`, `--`, `<!--`, `;`, `%`, a docstring's quotes. */
const COMMENT = /^(\/\/|\/\*|\*|#|--|<!--|;|%|"""|''')/;

/**
 * How much a line says about a candidate: 2 for code with a word in it, 1 for a comment with words,
 * 0 for a line of only brackets and punctuation (`}`, `});`, `/**`) or a directive.
 */
function informative(line: string): number {
	const t = line.trim();
	if (!/[\p{L}\p{N}_$]/u.test(t) || DIRECTIVE.test(t)) return 0;
	return COMMENT.test(t) ? 1 : 2;
}

/** The first line that says the most of these, in order. */
function mostInformative(lines: readonly string[]): string | undefined {
	let best: string | undefined;
	let bestScore = -1;
	for (const line of lines) {
		if (line.trim() === '') continue;
		const score = informative(line);
		if (score === 2) return line;
		if (score > bestScore) {
			best = line;
			bestScore = score;
		}
	}
	return best;
}

/**
 * One line to tell candidates apart: the first line where a finished candidate differs from the
 * selection, skipping lines that say nothing (`}`, `/**`, `'use strict';`) when a later changed line
 * says more; a streaming one shows its newest line. A candidate that only removes lines shows its
 * first line, as there is nothing added to show.
 */
export function previewLine(c: CandidateView, rows?: readonly DiffRow[]): string {
	const lines = c.text.split('\n').filter(l => l.trim() !== '');
	if (c.status === 'streaming') return clip(lines[lines.length - 1] ?? '');
	const added = rows?.filter(r => r.kind === 'add').map(r => r.text) ?? [];
	return clip(mostInformative(added) ?? mostInformative(lines) ?? '');
}

/**
 * A row's preview text, and whether it is an error. A failure the notice already tells (the run's
 * one message) is not repeated on the row: the row just says it failed.
 */
export function rowPreview(c: CandidateView, s: PickerState, rows?: readonly DiffRow[]): { text: string; error: boolean } {
	if (c.status === 'failed') return { text: c.error === s.notice?.text ? '' : (c.error ?? 'Generation failed'), error: true };
	return { text: previewLine(c, rows) || (c.status === 'queued' ? '' : '…'), error: false };
}

/** What the detail pane says instead of text: why there is none (empty when there is text). */
export function detailPlaceholder(c: CandidateView, s: PickerState): string {
	if (c.status === 'failed')
		return c.error === s.notice?.text ? 'This candidate failed: the message above says why.' : `Failed: ${c.error ?? 'unknown error'}`;
	if (c.text) return '';
	if (c.status === 'queued') return 'Queued — waiting for a free slot on the model server.';
	if (c.status === 'streaming') return 'Waiting for the first tokens…';
	return 'This candidate is empty.';
}

export function lineCount(text: string): number {
	return text === '' ? 0 : splitLines(text).length;
}

// ---- active candidate --------------------------------------------------------------------------

/**
 * Which candidate the detail pane shows. `pinned` means the user chose it (moved or clicked); until
 * then the picker follows the best candidate, so it lands on rank 1 when ranking completes.
 */
export interface Selection {
	readonly runId?: number;
	readonly activeId?: number;
	readonly pinned: boolean;
}

/** Lowest rank; before ranking, the first finished candidate; else the first row. */
export function bestCandidate(candidates: readonly CandidateView[]): CandidateView | undefined {
	let best: CandidateView | undefined;
	for (const c of candidates) {
		if (c.rank !== undefined && (best?.rank === undefined || c.rank < best.rank)) best = c;
	}
	return best ?? candidates.find(canAccept) ?? candidates[0];
}

/** Applies a new snapshot: a new run starts over; a pinned choice survives while its id exists. */
export function reconcileSelection(prev: Selection, state: PickerState): Selection {
	const sameRun = prev.runId === state.runId;
	if (sameRun && prev.pinned && state.candidates.some(c => c.id === prev.activeId)) return prev;
	const best = bestCandidate(state.candidates);
	return { runId: state.runId, activeId: best?.id, pinned: false };
}

export type Move = 'next' | 'previous' | 'first' | 'last';

/** Arrow keys wrap around like a quick pick; Home/End do not need to. */
export function moveSelection(sel: Selection, state: PickerState, move: Move): Selection {
	const list = state.candidates;
	if (list.length === 0) return sel;
	const at = list.findIndex(c => c.id === sel.activeId);
	let next: number;
	switch (move) {
		case 'first':
			next = 0;
			break;
		case 'last':
			next = list.length - 1;
			break;
		case 'next':
			next = at < 0 ? 0 : (at + 1) % list.length;
			break;
		case 'previous':
			next = at < 0 ? list.length - 1 : (at - 1 + list.length) % list.length;
			break;
		default: {
			const never: never = move;
			return never;
		}
	}
	const target = list[next];
	return target ? { runId: state.runId, activeId: target.id, pinned: true } : sel;
}

// ---- words for assistive technology and hints ---------------------------------------------------

/** "Candidate 1 of 4, score +1.2" — short, because it is spoken on every move. */
export function announceCandidate(state: PickerState, id: number): string {
	const c = state.candidates.find(c => c.id === id);
	if (!c) return '';
	const index = state.candidates.indexOf(c);
	let text = `Candidate ${index + 1} of ${state.candidates.length}`;
	const score = formatScore(c.score, state.ranker.kind, 1);
	if (score) text += `, score ${score}`;
	const status = c.status === 'failed' ? 'failed' : statusLabel(c);
	if (status) text += `, ${status}`;
	if (c.count > 1) text += `, ${c.count} identical`;
	return text;
}

/** Why Enter (or a digit) did nothing. */
export function acceptBlockedHint(state: PickerState, id: number): string {
	const c = state.candidates.find(c => c.id === id);
	if (!c) return 'There is no such candidate.';
	const index = state.candidates.indexOf(c);
	const name = `Candidate ${index + 1}`;
	switch (c.status) {
		case 'queued':
			return `${name} is still queued and can't be accepted yet.`;
		case 'streaming':
			return `${name} is still streaming and can't be accepted yet.`;
		case 'failed':
			return `${name} failed and can't be accepted.`;
		case 'cancelled':
			return `${name} was cancelled and can't be accepted.`;
		case 'done':
			return '';
		default: {
			const never: never = c.status;
			return String(never);
		}
	}
}

/**
 * Delivers whole-state snapshots to a webview: nothing until it says `ready`, then at most one post
 * per interval, always the newest, except news, which goes out at once: as soon as the event loop has
 * handled what arrived with it, so news that comes together (the first words of N streams, read from
 * their sockets in one turn) goes in one post. A candidate's first text while others of the run still
 * wait for theirs is gathered a little longer (`gatherMs`) for them: see `pickerNews`. Pure (timers
 * are injected) so the picker's pacing is unit-tested.
 */
import type { PickerState } from '../core/protocol';

export interface Timers {
	now(): number;
	setTimeout(fn: () => void, ms: number): unknown;
	clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
	now: () => Date.now(),
	setTimeout: (fn, ms) => setTimeout(fn, ms),
	clearTimeout: handle => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * How soon a snapshot goes out: `false`, paced by the interval; `true`, at the end of this turn of the
 * event loop; `'gather'`, within `gatherMs`, or at once when news that cannot wait comes meanwhile.
 */
export type News = boolean | 'gather';

/**
 * How long a candidate's first text waits for the first texts of the others that are streaming
 * without text yet. A server decodes parallel streams together and writes their first tokens in the
 * same millisecond, but the extension host reads them one socket after another, each with its
 * response's headers: 3-28 ms apart in the editor on a loaded 2-core machine (bench/RESULTS.md,
 * engineer K's figure 3 section). Posted apart, the later message reaches the picker while the
 * browser is still drawing the first one's frame and waits 17-39 ms for the next, so the late
 * candidates show 20-40 ms after the first. Together they are drawn in one frame. Shorter than that
 * wait, so a first text that waits for nothing loses less than the others can gain.
 */
export const GATHER_MS = 16;

export class SnapshotSender<T> {
	private latest: { value: T } | undefined;
	private pending = false;
	private isReady = false;
	private lastPostAt = Number.NEGATIVE_INFINITY;
	private timer: unknown;
	/** When `timer` is the one that posts news (at once or gathered), not the interval's: when it is due. */
	private newsDueAt: number | undefined;

	constructor(
		private readonly post: (value: T) => void,
		private readonly intervalMs = 100,
		private readonly timers: Timers = realTimers,
		private readonly gatherMs = GATHER_MS,
	) {}

	/**
	 * Streaming produces many snapshots a second; only the newest matters, so older ones are dropped.
	 * `news` (see `pickerNews`) is posted at once, without waiting out the interval: in a timer of 0 ms,
	 * which runs once this turn's other I/O callbacks have run, with the newest snapshot by then.
	 * Gathered news waits up to `gatherMs` for more; news that cannot wait cuts that short.
	 */
	update(value: T, news: News = false): void {
		this.latest = { value };
		this.pending = true;
		if (news && this.isReady) {
			const wait = news === 'gather' ? this.gatherMs : 0;
			const dueAt = this.timers.now() + wait;
			// A post already due no later carries this snapshot too.
			if (this.newsDueAt !== undefined && this.newsDueAt <= dueAt) return;
			this.clearTimer();
			this.newsDueAt = dueAt;
			this.timer = this.timers.setTimeout(() => this.due(), wait);
			return;
		}
		this.schedule();
	}

	/**
	 * The webview (re)loaded: give it the newest snapshot at once, unless it has drawn exactly that one
	 * already (`has`: the snapshot written into its page, when the page says it drew it).
	 */
	ready(has?: T): void {
		this.isReady = true;
		this.clearTimer();
		if (this.latest && (has === undefined || this.latest.value !== has)) this.flush();
		else this.pending = false;
	}

	/** The webview's page is gone (hidden without retained context); hold everything until `ready`. */
	notReady(): void {
		this.isReady = false;
		this.clearTimer();
	}

	dispose(): void {
		this.notReady();
		this.latest = undefined;
		this.pending = false;
	}

	private schedule(): void {
		if (!this.isReady || this.timer !== undefined) return;
		const wait = this.lastPostAt + this.intervalMs - this.timers.now();
		if (wait <= 0) {
			this.flush();
			return;
		}
		this.timer = this.timers.setTimeout(() => this.due(), wait);
	}

	private due(): void {
		this.timer = undefined;
		this.newsDueAt = undefined;
		if (this.pending && this.isReady) this.flush();
	}

	private flush(): void {
		if (!this.latest) return;
		this.pending = false;
		this.lastPostAt = this.timers.now();
		this.post(this.latest.value);
	}

	private clearTimer(): void {
		this.newsDueAt = undefined;
		if (this.timer === undefined) return;
		this.timers.clearTimeout(this.timer);
		this.timer = undefined;
	}
}

/**
 * Whether a snapshot shows something a person is waiting for: a new run or phase, a candidate's first
 * text, a status or a score. Text growing in a stream is not news: it waits for the interval. A first
 * text while other candidates are streaming without text yet is `'gather'`: theirs is most likely a
 * few milliseconds behind (see `GATHER_MS`); the last of them to come is news at once.
 */
export function pickerNews(previous: PickerState | undefined, next: PickerState): News {
	if (!previous || previous.runId !== next.runId || previous.phase !== next.phase) return true;
	const before = new Map(previous.candidates.map(c => [c.id, c]));
	let firstText = false;
	for (const c of next.candidates) {
		const was = before.get(c.id);
		if (!was || was.status !== c.status || was.score !== c.score) return true;
		if (was.text === '' && c.text !== '') firstText = true;
	}
	if (!firstText) return false;
	return next.candidates.some(c => c.status === 'streaming' && c.text === '') ? 'gather' : true;
}

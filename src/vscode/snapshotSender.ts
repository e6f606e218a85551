/**
 * Delivers whole-state snapshots to a webview: nothing until it says `ready`, then at most one post
 * per interval, always the newest, except news, which goes out at once: as soon as the event loop has
 * handled what arrived with it, so news that comes together (the first words of N streams, read from
 * their sockets in one turn) goes in one post. Pure (timers are injected) so the picker's pacing is
 * unit-tested.
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

export class SnapshotSender<T> {
	private latest: { value: T } | undefined;
	private pending = false;
	private isReady = false;
	private lastPostAt = Number.NEGATIVE_INFINITY;
	private timer: unknown;
	/** Whether `timer` is the one that posts news (at once), not the interval's. */
	private newsDue = false;

	constructor(
		private readonly post: (value: T) => void,
		private readonly intervalMs = 100,
		private readonly timers: Timers = realTimers,
	) {}

	/**
	 * Streaming produces many snapshots a second; only the newest matters, so older ones are dropped.
	 * `news` (see `pickerNews`) is posted at once, without waiting out the interval: in a timer of 0 ms,
	 * which runs once this turn's other I/O callbacks have run, with the newest snapshot by then.
	 */
	update(value: T, news = false): void {
		this.latest = { value };
		this.pending = true;
		if (news && this.isReady) {
			if (this.newsDue) return;
			this.clearTimer();
			this.newsDue = true;
			this.timer = this.timers.setTimeout(() => this.due(), 0);
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
		this.newsDue = false;
		if (this.pending && this.isReady) this.flush();
	}

	private flush(): void {
		if (!this.latest) return;
		this.pending = false;
		this.lastPostAt = this.timers.now();
		this.post(this.latest.value);
	}

	private clearTimer(): void {
		this.newsDue = false;
		if (this.timer === undefined) return;
		this.timers.clearTimeout(this.timer);
		this.timer = undefined;
	}
}

/**
 * Whether a snapshot shows something a person is waiting for: a new run or phase, a candidate's first
 * text, a status or a score. Text growing in a stream is not news: it waits for the interval.
 */
export function pickerNews(previous: PickerState | undefined, next: PickerState): boolean {
	if (!previous || previous.runId !== next.runId || previous.phase !== next.phase) return true;
	const before = new Map(previous.candidates.map(c => [c.id, c]));
	return next.candidates.some(c => {
		const was = before.get(c.id);
		return !was || was.status !== c.status || was.score !== c.score || (was.text === '' && c.text !== '');
	});
}

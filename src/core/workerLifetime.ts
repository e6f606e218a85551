/**
 * What the reward worker's client and the built-in generator share about a worker's life, beside its
 * connection (workerConnection.ts): one model load that every caller joins, an idle clock that
 * unloads the model when no call has come for a while, and the race of a call against its signal.
 */
import { cancelledError } from './errors';
import type { LoadProgress } from './reward';

/** Resolves or rejects like `promise`, or rejects with `cancelledError()` as soon as `signal` aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort?: () => void): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const abort = () => {
			onAbort?.();
			reject(cancelledError());
		};
		if (signal.aborted) return abort();
		signal.addEventListener('abort', abort, { once: true });
		promise.then(
			v => {
				signal.removeEventListener('abort', abort);
				resolve(v);
			},
			(e: unknown) => {
				signal.removeEventListener('abort', abort);
				reject(e);
			},
		);
	});
}

/**
 * One model load in a worker, shared by every caller that asks while it runs: each gets its progress
 * and its answer, and each may stop waiting with its own signal. When the last caller stops waiting
 * for a load still under way, `abandon` runs: terminating the thread is the only way to stop a
 * download in progress.
 */
export class SharedLoad<T> {
	readonly promise: Promise<T>;
	private readonly listeners = new Set<(p: LoadProgress) => void>();
	private waiters = 0;
	private settled = false;

	/** `start` sends the load and reports its progress through the function it is given. */
	constructor(start: (progress: (p: LoadProgress) => void) => Promise<T>) {
		this.promise = start(p => this.listeners.forEach(l => l(p))).finally(() => (this.settled = true));
		this.promise.catch(() => {}); // callers that gave up have detached; the rejection is theirs, not unhandled
	}

	async join(signal: AbortSignal, onProgress: ((p: LoadProgress) => void) | undefined, abandon: () => void): Promise<T> {
		this.waiters++;
		if (onProgress) this.listeners.add(onProgress);
		let waiting = true;
		try {
			return await raceAbort(this.promise, signal, () => {
				waiting = false;
				if (--this.waiters === 0 && !this.settled) abandon();
			});
		} finally {
			if (waiting) this.waiters--;
			if (onProgress) this.listeners.delete(onProgress);
		}
	}
}

/**
 * Counts the calls in progress and, `ms` after the last one ends, calls `onIdle` (which unloads the
 * model). A change of `ms` takes effect at once: the clock of a worker idle now starts again from the
 * new value (0 stops it).
 */
export class IdleClock {
	private active = 0;
	private timer: NodeJS.Timeout | undefined;
	private stopped = false;

	constructor(
		private idleMs: number,
		private readonly onIdle: (ms: number) => void,
	) {}

	get ms(): number {
		return this.idleMs;
	}

	set ms(ms: number) {
		if (ms === this.idleMs) return;
		this.idleMs = ms;
		if (this.active === 0) this.schedule();
	}

	/** A call starts: the clock stops until every call has ended. */
	begin(): void {
		this.active++;
		clearTimeout(this.timer);
		this.timer = undefined;
	}

	end(): void {
		if (--this.active === 0) this.schedule();
	}

	/** For good: no more `onIdle`. */
	stop(): void {
		this.stopped = true;
		clearTimeout(this.timer);
		this.timer = undefined;
	}

	private schedule(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
		const ms = this.idleMs;
		if (ms <= 0 || this.stopped) return;
		this.timer = setTimeout(() => {
			if (this.active === 0) this.onIdle(ms);
		}, ms);
		this.timer.unref();
	}
}

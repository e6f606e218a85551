/**
 * The host side of one worker thread, shared by the reward worker's client and the built-in
 * generator: requests go out with an id and each is answered once (updates such as load progress may
 * come before the answer); an error or exit of the thread rejects every call in flight; once closed,
 * a connection is never reused (the client starts a fresh one).
 *
 * Closing while the worker is inside an onnxruntime step lets the step end first: terminating a thread
 * there can abort the whole process (a native exception escapes as the thread is torn down), and
 * with it the extension host. Calls marked `drain` are waited for, STOP_GRACE_MS at most. A worker
 * that understands `closeMessage` is asked to end itself instead, after whatever step it is in (a load
 * opening its session, a warm-up): the host cannot see those steps, the worker can.
 *
 * The caller starts the thread in its own layer and hands it over, so this module needs no threads.
 */
import { BestOfNError, errorMessage, type ErrorKind, type SettingField } from './errors';
import type { Logger } from './logger';

/**
 * What a connection uses of Node's `Worker` (node:worker_threads), or of a process made to look like
 * one (src/reward/scorerProcess.ts).
 */
export interface WorkerThread {
	readonly threadId: number;
	readonly stdout: { on(event: 'data', listener: (chunk: unknown) => void): unknown };
	readonly stderr: { on(event: 'data', listener: (chunk: unknown) => void): unknown };
	on(event: 'message', listener: (message: unknown) => void): unknown;
	on(event: 'error', listener: (error: Error) => void): unknown;
	on(event: 'messageerror', listener: (error: Error) => void): unknown;
	/** A process ended by a signal exits with code null and the signal's name. */
	on(event: 'exit', listener: (code: number | null, signal?: NodeJS.Signals | null) => void): unknown;
	postMessage(message: unknown): void;
	ref(): void;
	unref(): void;
	terminate(): Promise<number>;
}

/** A worker's error answer; the host rebuilds it into a `BestOfNError`. */
export interface WorkerError {
	readonly type: 'error';
	readonly id: number;
	readonly kind: ErrorKind;
	readonly message: string;
	readonly setting?: SettingField;
}

/** Any message a worker sends: about the request with this id. */
export interface WorkerReply {
	readonly type: string;
	readonly id: number;
}

/** `Omit` applied to each member of a union (plain `Omit` would merge the members). */
export type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * How long a closing worker may take to end the step it is in before it is terminated anyway (a
 * score batch of a base-sized model or a token of a small one takes up to seconds on a busy CPU).
 */
export const STOP_GRACE_MS = 10_000;

export interface WorkerConnectionOptions<Message, Reply extends WorkerReply, Answer extends Reply> {
	/** How the log names the worker: "reward worker". */
	readonly name: string;
	readonly logger: Logger;
	/** Ids for requests, unique over the client's connections. */
	readonly nextId: () => number;
	/** Whether a reply answers its request (the rest, but errors, are updates on the way). */
	readonly isAnswer: (reply: Reply) => reply is Answer;
	/** The error calls in flight are rejected with when the thread fails or exits on its own. */
	readonly crashed: (reason: string) => BestOfNError;
	/** A message that asks the worker to end request `id` early, sent to each drained call on close. */
	readonly cancel?: (id: number) => Message;
	/**
	 * The message that asks this worker to end itself once its step in progress returns, if it takes
	 * one (`undefined`: it is terminated at once, or after its drained calls). It is then terminated
	 * only if it has not exited after STOP_GRACE_MS.
	 */
	readonly closeMessage?: () => Message | undefined;
	/** Once, when the connection closes (crash or close()): it is not to be used again. */
	readonly onClosed: () => void;
	/** Once, when the thread has exited. */
	readonly onExited?: () => void;
}

interface Pending<Update, Answer> {
	resolve(answer: Answer): void;
	reject(error: unknown): void;
	onUpdate?: (update: Update) => void;
	/** Whether a close waits for this call's answer before terminating the thread (it runs onnxruntime). */
	readonly drain: boolean;
}

export class WorkerConnection<Message extends { readonly id: number }, Reply extends WorkerReply, Answer extends Reply> {
	private readonly pending = new Map<number, Pending<Exclude<Reply, Answer | WorkerError>, Answer>>();
	private closedFlag = false;
	private exited = false;
	/** Calls the closed worker is still ending; it is terminated once they are answered. */
	private draining: Set<number> | undefined;
	private stopTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(
		readonly worker: WorkerThread,
		private readonly options: WorkerConnectionOptions<Message, Reply, Answer>,
	) {
		const { name, logger } = options;
		worker.stdout.on('data', chunk => logger.debug(`[${name}] ${String(chunk).trimEnd()}`));
		worker.stderr.on('data', chunk => logger.warn(`[${name}] ${String(chunk).trimEnd()}`));
		worker.on('message', m => this.receive(m as Reply));
		worker.on('error', e => this.crash(errorMessage(e)));
		worker.on('exit', (code, signal) => {
			this.exited = true;
			clearTimeout(this.stopTimer);
			this.crash(signal ? `killed by ${signal}` : `exit code ${code}`);
			options.onExited?.();
		});
		worker.on('messageerror', e => logger.error(`${name}: unreadable message: ${errorMessage(e)}`));
		// An idle warm worker does not keep the host process alive; a call in flight does.
		worker.unref();
	}

	/** Whether the connection was closed (crashed, exited or closed): it takes no more calls. */
	get closed(): boolean {
		return this.closedFlag;
	}

	/** Sends a request; `id` is handed out before the answer so that the caller can cancel it. */
	call(
		request: OmitEach<Message, 'id'>,
		options: { onUpdate?: (update: Exclude<Reply, Answer | WorkerError>) => void; drain?: boolean } = {},
	): { id: number; reply: Promise<Answer> } {
		const id = this.options.nextId();
		if (this.closedFlag) return { id, reply: Promise.reject(this.options.crashed('it had already stopped')) };
		const reply = new Promise<Answer>((resolve, reject) => {
			this.pending.set(id, { resolve, reject, onUpdate: options.onUpdate, drain: options.drain ?? false });
			this.worker.ref();
			this.worker.postMessage({ ...request, id });
		});
		return { id, reply };
	}

	/** Posts a message that expects no answer (a cancel), unless the connection is closed. */
	send(message: Message): void {
		if (!this.closedFlag) this.worker.postMessage(message);
	}

	private receive(m: Reply): void {
		const final = m.type === 'error' || this.options.isAnswer(m);
		if (this.draining) {
			if (final && this.draining.delete(m.id) && this.draining.size === 0) this.terminate();
			return;
		}
		const p = this.pending.get(m.id);
		if (!p) return; // an answer to a call whose caller gave up
		if (!final) {
			p.onUpdate?.(m as Exclude<Reply, Answer | WorkerError>);
			return;
		}
		this.pending.delete(m.id);
		if (this.pending.size === 0 && !this.closedFlag) this.worker.unref();
		if (m.type === 'error') {
			const e = m as unknown as WorkerError;
			p.reject(new BestOfNError(e.kind, e.message, { setting: e.setting }));
		} else p.resolve(m as Answer);
	}

	private crash(reason: string): void {
		if (this.closedFlag) return;
		this.options.logger.error(`${this.options.name} stopped unexpectedly: ${reason}`);
		this.close(this.options.crashed(reason));
	}

	/** Rejects every call in flight with `error` and terminates the thread, after its drained calls end (idempotent). */
	close(error: BestOfNError): void {
		if (this.closedFlag) return;
		this.closedFlag = true;
		const drained = [...this.pending].filter(([, p]) => p.drain).map(([id]) => id);
		const calls = [...this.pending.values()];
		this.pending.clear();
		for (const p of calls) p.reject(error);
		this.options.onClosed();
		const closeMessage = this.exited ? undefined : this.options.closeMessage?.();
		if (this.exited || (drained.length === 0 && !closeMessage)) {
			this.terminate();
			return;
		}
		if (drained.length > 0) {
			this.draining = new Set(drained);
			const { cancel } = this.options;
			if (cancel) for (const id of drained) this.worker.postMessage(cancel(id));
		}
		if (closeMessage) this.worker.postMessage(closeMessage);
		// The exit clears it.
		this.stopTimer = setTimeout(() => this.terminate(), STOP_GRACE_MS);
	}

	private terminate(): void {
		clearTimeout(this.stopTimer);
		this.draining = undefined;
		void this.worker.terminate();
	}
}

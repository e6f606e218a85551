/**
 * The reward worker as a process of its own: a forked Node (in VS Code, Electron running as Node)
 * behind the same `WorkerThread` face as a worker thread, so that `WorkerConnection` drives either.
 *
 * Why a process: onnxruntime's packed weights land wherever glibc's malloc puts them, and a score
 * runs 1.2–1.5× slower when they sit in a thread's own arena or in separate mappings than in the
 * process's main heap (bench/RESULTS.md, "Why a score through the worker thread cost more than raw").
 * A thread cannot choose its arena and `MALLOC_*` variables are read once per process, so the scorer
 * gets a process whose main thread makes the session, started with the mmap threshold raised. A
 * process also keeps a native crash (or the OOM killer) out of the extension host, can be stopped in
 * the middle of an onnxruntime run, and returns all its memory when it exits.
 *
 * On Linux and macOS it leads a process group of its own, which it shares with the child a first load
 * starts to optimise the graph (optimizedGraph.ts). Ending the scorer ends the group, so a run
 * cancelled during that load does not leave the optimiser working on, with the model in memory,
 * beside the next run's. Windows has no process groups: there the optimiser ends on its own.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { WorkerThread } from '../core/workerConnection';

/**
 * glibc's mmap threshold in the scorer process: blocks up to 32 MB (every weight matrix of a
 * base-sized encoder but the embeddings) come from the main heap. Without it, glibc maps each block
 * above 128 kB on its own. Other C libraries ignore the variable.
 */
export const SCORER_MMAP_THRESHOLD = 32 * 1024 * 1024;

/**
 * glibc's trim threshold in the scorer process: freed memory at the top of the heap is given back to
 * the kernel only beyond this. With glibc's default (128 kB) the heap the worker readies after its
 * warm-up (heapTouch.ts) would be given back the moment it is freed, and the first score's pass would
 * take fresh pages again. Together with `MALLOC_MMAP_MAX_=0` (no block mapped on its own, so the
 * readied block and onnxruntime's 32 and 64 MB arena regions all come from the heap): bench/RESULTS.md,
 * "Pre-touching the heap in slices". The process's memory all goes back when it exits (an idle unload).
 */
export const SCORER_TRIM_THRESHOLD = 1024 * 1024 * 1024;

/** glibc's settings for the scorer process (above): what `ScorerProcess.start` adds to its environment. */
export const SCORER_MALLOC_ENV: Readonly<Record<string, string>> = {
	MALLOC_MMAP_THRESHOLD_: String(SCORER_MMAP_THRESHOLD),
	MALLOC_MMAP_MAX_: '0',
	MALLOC_TRIM_THRESHOLD_: String(SCORER_TRIM_THRESHOLD),
};

/**
 * The scorer's V8 flags. `--expose-gc`: the worker collects the tokenizer's garbage before onnxruntime
 * opens the model (worker.ts). `--max-semi-space-size=1` (MB): V8's young generation otherwise grows
 * to 2 × 16 MB while reading a large tokenizer.json and keeps it; the scorer's own garbage per call
 * (one pair's tokens, a message) is far smaller. Together they take 46–57 MB off the peak of an 8-bit
 * DeBERTa-v3 at 512 tokens (bench/RESULTS.md, "The 8-bit DeBERTa-v3 scorer's peak").
 */
export const SCORER_NODE_FLAGS: readonly string[] = ['--expose-gc', '--max-semi-space-size=1'];

export class ScorerProcess implements WorkerThread {
	/** The process id: what the log names the worker by. */
	readonly threadId: number;
	private readonly exited: Promise<void>;

	private constructor(private readonly child: ChildProcess) {
		this.threadId = child.pid ?? -1;
		this.exited = new Promise(resolve =>
			child.once('exit', () => {
				// However it ended (a crash, the OOM killer), what it started ends with it.
				endProcessGroup(this.threadId);
				resolve();
			}),
		);
	}

	/**
	 * Starts `file` in a new process. Throws when the program cannot be started at all (no pid); a
	 * later failure comes as an `error` event.
	 */
	static start(file: string): ScorerProcess {
		const child = fork(file, [], {
			// The bundle needs no loader, and the host's flags (inspector ports, `--import tsx` under
			// tests) are not meant for it.
			execArgv: [...SCORER_NODE_FLAGS],
			// In VS Code's extension host the program is Electron, which runs as plain Node with this variable.
			env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...SCORER_MALLOC_ENV },
			stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
			serialization: 'advanced',
			// A process group of its own (and a session: Node has no option for the group alone), ended
			// with it. It still ends with the host: it exits when the host's channel closes (worker.ts).
			detached: process.platform !== 'win32',
		});
		if (child.pid === undefined) {
			// The spawn failed synchronously enough to know (ENOENT, EACCES): its `error` event follows.
			child.once('error', () => undefined);
			throw new Error(`could not start ${process.execPath}`);
		}
		return new ScorerProcess(child);
	}

	get stdout(): WorkerThread['stdout'] {
		return this.child.stdout!;
	}

	get stderr(): WorkerThread['stderr'] {
		return this.child.stderr!;
	}

	on(event: 'message', listener: (message: unknown) => void): this;
	on(event: 'error' | 'messageerror', listener: (error: Error) => void): this;
	on(event: 'exit', listener: (code: number | null, signal?: NodeJS.Signals | null) => void): this;
	on(event: string, listener: (...args: never[]) => void): this {
		// A process has no `messageerror`: an unreadable message fails its own send.
		if (event !== 'messageerror') this.child.on(event, listener as (...args: unknown[]) => void);
		return this;
	}

	postMessage(message: unknown): void {
		// After the channel closed, the `exit` that follows fails the calls in flight.
		if (this.child.connected) this.child.send(message as object, error => void error);
	}

	ref(): void {
		this.child.ref();
		this.child.channel?.ref();
		(this.child.stdout as { ref?: () => void } | null)?.ref?.();
		(this.child.stderr as { ref?: () => void } | null)?.ref?.();
	}

	/** An idle scorer does not keep the host process (the CLI, a test) alive. */
	unref(): void {
		this.child.unref();
		this.child.channel?.unref();
		(this.child.stdout as { unref?: () => void } | null)?.unref?.();
		(this.child.stderr as { unref?: () => void } | null)?.unref?.();
	}

	/**
	 * Ends the process at once (a score in progress included: nothing in it is worth saving); its exit
	 * ends what it started.
	 */
	async terminate(): Promise<number> {
		if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
		await this.exited;
		return this.child.exitCode ?? 1;
	}
}

/**
 * Kills the process group `leader` leads, if there is one (a scorer started by `ScorerProcess.start`
 * on Linux or macOS); returns whether there was. Not a group leader, or Windows: nothing happens.
 */
export function endProcessGroup(leader: number): boolean {
	if (process.platform === 'win32' || leader <= 0) return false;
	try {
		process.kill(-leader, 'SIGKILL');
		return true;
	} catch {
		// ESRCH: no such group (not a leader, or every member has exited).
		return false;
	}
}

/**
 * Figure 5a's split of ours' call, read inside ours' own scorer process: a hook (runStampsHook.js)
 * preloaded into the scorer 5a starts notes each `session.run`'s start and end on the machine's
 * monotonic clock, and the bench finds the run inside each call it timed. So "ours' run ÷ ours' call"
 * (what our call adds around the pass) and "raw ÷ ours' run" (the pass in our process against raw's)
 * come from the same calls as the headline raw ÷ ours, instead of from a third fresh process whose
 * own draw moved that split by ±20% (bench/RESULTS.md, "Figure 5a's remaining gap"). Nothing here
 * is in the product: the hook is loaded only through the environment of the forks made in `fork`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const HOOK = path.join(__dirname, 'runStampsHook.js');

/**
 * The machine's monotonic clock in ms, the one the hook reads: one clock for every process, where
 * `performance.timeOrigin + performance.now()` is each process's own reading of the wall clock at its
 * start, which put a scorer's pass a few ms outside the call it was in.
 */
export const sharedNow = (): number => {
	const [seconds, nanoseconds] = process.hrtime();
	return seconds * 1e3 + nanoseconds / 1e6;
};

export class RunStamps {
	constructor(private readonly file: string) {}

	/**
	 * Calls `start`, which must start the scorer process synchronously (RewardWorkerClient's `load`
	 * forks before its first await), with the hook in the environment of the processes forked then.
	 */
	fork<T>(start: () => T): T {
		const option = `--require ${JSON.stringify(HOOK)}`;
		const saved = { ...process.env };
		process.env.NODE_OPTIONS = `${saved.NODE_OPTIONS ?? ''} ${option}`.trim();
		process.env.BON_BENCH_RUN_STAMPS = this.file;
		process.env.BON_BENCH_RUN_STAMPS_OPTION = option;
		try {
			return start();
		} finally {
			for (const key of ['NODE_OPTIONS', 'BON_BENCH_RUN_STAMPS', 'BON_BENCH_RUN_STAMPS_OPTION'])
				if (saved[key] === undefined) delete process.env[key];
				else process.env[key] = saved[key];
		}
	}

	/**
	 * The time of the one `session.run` that started and ended between `from` and `to` (a call of
	 * one pair runs one pass). The hook writes a run's line just after its reply, so it may still be
	 * on its way: waits up to a second for it.
	 */
	async runWithin(from: number, to: number): Promise<number> {
		for (let waited = 0; ; waited += 10) {
			const runs = fs.existsSync(this.file)
				? fs
						.readFileSync(this.file, 'utf8')
						.split('\n')
						.filter(Boolean)
						.map(line => line.split(' ').map(Number) as [number, number])
				: [];
			const inside = runs.filter(([start, end]) => start >= from && end <= to);
			if (inside.length === 1) return inside[0]![1] - inside[0]![0];
			if (inside.length > 1) throw new Error(`figure 5a: ${inside.length} passes inside one call of ours (${this.file})`);
			if (waited >= 1000) throw new Error(`figure 5a: no pass of ours' scorer inside its call (${this.file}): the hook did not load`);
			await new Promise(resolve => setTimeout(resolve, 10));
		}
	}
}

/**
 * Bench only (figure 5a; bench/runStamps.ts preloads it with NODE_OPTIONS into the scorer processes
 * that 5a starts, and nothing else loads it): notes when each `session.run` of the reward worker's
 * process starts and ends, on the machine's monotonic clock (`process.hrtime`, one clock for every
 * process; `performance.timeOrigin` is each process's own reading of the wall clock), so the bench can split
 * ours' call into its own pass and the rest without a third process. The line is written after the
 * reply has gone (setImmediate runs once the microtasks that send it are done), so the call's own
 * path gains only two clock reads and one promise turn.
 */
'use strict';

const file = process.env.BON_BENCH_RUN_STAMPS;
const option = process.env.BON_BENCH_RUN_STAMPS_OPTION;
if (file && option) {
	// Not for what this process starts itself (the graph optimiser's child of a first load).
	delete process.env.BON_BENCH_RUN_STAMPS;
	delete process.env.BON_BENCH_RUN_STAMPS_OPTION;
	process.env.NODE_OPTIONS = (process.env.NODE_OPTIONS ?? '').replace(option, '').trim();
}
if (file && process.send && /rewardWorker\.js$/.test(process.argv[1] ?? '')) {
	const fs = require('node:fs');
	const Module = require('node:module');
	const now = () => {
		const [seconds, nanoseconds] = process.hrtime();
		return seconds * 1e3 + nanoseconds / 1e6;
	};
	const fd = fs.openSync(file, 'a');
	const pending = [];
	const flush = () => fs.writeSync(fd, pending.splice(0).join(''));
	// Patched when the scorer itself first requires onnxruntime-node, so its load is as shipped.
	const load = Module._load;
	Module._load = function (request) {
		const loaded = load.apply(this, arguments);
		if (request === 'onnxruntime-node') {
			Module._load = load;
			const proto = loaded.InferenceSession.prototype;
			const run = proto.run;
			proto.run = function () {
				const start = now();
				return run.apply(this, arguments).then(result => {
					pending.push(`${start} ${now()}\n`);
					if (pending.length === 1) setImmediate(flush);
					return result;
				});
			};
		}
		return loaded;
	};
}

/**
 * The heap readied after the warm-up, measured (bench/RESULTS.md, "Pre-touching the heap in slices"):
 * figure 5b's worker row as bench/loadChild.ts and bench/idleWarmUp.ts run it (`RewardWorkerClient` →
 * dist/rewardWorker.js in a scorer process of its own, a fresh one for every sample): load, wait
 * `pauseMs` after the `loaded` answer, score the `--quick` typical pair twice; peak = the scorer's VmHWM.
 * Prints one JSON line per sample, with the worker's warm-up line. Run it in two trees (this one and an
 * exported copy of main, each with its own dist/) in turn, under the bench lock:
 * `npx tsx bench/preTouch.ts <pauseMs,...> [labels,...] [words]`. Not part of `npm run bench`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RewardWorkerClient } from '../src/reward/rewardClient';
import { ScorerProcess } from '../src/reward/scorerProcess';
import { typicalPair } from './pipeline';

const ROOT = path.join(__dirname, '..');
const workerPath = path.join(ROOT, 'dist', 'rewardWorker.js');
const cacheDir = path.join(os.tmpdir(), 'bestofn-idle-warm-up-cache');
const pauses = (process.argv[2] ?? '1000').split(',').map(Number);
/** The typical pair's words (`typicalPair`): 100 is the `--quick` pair (374 tokens BERT, 414 DeBERTa-v3). */
const words = Number(process.argv[4] ?? 100);
const never = () => new AbortController().signal;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const models = [
	{ label: 'BERT fp32', dir: path.join(ROOT, 'bench', '.models', 'bert-base'), dtype: 'fp32' as const },
	{ label: 'BERT 8-bit', dir: path.join(ROOT, 'bench', '.models', 'bert-base'), dtype: 'q8' as const },
	{ label: 'DeBERTa-v3 fp32', dir: path.join(ROOT, 'bench', '.models', 'deberta-v3-base'), dtype: 'fp32' as const },
	{ label: 'DeBERTa-v3 8-bit', dir: path.join(ROOT, 'bench', '.models', 'deberta-v3-base'), dtype: 'q8' as const },
].filter(m => !process.argv[3] || process.argv[3].split(',').includes(m.label));

function status(pid: number, field: string): number {
	const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`));
	return Number(line?.[1] ?? 0) * 1024;
}

async function trial(model: (typeof models)[number], pauseMs: number) {
	const lines: string[] = [];
	const add = (m: string) => void lines.push(m);
	const logger = { trace: add, debug: add, info: add, warn: add, error: add };
	const request = { model: model.dir, dtype: model.dtype, cacheDir, allowRemote: false, threads: 0 };
	const client = new RewardWorkerClient({ workerPath, request, idleMs: 0, logger, isolation: 'process' });
	try {
		await client.load(never());
		await sleep(pauseMs);
		const worker = (client as unknown as { conn?: { worker: unknown } }).conn?.worker;
		const pid = worker instanceof ScorerProcess ? worker.threadId : 0;
		const rssBefore = pid ? status(pid, 'VmRSS') : 0;
		const pair = typicalPair(words);
		let t = performance.now();
		await client.score([pair], never());
		const first = performance.now() - t;
		t = performance.now();
		await client.score([pair], never());
		const second = performance.now() - t;
		const peak = pid ? status(pid, 'VmHWM') : 0;
		const rss = pid ? status(pid, 'VmRSS') : 0;
		const warm = lines.find(l => /warm/.test(l)) ?? '?';
		return { first, second, peak, rssBefore, rss, warm: warm.replace(/^.*(session warmed up|warm-up skipped)/, '$1') };
	} finally {
		client.dispose();
	}
}

async function main(): Promise<void> {
	for (const pauseMs of pauses) {
		for (const model of models) {
			const r = await trial(model, pauseMs);
			console.log(
				JSON.stringify({
					tree: path.basename(ROOT),
					model: model.label,
					pauseMs,
					words,
					first: Math.round(r.first),
					second: Math.round(r.second),
					ratio: +(r.first / r.second).toFixed(2),
					peakMB: Math.round(r.peak / 1e6),
					rssBeforeMB: Math.round(r.rssBefore / 1e6),
					rssMB: Math.round(r.rss / 1e6),
					warm: r.warm,
				}),
			);
		}
	}
}

void main().then(
	() => process.exit(0),
	e => {
		console.error(e);
		process.exit(1);
	},
);

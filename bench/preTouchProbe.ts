/**
 * One fresh scorer-like process: load a bench model in process, warm it up as the worker does, then
 * optionally pre-touch glibc's heap in slices, then score the quick typical pair twice; prints page
 * faults, RSS and times. Run by a driver with the scorer's env (MALLOC_*), under the bench lock.
 * argv: label touchMB sliceMB mode(free|pin)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRewardModel } from '../src/reward/scorer';
import { typicalPair } from './pipeline';

const ROOT = path.join(__dirname, '..');
const [label = 'BERT 8-bit', touchArg = '0', sliceArg = '1', mode = 'free'] = process.argv.slice(2);
const model = {
	'BERT fp32': { dir: 'bert-base', dtype: 'fp32' },
	'BERT 8-bit': { dir: 'bert-base', dtype: 'q8' },
	'DeBERTa-v3 fp32': { dir: 'deberta-v3-base', dtype: 'fp32' },
	'DeBERTa-v3 8-bit': { dir: 'deberta-v3-base', dtype: 'q8' },
}[label]!;
const gc = (globalThis as { gc?: () => void }).gc!;
const faults = () => process.resourceUsage().minorPageFault;
const rss = () => Number(fs.readFileSync('/proc/self/status', 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;
const hwm = () => Number(fs.readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)![1]) / 1024;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function main() {
	const m = await loadRewardModel(
		{
			model: path.join(ROOT, 'bench', '.models', model.dir),
			dtype: model.dtype as 'fp32',
			cacheDir: path.join(os.tmpdir(), 'bestofn-idle-warm-up-cache'),
			allowRemote: false,
			threads: 0,
		},
		undefined,
		{ beforeSession: gc },
	);
	await m.warmUp();
	gc();
	const afterWarm = rss();
	const touchMB = Number(touchArg);
	const slice = Number(sliceArg) * 1024 * 1024;
	let maxSlice = 0;
	let touchMs = 0;
	const f0 = faults();
	const keep: Buffer[] = [];
	// 'big': one block malloc'd at once, written in slices; otherwise a block per slice.
	const big = mode === 'big' && touchMB > 0;
	if (big) keep.push(Buffer.allocUnsafeSlow(touchMB * 1024 * 1024));
	for (let done = 0; done < touchMB * 1024 * 1024; done += slice) {
		const t = performance.now();
		if (big) keep[0]!.fill(1, done, done + slice);
		else {
			const b = Buffer.allocUnsafeSlow(slice);
			b.fill(1);
			keep.push(b);
		}
		const ms = performance.now() - t;
		touchMs += ms;
		maxSlice = Math.max(maxSlice, ms);
		await new Promise(r => setImmediate(r));
	}
	const touchFaults = faults() - f0;
	const touched = rss();
	const pin = mode === 'pin' ? keep.pop() : undefined;
	keep.length = 0;
	gc();
	await sleep(300);
	gc();
	const afterFree = rss();
	const pair = typicalPair(Number(process.env.WORDS ?? 100));
	let f = faults();
	const r = rss();
	if (process.env.MARK) fs.writeSync(2, 'MARK first\n');
	let t = performance.now();
	await m.score([pair]);
	if (process.env.MARK) fs.writeSync(2, 'MARK end\n');
	const first = performance.now() - t;
	const firstFaults = faults() - f;
	const firstRss = rss() - r;
	f = faults();
	t = performance.now();
	await m.score([pair]);
	const second = performance.now() - t;
	console.log(
		JSON.stringify({
			label,
			words: process.env.WORDS ?? 100,
			touchMB,
			sliceMB: Number(sliceArg),
			mode,
			trim: process.env.MALLOC_TRIM_THRESHOLD_ ?? '-',
			pad: process.env.MALLOC_TOP_PAD_ ?? '-',
			afterWarm: afterWarm.toFixed(0),
			touched: touched.toFixed(0),
			afterFree: afterFree.toFixed(0),
			touchFaults,
			touchMs: touchMs.toFixed(0),
			maxSliceMs: maxSlice.toFixed(1),
			first: first.toFixed(0),
			second: second.toFixed(0),
			ratio: (first / second).toFixed(2),
			firstFaults,
			firstRssMB: firstRss.toFixed(0),
			secondFaults: faults() - f,
			hwm: hwm().toFixed(0),
			pin: pin?.length,
		}),
	);
	await m.dispose();
}
void main().then(
	() => process.exit(0),
	e => {
		console.error(e);
		process.exit(1);
	},
);

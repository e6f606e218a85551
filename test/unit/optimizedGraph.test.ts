/**
 * The optimised graph beside a model's external-data copy (src/reward/optimizedGraph.ts): written once
 * by onnxruntime in a child process with the constant parts folded, opened by the real scorer
 * (transformers.js tokenizer, onnxruntime-node) to the same logits as the original, written again when
 * the source changes, and never a reason for a load to fail.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RewardPair } from '../../src/core/reward';
import type { LoadRequest } from '../../src/core/workerProtocol';
import { externalDataCopy } from '../../src/reward/externalData';
import { ORT_FAILED_EXIT, optimizedGraph, optimizedPath, optimizerEnv } from '../../src/reward/optimizedGraph';
import { SCORER_MALLOC_ENV } from '../../src/reward/scorerProcess';
import { loadRewardModel } from '../../src/reward/scorer';
import { at } from '../fixtures/present';
import { tinyRewardLogit, writeTinyRewardModel, type TinyRewardModelOptions } from '../fixtures/tinyRewardModel';

const PAIRS: RewardPair[] = [
	{ prompt: 'explain this function', response: 'this code is good and clear' },
	{ prompt: 'explain this function', response: 'this code is broken and wrong , very wrong' },
	{ prompt: 'explain', response: 'the function returns a' },
];
/** The tiny model's weights are small: copy every one of them, whatever the file's size. */
const EVERYTHING = { minFileBytes: 0, minTensorBytes: 0 };
/** W computed from two constants in the graph: what constant folding evaluates. */
const FOLDABLE: TinyRewardModelOptions = { foldable: true };

/** Whether the fixture's multiplication (the node named `Mul_W`) is gone from the graph in `onnx`. */
const folded = (onnx: string) => !fs.readFileSync(onnx).includes('Mul_W');

describe('the optimised graph of a reward model', function () {
	this.timeout(60000);
	let tmp: string;
	let folder: string;
	let cacheDir: string;
	let logged: string[];

	beforeEach(() => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-optimized-'));
		folder = writeTinyRewardModel(path.join(tmp, 'model'), FOLDABLE);
		cacheDir = path.join(tmp, 'cache');
		logged = [];
	});
	afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

	const request = (): LoadRequest => ({ model: folder, dtype: 'fp32', cacheDir, allowRemote: false, threads: 1 });
	const source = () => path.join(folder, 'onnx', 'model.onnx');

	async function scores(extra: Parameters<typeof loadRewardModel>[2] = {}): Promise<number[]> {
		const model = await loadRewardModel(request(), undefined, { externalData: EVERYTHING, log: line => logged.push(line), ...extra });
		try {
			return await model.score(PAIRS);
		} finally {
			await model.dispose();
		}
	}

	/**
	 * A program for the optimising child that writes a line to the file it returns each time it starts,
	 * then runs `body` (shell; `"$@"` are the child's arguments, the last one the file to write).
	 */
	function program(body: string): { execPath: string; starts: () => number } {
		const file = path.join(tmp, `program-${fs.readdirSync(tmp).length}`);
		const count = `${file}.starts`;
		fs.writeFileSync(file, `#!/bin/sh\necho >> ${JSON.stringify(count)}\n${body}\n`, { mode: 0o755 });
		return { execPath: file, starts: () => (fs.existsSync(count) ? fs.readFileSync(count, 'utf8').length : 0) };
	}
	/** This Node, as the child runs by default. */
	const node = `exec ${JSON.stringify(process.execPath)} "$@"`;

	function assertLogits(got: readonly number[], opts: TinyRewardModelOptions = FOLDABLE): void {
		PAIRS.forEach((pair, i) => assert.ok(Math.abs(at(got, i) - tinyRewardLogit(pair, opts)) < 1e-6, `pair ${i}: ${at(got, i)}`));
	}

	it('is written at the first load, folded, and scores exactly as the original', async () => {
		assert.ok(!folded(source()), 'the fixture has a node to fold');
		assertLogits(await scores());
		const copy = externalDataCopy(source(), cacheDir, EVERYTHING);
		const optimized = optimizedPath(copy);
		assert.ok(fs.existsSync(optimized), 'the load wrote the optimised graph beside the copy');
		assert.ok(folded(optimized), 'the multiplication was folded into a weight');
		assert.ok(!folded(copy), 'the copy itself is the graph as exported');
		assert.deepEqual(
			fs.readdirSync(path.dirname(copy)).filter(f => f.includes('partial')),
			[],
			'no half-written folder is left',
		);
		assert.deepEqual(logged, []);
	});

	it('is what later loads open', async () => {
		const optimized = optimizedPath(externalDataCopy(source(), cacheDir, EVERYTHING));
		fs.mkdirSync(path.dirname(optimized));
		// Another model's optimised graph in its place: a load that opens it scores with weight 5.
		const other = writeTinyRewardModel(path.join(tmp, 'other'), { ...FOLDABLE, weight: 5 });
		const otherCopy = externalDataCopy(path.join(other, 'onnx', 'model.onnx'), path.join(tmp, 'other-cache'), EVERYTHING);
		const otherOptimized = await optimizedGraph(otherCopy);
		for (const f of fs.readdirSync(path.dirname(otherOptimized)))
			fs.copyFileSync(path.join(path.dirname(otherOptimized), f), path.join(path.dirname(optimized), f));
		const stamp = new Date('2001-02-03T04:05:06Z');
		fs.utimesSync(optimized, stamp, stamp);

		assertLogits(await scores(), { ...FOLDABLE, weight: 5 });
		assert.equal(fs.statSync(optimized).mtimeMs, stamp.getTime(), 'the cached graph was opened, not written again');
	});

	it('is written again, the old one removed, when the model file changes', async () => {
		await scores();
		const first = optimizedPath(externalDataCopy(source(), cacheDir, EVERYTHING));
		writeTinyRewardModel(folder, { ...FOLDABLE, weight: 3 });
		const later = new Date(Date.now() + 5000);
		fs.utimesSync(source(), later, later);

		assertLogits(await scores(), { ...FOLDABLE, weight: 3 });
		const second = optimizedPath(externalDataCopy(source(), cacheDir, EVERYTHING));
		assert.notEqual(second, first);
		assert.ok(fs.existsSync(second) && folded(second));
		assert.ok(!fs.existsSync(first), 'the old model’s graph is gone');
	});

	it('falls back to the copy with a log line when it cannot be made, and the scores are right', async () => {
		assertLogits(await scores({ optimize: { execPath: path.join(tmp, 'no-such-program') } }));
		const copy = externalDataCopy(source(), cacheDir, EVERYTHING);
		assert.ok(!fs.existsSync(optimizedPath(copy)));
		assert.equal(logged.length, 1, logged.join('\n'));
		assert.match(at(logged, 0), /could not be optimised ahead of the load \(.*ENOENT.*\); loading it as is/);
		assert.deepEqual(
			fs.readdirSync(path.dirname(copy)).filter(f => f.includes('partial')),
			[],
		);
	});

	it('leaves nothing half written when onnxruntime fails in the child, and does not try again until the copy changes', async () => {
		const copy = externalDataCopy(source(), cacheDir, EVERYTHING);
		// A graph onnxruntime cannot parse: the child exits with its error.
		fs.writeFileSync(copy, Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), fs.readFileSync(copy)]));
		const child = program(node);
		const options = { log: (line: string) => logged.push(line), execPath: child.execPath };
		assert.equal(await optimizedGraph(copy, options), copy);
		assert.equal(child.starts(), 1);
		assert.equal(logged.length, 1);
		assert.match(at(logged, 0), /could not be optimised ahead of the load \(.*(protobuf|parsing|load model).*\)/i);
		assert.match(at(logged, 0), /Later loads do the same without trying again; delete .*optimized\.failed to try again\.$/);
		// Nothing half written; only the note that this copy's graph cannot be optimised.
		assert.deepEqual(fs.readdirSync(path.dirname(copy)).sort(), ['model.onnx', 'model.onnx_data', 'optimized.failed', 'source.json']);

		logged = [];
		assert.equal(await optimizedGraph(copy, options), copy);
		assert.equal(child.starts(), 1, 'the second load started no child');
		assert.equal(logged.length, 1, logged.join('\n'));
		assert.match(
			at(logged, 0),
			/not optimised ahead of the load: that failed before for this model and this onnxruntime \(.*(protobuf|parsing|load model).*\); loading it as is/i,
		);

		// The copy written again (here: the same damage, a later time): tried again.
		const later = new Date(Date.now() + 5000);
		fs.utimesSync(copy, later, later);
		assert.equal(await optimizedGraph(copy, options), copy);
		assert.equal(child.starts(), 2, 'a changed copy is tried again');
	});

	for (const [why, body, timeoutMs] of [
		['the child is killed (out of memory, VS Code shutting down)', 'kill -KILL $$', undefined],
		['the child runs past its time limit (a loaded machine)', node, 1],
		// onnxruntime's error for a full disk, reported as the child reports any of onnxruntime's errors.
		['no room to write the optimised graph', `echo 'No space left on device' >&2\nexit ${ORT_FAILED_EXIT}`, undefined],
	] as const) {
		it(`tries again at the next load after a failure of the moment: ${why}`, async () => {
			const copy = externalDataCopy(source(), cacheDir, EVERYTHING);
			const failing = program(body);
			assert.equal(await optimizedGraph(copy, { log: line => logged.push(line), execPath: failing.execPath, timeoutMs }), copy);
			// A time limit of 1 ms may stop the program before it counted its start.
			if (timeoutMs === undefined) assert.equal(failing.starts(), 1);
			assert.equal(logged.length, 1, logged.join('\n'));
			assert.doesNotMatch(at(logged, 0), /Later loads/);
			assert.ok(!fs.existsSync(path.join(path.dirname(copy), 'optimized.failed')));

			const working = program(node);
			assert.equal(await optimizedGraph(copy, { execPath: working.execPath }), optimizedPath(copy));
			assert.equal(working.starts(), 1, 'the next load started the child again');
			assert.ok(folded(optimizedPath(copy)));
		});
	}

	it('takes the model’s size once on disk: the copy’s weights are removed once its optimised graph has opened', async () => {
		assertLogits(await scores());
		const copy = externalDataCopy(source(), cacheDir, EVERYTHING);
		assert.deepEqual(fs.readdirSync(path.dirname(copy)).sort(), ['model.onnx', 'optimized', 'source.json']);
		const written = fs.statSync(optimizedPath(copy)).mtimeMs;

		assertLogits(await scores());
		assert.equal(fs.statSync(optimizedPath(copy)).mtimeMs, written, 'later loads open the same graph, written once');
		assert.deepEqual(fs.readdirSync(path.dirname(copy)).sort(), ['model.onnx', 'optimized', 'source.json']);
		assert.deepEqual(logged, []);
	});

	it('is removed and the model opened as is when the cached graph does not load; the next load writes the copy and the graph again', async () => {
		await scores();
		const copy = externalDataCopy(source(), cacheDir, EVERYTHING);
		const optimized = optimizedPath(copy);
		fs.writeFileSync(optimized, 'not a model');
		logged = [];
		// The copy's weights went with the first load: the original is what is left to open.
		assertLogits(await scores());
		assert.ok(!fs.existsSync(path.dirname(optimized)), 'the damaged graph was removed, to be written again');
		assert.match(logged.join('\n'), /optimised graph .* did not load/);
		assert.doesNotMatch(logged.join('\n'), /at later loads too/, 'a graph found damaged on disk may be damaged since it was written');

		logged = [];
		assertLogits(await scores());
		assert.ok(folded(optimized), 'written again at the next load');
		assert.deepEqual(fs.readdirSync(path.dirname(copy)).sort(), ['model.onnx', 'optimized', 'source.json']);
		assert.deepEqual(logged, []);
	});

	it('opens the original when another load removed the copy’s weights while this one could not optimise the graph', async () => {
		const copy = externalDataCopy(source(), cacheDir, EVERYTHING);
		// Another window opened its optimised graph and removed the copy's weights; this load's child was stopped.
		const child = program(`rm ${JSON.stringify(path.join(path.dirname(copy), 'model.onnx_data'))}\nkill -KILL $$`);
		assertLogits(await scores({ optimize: { execPath: child.execPath } }));
		assert.equal(child.starts(), 1);
		assert.match(logged.join('\n'), /could not be optimised ahead of the load/);
	});

	it('is not written again when the graph onnxruntime has just written does not load', async () => {
		// onnxruntime writes a graph it cannot open: here its real output, damaged after it exits.
		const child = program(`${JSON.stringify(process.execPath)} "$@" || exit $?\nfor last; do :; done\necho 'not a model' > "$last"`);
		assertLogits(await scores({ optimize: { execPath: child.execPath } }));
		assert.equal(child.starts(), 1);
		assert.match(logged.join('\n'), /optimised graph .* did not load \(.*\); loading the model as is, and at later loads too\./);
		const optimized = optimizedPath(externalDataCopy(source(), cacheDir, EVERYTHING));
		assert.ok(!fs.existsSync(path.dirname(optimized)));

		logged = [];
		assertLogits(await scores({ optimize: { execPath: child.execPath } }));
		assert.equal(child.starts(), 1, 'the second load started no child');
		assert.equal(logged.length, 1, logged.join('\n'));
		assert.match(at(logged, 0), /not optimised ahead of the load: that failed before/);
	});
});

describe('the optimising child’s environment', () => {
	it('is the scorer’s, less the settings that keep freed heap for the scorer’s arena', () => {
		const scorer = { PATH: '/usr/bin', HOME: '/home/someone', ELECTRON_RUN_AS_NODE: '1', ...SCORER_MALLOC_ENV };
		assert.deepEqual(optimizerEnv(scorer), {
			PATH: '/usr/bin',
			HOME: '/home/someone',
			ELECTRON_RUN_AS_NODE: '1',
			MALLOC_MMAP_THRESHOLD_: SCORER_MALLOC_ENV.MALLOC_MMAP_THRESHOLD_,
		});
		// Run from elsewhere (a test, the CLI's in-process scorer): what it had, plus Electron's switch.
		assert.deepEqual(optimizerEnv({ PATH: '/bin' }), { PATH: '/bin', ELECTRON_RUN_AS_NODE: '1' });
	});
});

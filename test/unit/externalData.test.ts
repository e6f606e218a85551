/**
 * The external-data copy of a single-file model (src/reward/externalData.ts): written once, scored
 * through the real scorer (transformers.js tokenizer, onnxruntime-node) to the same logits as the
 * original, replaced when the source changes, and never used when the source cannot be read as ONNX.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RewardPair } from '../../src/core/reward';
import { externalDataCopy } from '../../src/reward/externalData';
import { loadRewardModel } from '../../src/reward/scorer';
import { at } from '../fixtures/present';
import { tinyRewardLogit, writeTinyRewardModel } from '../fixtures/tinyRewardModel';

const PAIRS: RewardPair[] = [
	{ prompt: 'explain this function', response: 'this code is good and clear' },
	{ prompt: 'explain this function', response: 'this code is broken and wrong , very wrong' },
	{ prompt: 'explain', response: 'the function returns a' },
];
/** The tiny model's weights are small: move every one of them, and make a copy whatever the file's size. */
const EVERYTHING = { minFileBytes: 0, minTensorBytes: 0 };

describe('the external-data copy of a reward model', function () {
	this.timeout(60000);
	let tmp: string;
	let source: string;
	let cacheDir: string;

	beforeEach(() => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-external-'));
		source = path.join(writeTinyRewardModel(path.join(tmp, 'model')), 'onnx', 'model.onnx');
		cacheDir = path.join(tmp, 'cache');
	});
	afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

	/** Scores through the real scorer from a model folder whose ONNX file is `onnx` (and its data file). */
	async function scoresFrom(onnx: string): Promise<number[]> {
		const folder = path.join(tmp, `folder-${path.basename(path.dirname(onnx))}`);
		fs.cpSync(path.dirname(path.dirname(source)), folder, { recursive: true });
		for (const f of fs.readdirSync(path.dirname(onnx))) fs.copyFileSync(path.join(path.dirname(onnx), f), path.join(folder, 'onnx', f));
		const model = await loadRewardModel({
			model: folder,
			dtype: 'fp32',
			cacheDir: path.join(tmp, 'unused-cache'),
			allowRemote: false,
			threads: 1,
		});
		try {
			return await model.score(PAIRS);
		} finally {
			await model.dispose();
		}
	}

	it('moves the weights into model.onnx_data and scores exactly as the original', async () => {
		const copy = externalDataCopy(source, cacheDir, EVERYTHING);
		assert.notEqual(copy, source);
		const data = path.join(path.dirname(copy), 'model.onnx_data');
		assert.ok(fs.statSync(data).size > 0, 'the weights are in the data file');
		assert.ok(fs.readFileSync(copy).includes('model.onnx_data'), 'the graph points at the data file');

		const scores = await scoresFrom(copy);
		PAIRS.forEach((pair, i) => assert.ok(Math.abs(at(scores, i) - tinyRewardLogit(pair)) < 1e-6, `pair ${i}: ${at(scores, i)}`));
	});

	it('is written once, and written again (the old one removed) when the source changes', () => {
		const first = externalDataCopy(source, cacheDir, EVERYTHING);
		const written = fs.statSync(first).mtimeMs;
		assert.equal(externalDataCopy(source, cacheDir, EVERYTHING), first);
		assert.equal(fs.statSync(first).mtimeMs, written, 'the copy is reused, not rewritten');

		const later = new Date(Date.now() + 5000);
		fs.utimesSync(source, later, later);
		const second = externalDataCopy(source, cacheDir, EVERYTHING);
		assert.notEqual(second, first);
		assert.ok(!fs.existsSync(first), 'the copy of the old file is gone');
		assert.deepEqual(fs.readdirSync(path.join(cacheDir, '.external-data')), [path.basename(path.dirname(second))]);
	});

	it('leaves small models and models already in this layout as they are', () => {
		assert.equal(externalDataCopy(source, cacheDir), source, 'a tiny file is not worth a copy');
		const copy = externalDataCopy(source, cacheDir, EVERYTHING);
		assert.equal(externalDataCopy(copy, path.join(tmp, 'cache2'), EVERYTHING), copy, 'nothing left to move');
	});

	it('uses the original when it is not readable as ONNX, and leaves nothing behind', () => {
		const bytes = fs.readFileSync(source);
		for (const [name, damaged] of [
			['truncated', bytes.subarray(0, Math.floor(bytes.length * 0.6))],
			['garbled', Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), bytes])],
		] as const) {
			fs.writeFileSync(source, damaged);
			assert.equal(externalDataCopy(source, cacheDir, EVERYTHING), source, name);
			const left = fs.existsSync(path.join(cacheDir, '.external-data')) ? fs.readdirSync(path.join(cacheDir, '.external-data')) : [];
			assert.deepEqual(left, [], `${name}: no partial copy is left`);
		}
	});
});

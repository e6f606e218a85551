/**
 * The benchmark's model writers (bench/bertModel.ts, bench/debertaModel.ts) on tiny shapes: what they
 * write loads through the product's scorer and through transformers.js's own classes, in fp32 and as
 * the 8-bit file dtype q8 selects, and the 8-bit model holds the fp32 model's weights. Figure 5's
 * numbers are only as honest as these files.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import { ensureBertRewardModel, type BertShape } from '../../bench/bertModel';
import { ensureDebertaRewardModel, logBucket, type DebertaShape } from '../../bench/debertaModel';
import type { RewardPair } from '../../src/core/reward';
import { loadRewardModel } from '../../src/reward/scorer';
import { at } from '../fixtures/present';

const TINY_BERT: BertShape = { layers: 2, hidden: 64, heads: 4, intermediate: 128, vocab: 1000, positions: 128, initializerRange: 0.2 };
const TINY_DEBERTA: DebertaShape = {
	layers: 2,
	hidden: 64,
	heads: 4,
	intermediate: 128,
	vocab: 1100,
	pieces: 1000,
	positions: 128,
	buckets: 16,
	initializerRange: 0.2,
};

const PAIRS: RewardPair[] = [
	{ prompt: 'Rewrite this function.', response: 'The function returns the sum of the list.' },
	{ prompt: 'Rewrite this function.', response: 'It is broken, and the license says so.' },
	{ prompt: 'Explain the code.', response: 'Software is distributed under the terms of this license, without warranty. '.repeat(4) },
	{ prompt: 'Explain the code.', response: 'Hello.' },
	{ prompt: 'Rename the variable.', response: 'Copyright notice and permission notice shall be included in all copies.' },
	{ prompt: 'Rename the variable.', response: 'count' },
];

async function scores(dir: string, dtype: 'fp32' | 'q8', pairs = PAIRS): Promise<number[]> {
	const model = await loadRewardModel({ model: dir, dtype, cacheDir: path.join(dir, 'cache'), allowRemote: false, threads: 1 });
	try {
		return await model.score(pairs);
	} finally {
		await model.dispose();
	}
}

describe('bench model writers (tiny shapes)', function () {
	this.timeout(120_000);
	let root: string;
	let bert: string;
	let deberta: string;

	before(() => {
		root = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-bench-models-'));
		bert = ensureBertRewardModel(path.join(root, 'bert'), TINY_BERT);
		deberta = ensureDebertaRewardModel(path.join(root, 'deberta'), TINY_DEBERTA);
	});
	after(() => fs.rmSync(root, { recursive: true, force: true }));

	const dirOf = (family: 'bert' | 'deberta') => (family === 'bert' ? bert : deberta);

	for (const family of ['bert', 'deberta'] as const) {
		it(`${family}: dtype q8 loads an 8-bit onnx/model_quantized.onnx that scores close to fp32`, async () => {
			const dir = dirOf(family);
			const q8File = fs.readFileSync(path.join(dir, 'onnx', 'model_quantized.onnx')).toString('latin1');
			for (const op of ['DynamicQuantizeLinear', 'MatMulInteger', 'DequantizeLinear'])
				assert.ok(q8File.includes(op), `no ${op} in the 8-bit file`);
			const fp32 = await scores(dir, 'fp32');
			const q8 = await scores(dir, 'q8');
			// The same weights, quantized: each score moves by a small part of how far apart the pairs' scores are.
			const spread = Math.max(...fp32) - Math.min(...fp32);
			assert.ok(spread > 0.3, `the pairs' fp32 scores hardly differ (${fp32.join(', ')})`);
			const worst = Math.max(...fp32.map((v, i) => Math.abs(v - (q8[i] ?? NaN))));
			assert.ok(worst < 0.25 * spread, `8-bit scores ${q8.join(', ')} vs fp32 ${fp32.join(', ')}: ${worst} apart`);
		});

		it(`${family}: transformers.js's AutoModelForSequenceClassification loads both files and gives the scorer's logits`, async () => {
			const T = require('@huggingface/transformers') as typeof Transformers;
			const dir = dirOf(family);
			const pair = at(PAIRS, 0);
			const tokenizer = await T.AutoTokenizer.from_pretrained(dir, { local_files_only: true });
			for (const dtype of ['fp32', 'q8'] as const) {
				const model = await T.AutoModelForSequenceClassification.from_pretrained(dir, { local_files_only: true, dtype });
				try {
					const inputs = tokenizer(pair.prompt, { text_pair: pair.response });
					const { logits } = (await model(inputs)) as { logits: Transformers.Tensor };
					const theirs = at([...(logits.data as Float32Array)], 0, 'logit');
					const ours = at(await scores(dir, dtype, [pair]), 0, 'score');
					assert.ok(Math.abs(theirs - ours) < 1e-5, `${dtype}: transformers.js ${theirs}, the scorer ${ours}`);
				} finally {
					await model.dispose();
				}
			}
		});
	}

	it('deberta: a pair scores the same alone and in a padded batch (padding is masked out of the attention)', async () => {
		const model = await loadRewardModel(
			{ model: deberta, dtype: 'fp32', cacheDir: path.join(deberta, 'cache'), allowRemote: false, threads: 1 },
			undefined,
			// Batches that cost nothing more than one pair: every call is one padded batch.
			{ costs: { single: 1, gain: 1 } },
		);
		try {
			const batched = await model.score(PAIRS);
			const alone: number[] = [];
			for (const pair of PAIRS) alone.push(...(await model.score([pair])));
			batched.forEach((v, i) => assert.ok(Math.abs(v - at(alone, i)) < 1e-4, `pair ${i}: ${v} in the batch, ${at(alone, i)} alone`));
		} finally {
			await model.dispose();
		}
	});

	it("deberta: relative positions are log-bucketed as HF's make_log_bucket_position does (256 buckets, 512 positions)", () => {
		// Within ±128 exact; beyond, ceil(ln(|r| / 128) / ln(511 / 128) × 127) + 128, with r's sign.
		const cases: Array<[number, number]> = [
			[0, 0],
			[100, 100],
			[-128, -128],
			[129, 129],
			[200, 169],
			[300, 207],
			[-300, -207],
			[511, 255],
			[-511, -255],
		];
		for (const [relative, bucket] of cases) assert.equal(logBucket(relative, 256, 512), bucket, `relative position ${relative}`);
	});
});

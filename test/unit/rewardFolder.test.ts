/**
 * The reward-model folder check the picker runs before loading anything, on folders written by the
 * tiny-model fixture and broken on purpose; and its list of usable model types against transformers.js.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import { conversionCommand, RECOMMENDED_REWARD_MODELS, suggestedFolder } from '../../src/core/rewardModels';
import { checkRewardFolder, SEQUENCE_CLASSIFICATION_TYPES } from '../../src/reward/modelFolder';
import { writeTinyRewardModel } from '../fixtures/tinyRewardModel';
import { at } from '../fixtures/present';

describe('reward model folder check', () => {
	let root: string;
	beforeEach(() => {
		root = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-folder-'));
	});
	afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

	it('names only model types transformers.js can classify with, and none of the decoder LLMs', () => {
		const { AutoModelForSequenceClassification } = require('@huggingface/transformers') as typeof Transformers;
		for (const type of SEQUENCE_CLASSIFICATION_TYPES) assert.ok(AutoModelForSequenceClassification.supports(type), type);
		for (const type of ['llama', 'qwen2', 'qwen3', 'gemma2', 'mistral'])
			assert.ok(!AutoModelForSequenceClassification.supports(type), type);
	});

	it('passes a complete folder', () => {
		const dir = writeTinyRewardModel(path.join(root, 'ok'));
		assert.deepEqual(checkRewardFolder(dir, 'fp32'), { problems: [], onlyOnnxMissing: false });
	});

	it('names every missing piece at once', () => {
		const dir = writeTinyRewardModel(path.join(root, 'broken'), { withoutOnnx: true, modelType: 'llama' });
		fs.rmSync(path.join(dir, 'tokenizer.json'));
		const { problems, onlyOnnxMissing } = checkRewardFolder(dir, 'fp32');
		assert.equal(problems.length, 3, problems.join('\n'));
		assert.match(at(problems, 0), /model_type "llama", which transformers\.js cannot run as a classifier/);
		assert.equal(problems[1], 'tokenizer.json is missing');
		assert.equal(problems[2], 'onnx/model.onnx (the weights for dtype fp32) is missing');
		assert.equal(onlyOnnxMissing, false);
	});

	it('says which other dtype the folder has, and that only the ONNX file is missing', () => {
		const dir = writeTinyRewardModel(path.join(root, 'q8'), { onnxFiles: ['model_quantized.onnx'] });
		const { problems, onlyOnnxMissing } = checkRewardFolder(dir, 'fp32');
		assert.deepEqual(problems, [
			'onnx/model.onnx (the weights for dtype fp32) is missing; the folder has model_quantized.onnx, which another bestOfN.rewardDtype can load',
		]);
		assert.equal(onlyOnnxMissing, true);
		assert.deepEqual(checkRewardFolder(dir, 'q8').problems, []);
	});

	it('an empty folder misses config, tokenizer and weights; a missing folder is one problem', () => {
		fs.mkdirSync(path.join(root, 'empty'));
		assert.deepEqual(checkRewardFolder(path.join(root, 'empty'), 'fp32').problems, [
			'config.json is missing',
			'tokenizer.json is missing',
			'tokenizer_config.json is missing',
			'onnx/model.onnx (the weights for dtype fp32) is missing',
		]);
		assert.deepEqual(checkRewardFolder(path.join(root, 'nope'), 'fp32').problems, [`${path.join(root, 'nope')} is not a folder`]);
	});
});

describe('recommended reward models and their conversion', () => {
	it('gives the exact optimum-cli line, quoting only what a shell would split', () => {
		assert.equal(
			conversionCommand(
				'OpenAssistant/reward-model-deberta-v3-large-v2',
				suggestedFolder('OpenAssistant/reward-model-deberta-v3-large-v2'),
			),
			'optimum-cli export onnx --model OpenAssistant/reward-model-deberta-v3-large-v2 --task text-classification ~/models/reward-model-deberta-v3-large-v2',
		);
		assert.equal(
			conversionCommand('/home/me/My Models/rm', '~/my models/rm'),
			"optimum-cli export onnx --model '/home/me/My Models/rm' --task text-classification ~/'my models/rm'",
		);
	});

	it('says of the OpenAssistant models that they are weak on code and favour length', () => {
		for (const m of RECOMMENDED_REWARD_MODELS.filter(m => m.id.startsWith('OpenAssistant/'))) {
			assert.match(m.note, /code/);
			assert.match(m.note, /long|length/);
		}
	});
});

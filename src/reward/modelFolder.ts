/**
 * Checks a folder before it becomes the reward model, so a person hears everything that is missing
 * at once, in words they can act on, instead of the first thing transformers.js trips over. Reads
 * only the file system; loading it for real is the worker's job.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RewardDtype } from '../core/settings';
import { isDirectory, ONNX_FILE, onnxFilesIn } from './scorer';

/**
 * `model_type`s transformers.js 4.x maps to a sequence-classification class (its
 * MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES); a unit test checks this list against the library.
 */
export const SEQUENCE_CLASSIFICATION_TYPES: readonly string[] = [
	'albert',
	'bart',
	'bert',
	'camembert',
	'convbert',
	'deberta',
	'deberta-v2',
	'distilbert',
	'electra',
	'esm',
	'eurobert',
	'mbart',
	'mobilebert',
	'modernbert',
	'mpnet',
	'neobert',
	'roberta',
	'roformer',
	'squeezebert',
	'xlm',
	'xlm-roberta',
];

export interface FolderCheck {
	/** One sentence per missing or unusable piece; empty when the folder looks loadable. */
	readonly problems: string[];
	/** Whether the only trouble is the ONNX file (so converting, or another dtype, fixes it). */
	readonly onlyOnnxMissing: boolean;
}

export function checkRewardFolder(dir: string, dtype: RewardDtype): FolderCheck {
	if (!isDirectory(dir)) return { problems: [`${dir} is not a folder`], onlyOnnxMissing: false };
	const problems: string[] = [];
	let onnxProblem = false;
	const configPath = path.join(dir, 'config.json');
	if (!fs.existsSync(configPath)) {
		problems.push('config.json is missing');
	} else {
		let config: Record<string, unknown> | undefined;
		try {
			const parsed: unknown = JSON.parse(fs.readFileSync(configPath, 'utf8'));
			if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) config = parsed as Record<string, unknown>;
		} catch {
			// reported below
		}
		if (!config) {
			problems.push('config.json is not a JSON object');
		} else {
			const type = typeof config.model_type === 'string' ? config.model_type : undefined;
			const architectures = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
			if (!type) {
				problems.push('config.json names no model_type');
			} else if (!SEQUENCE_CLASSIFICATION_TYPES.includes(type)) {
				problems.push(
					`config.json says model_type "${type}", which transformers.js cannot run as a classifier (it can: BERT, DeBERTa, RoBERTa, ELECTRA, ModernBERT and similar encoders)`,
				);
			}
			if (architectures.length > 0 && !architectures.some(a => a.endsWith('ForSequenceClassification'))) {
				problems.push(
					`config.json's architectures (${architectures.join(', ')}) have no sequence-classification head, so it is not a reward model`,
				);
			}
		}
	}
	for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
		if (!fs.existsSync(path.join(dir, file))) problems.push(`${file} is missing`);
	}
	const onnx = ONNX_FILE[dtype];
	if (!fs.existsSync(path.join(dir, 'onnx', onnx)) && !fs.existsSync(path.join(dir, onnx))) {
		onnxProblem = true;
		const others = onnxFilesIn(dir);
		problems.push(
			`onnx/${onnx} (the weights for dtype ${dtype}) is missing` +
				(others.length ? `; the folder has ${others.join(', ')}, which another bestOfN.rewardDtype can load` : ''),
		);
	}
	return { problems, onlyOnnxMissing: onnxProblem && problems.length === 1 };
}

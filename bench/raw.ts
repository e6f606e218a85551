/**
 * The floor the pipeline is measured against: the same model and the same input tensors run by
 * onnxruntime-node directly on this thread, with nothing around it. The tokenizer and the pair
 * encoding are the extension's own (`encodePair`), so raw and ours score identical tensors.
 */
import * as path from 'node:path';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import * as Ort from 'onnxruntime-node';
import type { RewardPair } from '../src/core/reward';
import { effectiveMaxLength, encodePair, type PairInput } from '../src/reward/scorer';

export class RawScorer {
	private readonly singles = new Map<string, number>();
	private readonly batches = new Map<string, number>();

	private constructor(
		private readonly ort: typeof Ort,
		private readonly session: Ort.InferenceSession,
		private readonly tokenizer: Transformers.PreTrainedTokenizer,
		private readonly maxLength: number,
		/** How many times each figure is measured; the median is kept. */
		private readonly repeats: number,
	) {}

	/** `file`: which of the folder's ONNX files (onnx/model.onnx is fp32, onnx/model_quantized.onnx dtype q8). */
	static async create(modelDir: string, repeats: number, file = 'model.onnx'): Promise<RawScorer> {
		const T = require('@huggingface/transformers') as typeof Transformers;
		const ort = Ort;
		const tokenizer = await T.AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
		const config = (await T.AutoConfig.from_pretrained(modelDir, { local_files_only: true })) as unknown as Record<string, unknown>;
		const session = await ort.InferenceSession.create(path.join(modelDir, 'onnx', file));
		return new RawScorer(ort, session, tokenizer, effectiveMaxLength(tokenizer.model_max_length, config), repeats);
	}

	encode(pair: RewardPair): PairInput {
		return encodePair(this.tokenizer, pair, this.maxLength);
	}

	tokens(pair: RewardPair): number {
		return this.encode(pair).input_ids.length;
	}

	/** One forward pass over these inputs, right-padded as the extension pads them; milliseconds. */
	async time(inputs: readonly PairInput[]): Promise<number> {
		const width = Math.max(...inputs.map(i => i.input_ids.length));
		const shape = [inputs.length, width];
		const fill = (row: (i: PairInput) => readonly number[], pad: number) => {
			const data = new BigInt64Array(inputs.length * width).fill(BigInt(pad));
			inputs.forEach((input, r) => row(input).forEach((v, c) => (data[r * width + c] = BigInt(v))));
			return new this.ort.Tensor('int64', data, shape);
		};
		const all: Record<string, () => Ort.Tensor> = {
			input_ids: () => fill(i => i.input_ids, 0),
			attention_mask: () => fill(i => i.input_ids.map(() => 1), 0),
			token_type_ids: () => fill(i => i.token_type_ids ?? i.input_ids.map(() => 0), 0),
		};
		// Only what the graph takes (a DeBERTa-v3 export has no token_type_ids), as the scorer does.
		const feeds: Record<string, Ort.Tensor> = {};
		for (const name of this.session.inputNames) {
			const make = all[name];
			if (!make) throw new Error(`the model asks for an input "${name}", which a reward model does not have`);
			feeds[name] = make();
		}
		const t0 = performance.now();
		await this.session.run(feeds);
		return performance.now() - t0;
	}

	private async median(inputs: readonly PairInput[]): Promise<number> {
		const times: number[] = [];
		for (let r = 0; r < this.repeats; r++) times.push(await this.time(inputs));
		return median(times);
	}

	/** One pair alone (memoized by text). */
	async single(pair: RewardPair): Promise<number> {
		const key = JSON.stringify(pair);
		let ms = this.singles.get(key);
		if (ms === undefined) {
			ms = await this.median([this.encode(pair)]);
			this.singles.set(key, ms);
		}
		return ms;
	}

	/** These pairs as one batch (memoized by their texts). */
	async batch(pairs: readonly RewardPair[]): Promise<number> {
		const [only] = pairs;
		if (only && pairs.length === 1) return this.single(only);
		const key = JSON.stringify(pairs);
		let ms = this.batches.get(key);
		if (ms === undefined) {
			ms = await this.median(pairs.map(p => this.encode(p)));
			this.batches.set(key, ms);
		}
		return ms;
	}

	/** The least time this CPU needs to score these pairs: one by one or as one batch, whichever is less. */
	async least(pairs: readonly RewardPair[]): Promise<number> {
		if (pairs.length === 0) return 0;
		let oneByOne = 0;
		for (const p of pairs) oneByOne += await this.single(p);
		return Math.min(oneByOne, await this.batch(pairs));
	}

	async dispose(): Promise<void> {
		await this.session.release();
	}
}

export function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	const upper = sorted[mid];
	if (upper === undefined) throw new RangeError('the median of no values');
	return sorted.length % 2 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}

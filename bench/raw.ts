/**
 * The floor the pipeline is measured against: the same model and the same input tensors run by
 * onnxruntime-node directly, with nothing around it, in a process started the way the extension
 * starts its scorer (bench/rawChild.ts). The tokenizer and the pair encoding are the extension's own
 * (`encodePair`, here in the bench's process), so raw and ours score identical tensors.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import type { RewardPair } from '../src/core/reward';
import { effectiveMaxLength, encodePair, type PairInput } from '../src/reward/scorer';
import { SCORER_MALLOC_ENV } from '../src/reward/scorerProcess';
import type { RawChildReply, RawChildRequest } from './rawChild';

export class RawScorer {
	private readonly singles = new Map<string, number>();
	private readonly batches = new Map<string, number>();
	private lastId = 0;
	private readonly waiting = new Map<number, { resolve: (ms: number) => void; reject: (e: Error) => void }>();

	private constructor(
		private readonly child: ChildProcess,
		private readonly tokenizer: Transformers.PreTrainedTokenizer,
		private readonly maxLength: number,
		/** How many times each figure is measured; the median is kept. */
		private readonly repeats: number,
	) {
		child.on('message', (reply: RawChildReply) => {
			if (reply.type === 'ready' || reply.id === undefined) return;
			const waiter = this.waiting.get(reply.id);
			this.waiting.delete(reply.id);
			if (reply.type === 'timed') waiter?.resolve(reply.ms);
			else waiter?.reject(new Error(`raw onnxruntime-node: ${reply.message}`));
		});
		child.once('exit', code => {
			for (const waiter of this.waiting.values()) waiter.reject(new Error(`the raw scorer's process exited with ${code}`));
			this.waiting.clear();
		});
	}

	/**
	 * `file`: which of the folder's ONNX files (onnx/model.onnx is fp32, onnx/model_quantized.onnx dtype
	 * q8), or an absolute path to another graph of the same model (the optimised graph the scorer opens).
	 * `like`: a raw scorer of the same model whose tokenizer this one shares (DeBERTa-v3's takes ~200 MB
	 * and seconds to load).
	 */
	static async create(modelDir: string, repeats: number, file = 'model.onnx', like?: RawScorer): Promise<RawScorer> {
		let tokenizer: Transformers.PreTrainedTokenizer;
		let maxLength: number;
		if (like) {
			tokenizer = like.tokenizer;
			maxLength = like.maxLength;
		} else {
			const T = require('@huggingface/transformers') as typeof Transformers;
			tokenizer = await T.AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
			const config = (await T.AutoConfig.from_pretrained(modelDir, { local_files_only: true })) as unknown as Record<string, unknown>;
			maxLength = effectiveMaxLength(tokenizer.model_max_length, config);
		}
		const onnx = path.isAbsolute(file) ? file : path.join(modelDir, 'onnx', file);
		const child = fork(path.join(__dirname, 'rawChild.ts'), [onnx], {
			execArgv: ['--import', 'tsx'],
			env: { ...process.env, ...SCORER_MALLOC_ENV },
			stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
			serialization: 'advanced',
		});
		await new Promise<void>((resolve, reject) => {
			child.once('error', reject);
			child.once('exit', code => reject(new Error(`the raw scorer's process exited with ${code} before it was ready`)));
			child.on('message', (reply: RawChildReply) => {
				if (reply.type === 'ready') resolve();
				else if (reply.type === 'failed' && reply.id === undefined) reject(new Error(`raw onnxruntime-node: ${reply.message}`));
			});
		});
		return new RawScorer(child, tokenizer, maxLength, repeats);
	}

	encode(pair: RewardPair): PairInput {
		return encodePair(this.tokenizer, pair, this.maxLength);
	}

	tokens(pair: RewardPair): number {
		return this.encode(pair).input_ids.length;
	}

	/** One forward pass over these inputs, right-padded as the extension pads them; milliseconds of the pass alone. */
	time(inputs: readonly PairInput[]): Promise<number> {
		const id = ++this.lastId;
		return new Promise<number>((resolve, reject) => {
			this.waiting.set(id, { resolve, reject });
			this.child.send({ type: 'time', id, inputs } satisfies RawChildRequest);
		});
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

	/**
	 * The least of one by one and one batch, each the median of back-to-back passes taken just after
	 * the run: the floor figures 1 and 2 are measured against (`leastAfterPause` is beside it). For several
	 * pairs it is the smaller of two noisy values, so low by that noise; and a back-to-back pass runs
	 * on a process its previous pass left warm, which a scorer that waited for a candidate is not.
	 */
	async least(pairs: readonly RewardPair[]): Promise<number> {
		if (pairs.length === 0) return 0;
		let oneByOne = 0;
		for (const p of pairs) oneByOne += await this.single(p);
		return Math.min(oneByOne, await this.batch(pairs));
	}

	/**
	 * The least time this CPU needs to score these pairs, as a scorer meets them: after `idleMs`
	 * without work (what ours had waited since its previous score). A pass after a pause is slower
	 * than one right after another (measured on this machine: raw onnxruntime-node 2.5–6% slower on
	 * a 483-token pair after 1.5–2 s idle; the 4–12 ms such a process usually takes to wake to a message is
	 * outside raw's clock), so a floor from warm passes alone is biased low against ours. One pair has one way to be scored; for
	 * several, the way (one by one or one batch) is chosen on the back-to-back medians and then timed
	 * in fresh passes, so the choice's noise does not lower the time.
	 */
	async leastAfterPause(pairs: readonly RewardPair[], idleMs: number): Promise<number> {
		if (pairs.length === 0) return 0;
		let batched = false;
		if (pairs.length > 1) {
			let oneByOne = 0;
			for (const p of pairs) oneByOne += await this.single(p);
			batched = (await this.batch(pairs)) < oneByOne;
		}
		const calls = batched ? [pairs.map(p => this.encode(p))] : pairs.map(p => [this.encode(p)]);
		// The pass before the pause (untimed), as the scorer's previous score was; then the pause.
		await this.time(calls[0]!);
		if (idleMs > 0) await new Promise(resolve => setTimeout(resolve, idleMs));
		let ms = 0;
		for (const inputs of calls) ms += await this.time(inputs);
		return ms;
	}

	async dispose(): Promise<void> {
		if (this.child.exitCode !== null || this.child.signalCode !== null) return;
		const exited = new Promise<void>(resolve => this.child.once('exit', () => resolve()));
		this.child.disconnect();
		await exited;
	}
}

export function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	const upper = sorted[mid];
	if (upper === undefined) throw new RangeError('the median of no values');
	return sorted.length % 2 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}

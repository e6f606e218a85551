/**
 * Writes a DeBERTa-v3-base-shaped reward model (DebertaV2ForSequenceClassification with one logit)
 * with random weights, for the benchmarks, in fp32 and 8-bit like bench/bertModel.ts. Speed depends
 * on the operators and the shapes, not on the weights, so the graph computes what HF's
 * modeling_deberta_v2 computes, as an ONNX export of it does:
 *
 * - embeddings: words only (no absolute positions, no token types: `position_biased_input` false,
 *   `type_vocab_size` 0), LayerNorm, times the attention mask;
 * - a relative-position table of 2 × 256 buckets shared by all layers (`share_att_key`), LayerNorm'd
 *   once (`norm_rel_ebd`), and projected in every layer by that layer's own key and query weights;
 * - disentangled attention: content→content Q·Kᵀ, content→position Q·Kᵣᵀ and position→content K·Qᵣᵀ,
 *   the last two gathered (GatherElements) by each token pair's log-bucketed relative position
 *   (`make_log_bucket_position`, 256 buckets up to 512 positions; precomputed here for 512 × 512 and
 *   sliced to the sequence), summed, scaled by 1/√(3·head size), masked softmax, times V;
 * - feed-forward with erf GELU, LayerNorm ε 1e-7; the context pooler (first token, dense, GELU) and a
 *   one-logit classifier.
 *
 * The tokenizer is a SentencePiece-style Unigram model (Metaspace "▁" pieces, DeBERTa-v3's specials
 * [PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3, [MASK] 128000 and its pair template) of 128 000 pieces: words of
 * English text on this machine, their endings, characters, then pseudo-words. Inputs are input_ids
 * and attention_mask, as the export of a model without token types has. Never committed.
 *
 * CLI: `npx tsx bench/debertaModel.ts OUTDIR [--layers N]`.
 */
import * as path from 'node:path';
import { attrInt, attrInts, DataType, valueInfo } from '../test/fixtures/onnxProto';
import { specialTokens } from '../test/fixtures/tokenizerJson';
import { corpusWordCounts } from './bertModel';
import { ensureModelFolder, GraphBuilder, mulberry32, writeJson, writerMain, type Precision } from './onnxGraph';

export interface DebertaShape {
	readonly layers: number;
	readonly hidden: number;
	readonly heads: number;
	readonly intermediate: number;
	/** Rows of the word embedding (the config's vocab_size); the tokenizer has `pieces` of them. */
	readonly vocab: number;
	readonly pieces: number;
	readonly positions: number;
	/** The weights' standard deviation, HF's `initializer_range` (default 0.02). */
	readonly initializerRange?: number;
	/** Relative-position buckets each side (`position_buckets`). */
	readonly buckets: number;
}

export const DEBERTA_V3_BASE: DebertaShape = {
	layers: 12,
	hidden: 768,
	heads: 12,
	intermediate: 3072,
	vocab: 128100,
	pieces: 128000,
	positions: 512,
	buckets: 256,
};

const EPS = 1e-7;

export function ensureDebertaRewardModel(dir: string, shape: DebertaShape = DEBERTA_V3_BASE): string {
	return ensureModelFolder(
		dir,
		shape,
		() => writeFolder(dir, shape),
		(file, precision) => writeModel(file, shape, precision),
	);
}

function writeFolder(dir: string, s: DebertaShape): void {
	writeJson(path.join(dir, 'config.json'), {
		model_type: 'deberta-v2',
		architectures: ['DebertaV2ForSequenceClassification'],
		num_labels: 1,
		id2label: { 0: 'LABEL_0' },
		label2id: { LABEL_0: 0 },
		vocab_size: s.vocab,
		hidden_size: s.hidden,
		num_hidden_layers: s.layers,
		num_attention_heads: s.heads,
		intermediate_size: s.intermediate,
		hidden_act: 'gelu',
		max_position_embeddings: s.positions,
		type_vocab_size: 0,
		relative_attention: true,
		max_relative_positions: -1,
		position_buckets: s.buckets,
		norm_rel_ebd: 'layer_norm',
		share_att_key: true,
		pos_att_type: ['p2c', 'c2p'],
		position_biased_input: false,
		layer_norm_eps: EPS,
		pooler_hidden_size: s.hidden,
		pooler_hidden_act: 'gelu',
		pooler_dropout: 0,
		pad_token_id: 0,
		problem_type: 'regression',
	});
	writeJson(path.join(dir, 'tokenizer.json'), tokenizerJson(s));
	writeJson(path.join(dir, 'tokenizer_config.json'), {
		tokenizer_class: 'DebertaV2Tokenizer',
		do_lower_case: false,
		split_by_punct: false,
		vocab_type: 'spm',
		model_max_length: s.positions,
		bos_token: '[CLS]',
		eos_token: '[SEP]',
		cls_token: '[CLS]',
		sep_token: '[SEP]',
		pad_token: '[PAD]',
		unk_token: '[UNK]',
		mask_token: '[MASK]',
	});
}

// ---- Tokenizer ---------------------------------------------------------------------------------

const SPECIALS: ReadonlyArray<readonly [string, number]> = [
	['[PAD]', 0],
	['[CLS]', 1],
	['[SEP]', 2],
	['[UNK]', 3],
];

/** Unigram pieces with log-probability scores: specials, characters, word endings, words, pseudo-words. */
function pieces(size: number): Array<[string, number]> {
	const counts = corpusWordCounts(false);
	const total = [...counts.values()].reduce((a, b) => a + b, 0) || 1;
	const vocab: Array<[string, number]> = SPECIALS.map(([t]) => [t, 0]);
	const seen = new Set(vocab.map(([t]) => t));
	const add = (t: string, count: number) => {
		if (vocab.length < size && !seen.has(t)) {
			seen.add(t);
			vocab.push([t, Math.log(Math.max(count, 0.01) / total)]);
		}
	};
	add('▁', total / 10);
	const chars = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
	for (const c of chars) add(c, 1);
	for (const c of chars) add(`▁${c}`, 2);
	const suffixes = new Map<string, number>();
	for (const [w, n] of counts)
		for (let k = 2; k < 6; k++) if (w.length > k + 1) suffixes.set(w.slice(-k), (suffixes.get(w.slice(-k)) ?? 0) + n);
	const byCount = (a: [string, number], b: [string, number]) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1);
	[...suffixes]
		.sort(byCount)
		.slice(0, 8000)
		.forEach(([t, n]) => add(t, n));
	[...counts].sort(byCount).forEach(([w, n]) => add(`▁${w}`, n));
	const next = mulberry32(1);
	while (vocab.length < size)
		add(
			`▁${Array.from({ length: 4 + Math.floor(next() * 6) }, () => String.fromCharCode(97 + Math.floor(next() * 26))).join('')}`,
			0.5,
		);
	return vocab;
}

function tokenizerJson(s: DebertaShape): unknown {
	const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
	const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
	// [MASK] follows the pieces (128000 in DeBERTa-v3); the embedding has rows to spare beyond it.
	const added = [...SPECIALS, ['[MASK]', s.pieces] as const];
	return {
		version: '1.0',
		truncation: null,
		padding: null,
		added_tokens: specialTokens(added),
		// What transformers' DebertaV2Converter writes, with NFKC for SentencePiece's precompiled nmt_nfkc map.
		normalizer: {
			type: 'Sequence',
			normalizers: [
				{ type: 'Strip', strip_left: true, strip_right: true },
				{ type: 'NFKC' },
				{ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
			],
		},
		pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
		post_processor: {
			type: 'TemplateProcessing',
			single: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0)],
			pair: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0), sequence('B', 1), special('[SEP]', 1)],
			special_tokens: {
				'[CLS]': { id: '[CLS]', ids: [1], tokens: ['[CLS]'] },
				'[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] },
			},
		},
		decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
		model: { type: 'Unigram', unk_id: 3, byte_fallback: false, vocab: pieces(s.pieces) },
	};
}

// ---- Relative positions ------------------------------------------------------------------------

/** HF's make_log_bucket_position: exact within ±buckets/2, log-spaced beyond, up to maxPosition. */
export function logBucket(relative: number, buckets: number, maxPosition: number): number {
	const mid = Math.floor(buckets / 2);
	const abs = relative < mid && relative > -mid ? mid - 1 : Math.abs(relative);
	if (abs <= mid) return relative;
	const logPos = Math.ceil((Math.log(abs / mid) / Math.log((maxPosition - 1) / mid)) * (mid - 1)) + mid;
	return logPos * Math.sign(relative);
}

/**
 * The indices c2p and p2c attention gather by, for every (row, column) of a `positions`-long input:
 * c2p[i][j] = clamp(bucket(i − j) + span), p2c[i][j] = clamp(−bucket(i − j) + span), span = buckets.
 */
export function relativeIndices(s: DebertaShape): { c2p: number[]; p2c: number[] } {
	const P = s.positions;
	const span = s.buckets;
	const clamp = (v: number) => Math.max(0, Math.min(2 * span - 1, v));
	const c2p: number[] = new Array<number>(P * P);
	const p2c: number[] = new Array<number>(P * P);
	for (let i = 0; i < P; i++) {
		for (let j = 0; j < P; j++) {
			const r = logBucket(i - j, s.buckets, P);
			c2p[i * P + j] = clamp(r + span);
			p2c[i * P + j] = clamp(-r + span);
		}
	}
	return { c2p, p2c };
}

// ---- The graph ---------------------------------------------------------------------------------

function writeModel(file: string, s: DebertaShape, precision: Precision): void {
	const { FLOAT, INT64 } = DataType;
	const g = new GraphBuilder(precision, s.initializerRange);
	const D = s.hidden;
	const H = s.heads;
	const dh = D / H;
	const span2 = 2 * s.buckets;
	const n = g.n.bind(g);

	g.i64('zero_i', [0]);
	g.i64('one_i', [1]);
	g.i64('two_i', [2]);
	g.i64('heads_n', [H]);
	g.i64('axes01', [0, 1]);
	g.i64('zeros2', [0, 0]);
	g.i64('axis2', [2]);
	g.i64('axes12', [1, 2]);
	g.i64('axes13', [1, 3]);
	g.i64('heads_shape', [0, 0, H, dh]);
	g.i64('rel_heads_shape', [1, span2, H, dh]);
	g.i64('hidden_shape', [0, 0, D]);
	g.i64('cls_index', [0], []);
	const one = g.constant('one_f', 1);
	const maskMin = g.constant('mask_min', -3.4028234663852886e38);
	const scale = g.constant('scale', Math.sqrt(dh * 3));
	const { c2p, p2c } = relativeIndices(s);
	g.i64('rel.c2p_index', c2p, [s.positions, s.positions]);
	g.i64('rel.p2c_index', p2c, [s.positions, s.positions]);

	// Sizes from the input: batch, sequence; the index tables cut to [seq, seq] and spread over [batch, heads, seq, seq].
	const shape = n('Shape', ['input_ids'], 'ids.shape');
	const batch = n('Slice', [shape, 'zero_i', 'one_i'], 'ids.batch');
	const seq = n('Slice', [shape, 'one_i', 'two_i'], 'ids.seq');
	const square = n('Concat', [seq, seq], 'ids.square', [attrInt('axis', 0)]);
	const full = n('Concat', [batch, 'heads_n', seq, seq], 'ids.attention_shape', [attrInt('axis', 0)]);
	const indexOf = (name: string) =>
		n('Expand', [n('Slice', [name, 'zeros2', square, 'axes01'], `${name}.cut`), full], `${name}.expanded`);
	const c2pIndex = indexOf('rel.c2p_index');
	const p2cIndex = indexOf('rel.p2c_index');

	// Embeddings: words, LayerNorm, zeroed where padded.
	const maskF = n('Cast', ['attention_mask'], 'mask.f', [attrInt('to', FLOAT)]);
	const words = g.embedding('embeddings.word', s.vocab, D, 'input_ids');
	let x = n('Mul', [g.layerNorm('embeddings.norm', words, D, EPS), n('Unsqueeze', [maskF, 'axis2'], 'mask.3d')], 'embeddings.out');

	// The pairwise mask [batch, 1, seq, seq] (query and key both attended) and its additive form.
	const pairMask = n(
		'Mul',
		[n('Unsqueeze', [maskF, 'axes12'], 'mask.keys'), n('Unsqueeze', [maskF, 'axes13'], 'mask.queries')],
		'mask.pairs',
	);
	const maskBias = n('Mul', [n('Sub', [one, pairMask], 'mask.inv'), maskMin], 'mask.bias');

	// The relative embeddings, LayerNorm'd once for all layers.
	g.f32('encoder.rel_embeddings', g.random(span2 * D), [span2, D]);
	const rel = g.layerNorm('encoder.rel_norm', 'encoder.rel_embeddings', D, EPS);

	for (let l = 0; l < s.layers; l++) {
		const p = `layer${l}`;
		const split = (t: string) => n('Reshape', [t, 'heads_shape'], `${t}.heads`);
		const perm = (t: string, order: number[], name: string) => n('Transpose', [t], name, [attrInts('perm', order)]);
		const qh = split(g.linear(`${p}.query`, x, D, D));
		const kh = split(g.linear(`${p}.key`, x, D, D));
		const q = perm(qh, [0, 2, 1, 3], `${p}.q`);
		const k = perm(kh, [0, 2, 1, 3], `${p}.k`);
		const kT = perm(kh, [0, 2, 3, 1], `${p}.kT`);
		const v = perm(split(g.linear(`${p}.value`, x, D, D)), [0, 2, 1, 3], `${p}.v`);
		// Positions through this layer's key and query weights: [1, heads, head size, 2 × buckets].
		const relHeads = (t: string) => perm(n('Reshape', [t, 'rel_heads_shape'], `${t}.heads`), [0, 2, 3, 1], `${t}.t`);
		const posKey = relHeads(g.linear(`${p}.key`, rel, D, D, '.rel'));
		const posQuery = relHeads(g.linear(`${p}.query`, rel, D, D, '.rel'));

		const c2c = n('MatMul', [q, kT], `${p}.c2c`);
		const c2pAll = n('MatMul', [q, posKey], `${p}.c2p.all`);
		const c2pAt = n('GatherElements', [c2pAll, c2pIndex], `${p}.c2p`, [attrInt('axis', 3)]);
		const p2cAll = n('MatMul', [k, posQuery], `${p}.p2c.all`);
		const p2cAt = perm(n('GatherElements', [p2cAll, p2cIndex], `${p}.p2c.gathered`, [attrInt('axis', 3)]), [0, 1, 3, 2], `${p}.p2c`);
		const summed = n('Add', [n('Add', [c2c, c2pAt], `${p}.c2c_c2p`), p2cAt], `${p}.scores`);
		const masked = n('Add', [n('Div', [summed, scale], `${p}.scaled`), maskBias], `${p}.masked`);
		// XSoftmax: padded keys get nothing, padded queries attend to nothing.
		const probs = n('Mul', [n('Softmax', [masked], `${p}.softmax`, [attrInt('axis', -1)]), pairMask], `${p}.probs`);
		const context = perm(n('MatMul', [probs, v], `${p}.ctx`), [0, 2, 1, 3], `${p}.ctx.t`);
		const merged = n('Reshape', [context, 'hidden_shape'], `${p}.ctx.merged`);
		const attended = n('Add', [x, g.linear(`${p}.attention.output`, merged, D, D)], `${p}.attention.residual`);
		x = g.layerNorm(`${p}.attention.norm`, attended, D, EPS);
		const gelu = g.gelu(`${p}.gelu`, g.linear(`${p}.intermediate`, x, D, s.intermediate));
		x = g.layerNorm(
			`${p}.output.norm`,
			n('Add', [x, g.linear(`${p}.output`, gelu, s.intermediate, D)], `${p}.output.residual`),
			D,
			EPS,
		);
	}

	const cls = n('Gather', [x, 'cls_index'], 'pooler.cls', [attrInt('axis', 1)]);
	const pooled = g.gelu('pooler.gelu', g.linear('pooler', cls, D, D));
	n('Identity', [g.linear('classifier', pooled, D, 1)], 'logits');

	const inputs = ['input_ids', 'attention_mask'].map(name => valueInfo(name, INT64, ['batch', 'sequence']));
	g.write(file, 'deberta_v2_reward', inputs, [valueInfo('logits', FLOAT, ['batch', 1])]);
}

if (require.main === module) writerMain('debertaModel.ts', DEBERTA_V3_BASE, ensureDebertaRewardModel);

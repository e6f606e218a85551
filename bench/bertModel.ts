/**
 * Writes a BERT-base-shaped reward model (BertForSequenceClassification with one logit) with random
 * weights, for the benchmarks: what matters for speed and memory is the shape (12 layers, hidden 768,
 * 12 heads, feed-forward 3072, a ~30k WordPiece vocabulary, 512 positions), not what the weights know.
 * The graph is the one a PyTorch export of BERT makes (embeddings, LayerNormalization, per-head
 * attention with MatMul/Softmax, erf GELU, pooler tanh, classifier), written with the fixtures'
 * protobuf encoder, so no Python or torch is needed (`../shared/reference/bench-reward-model/make_bert_rm.py`
 * is the Python sketch of the same shape). Deterministic; never committed (bench/.models/ is ignored).
 *
 * CLI: `npx tsx bench/bertModel.ts OUTDIR [--layers N]`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attrInt, attrInts, DataType, valueInfo } from '../test/fixtures/onnxProto';
import { ensureModelFolder, GraphBuilder, mulberry32, writeJson, writerMain, type Precision } from './onnxGraph';
import { BERT_SPECIALS, bertTokenizerJson } from '../test/fixtures/tokenizerJson';

export interface BertShape {
	readonly layers: number;
	readonly hidden: number;
	readonly heads: number;
	readonly intermediate: number;
	readonly vocab: number;
	readonly positions: number;
	/** The weights' standard deviation, HF's `initializer_range` (default 0.02). */
	readonly initializerRange?: number;
}

export const BERT_BASE: BertShape = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, vocab: 30522, positions: 512 };

/**
 * Writes the model, in fp32 (onnx/model.onnx) and 8-bit (onnx/model_quantized.onnx, what dtype q8
 * loads), unless the folder already holds them for this shape; returns the folder.
 */
export function ensureBertRewardModel(dir: string, shape: BertShape = BERT_BASE): string {
	return ensureModelFolder(
		dir,
		shape,
		() => writeFolder(dir, shape),
		(file, precision) => writeModel(file, shape, precision),
	);
}

function writeFolder(dir: string, shape: BertShape): void {
	const vocab = buildVocabulary(shape.vocab);
	writeJson(path.join(dir, 'config.json'), {
		model_type: 'bert',
		architectures: ['BertForSequenceClassification'],
		num_labels: 1,
		id2label: { 0: 'LABEL_0' },
		label2id: { LABEL_0: 0 },
		vocab_size: shape.vocab,
		hidden_size: shape.hidden,
		num_hidden_layers: shape.layers,
		num_attention_heads: shape.heads,
		intermediate_size: shape.intermediate,
		hidden_act: 'gelu',
		max_position_embeddings: shape.positions,
		type_vocab_size: 2,
		layer_norm_eps: 1e-12,
		pad_token_id: 0,
		problem_type: 'regression',
	});
	writeJson(path.join(dir, 'tokenizer.json'), bertTokenizerJson(vocab));
	writeJson(path.join(dir, 'tokenizer_config.json'), {
		tokenizer_class: 'BertTokenizer',
		do_lower_case: true,
		model_max_length: shape.positions,
		cls_token: '[CLS]',
		sep_token: '[SEP]',
		pad_token: '[PAD]',
		unk_token: '[UNK]',
		mask_token: '[MASK]',
	});
}

// ---- Vocabulary --------------------------------------------------------------------------------

/**
 * Like the Python sketch: specials, characters and their continuations, frequent word endings as
 * continuation pieces, then whole words by frequency from English text on this machine (licenses,
 * package READMEs), then pseudo-words until the vocabulary is full.
 */
function buildVocabulary(size: number): string[] {
	const counts = corpusWordCounts(true);
	const vocab = [...BERT_SPECIALS, ...Array.from({ length: 95 }, (_, i) => `[unused${i}]`)];
	const seen = new Set(vocab);
	const add = (t: string) => {
		if (vocab.length < size && !seen.has(t)) {
			seen.add(t);
			vocab.push(t);
		}
	};
	const chars = [...'abcdefghijklmnopqrstuvwxyz0123456789', ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
	chars.forEach(add);
	chars.slice(0, 36).forEach(c => add(`##${c}`));
	const suffixes = new Map<string, number>();
	for (const [w, n] of counts)
		for (let k = 2; k < 6; k++) if (w.length > k + 1) suffixes.set(w.slice(-k), (suffixes.get(w.slice(-k)) ?? 0) + n);
	[...suffixes]
		.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
		.slice(0, 4000)
		.forEach(([s]) => add(`##${s}`));
	[...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).forEach(([w]) => add(w));
	const next = mulberry32(0);
	while (vocab.length < size)
		add(Array.from({ length: 4 + Math.floor(next() * 6) }, () => String.fromCharCode(97 + Math.floor(next() * 26))).join(''));
	return vocab;
}

/** How often each word (letters only, up to 18) occurs in English text on this machine. */
export function corpusWordCounts(lowercase: boolean): Map<string, number> {
	const counts = new Map<string, number>();
	for (const file of corpusFiles()) {
		let text: string;
		try {
			text = fs.readFileSync(file, 'utf8');
		} catch {
			continue;
		}
		if (lowercase) text = text.toLowerCase();
		for (const w of text.match(/[A-Za-z]+/g) ?? []) if (w.length <= 18) counts.set(w, (counts.get(w) ?? 0) + 1);
	}
	return counts;
}

function corpusFiles(): string[] {
	const files: string[] = [];
	const licenses = '/usr/share/common-licenses';
	if (fs.existsSync(licenses)) for (const f of fs.readdirSync(licenses).sort()) files.push(path.join(licenses, f));
	const modules = path.join(__dirname, '..', 'node_modules');
	if (fs.existsSync(modules)) {
		const mds = (fs.readdirSync(modules, { recursive: true }) as string[]).filter(f => f.endsWith('.md')).sort();
		files.push(...mds.slice(0, 4000).map(f => path.join(modules, f)));
	}
	return files.filter(f => fs.statSync(f, { throwIfNoEntry: false })?.isFile());
}

// ---- The graph ---------------------------------------------------------------------------------

function writeModel(file: string, s: BertShape, precision: Precision): void {
	const { FLOAT, INT64 } = DataType;
	const g = new GraphBuilder(precision, s.initializerRange);
	const D = s.hidden;
	const n = g.n.bind(g);

	g.i64('one_i', [1]);
	g.i64('two_i', [2]);
	g.i64('zero_i', [0]);
	g.i64('axes12', [1, 2]);
	g.i64('heads_shape', [0, 0, s.heads, D / s.heads]);
	g.i64('hidden_shape', [0, 0, D]);
	g.i64('cls_index', [0], []);
	const one = g.constant('one_f', 1);
	const maskMin = g.constant('mask_min', -3.4028234663852886e38);
	const sqrtDh = g.constant('sqrt_dh', Math.sqrt(D / s.heads));

	// Embeddings: words + positions (0..seq-1) + token types, then LayerNorm.
	const words = g.embedding('embeddings.word', s.vocab, D, 'input_ids');
	g.f32('embeddings.position', g.random(s.positions * D), [s.positions, D]);
	const types = g.embedding('embeddings.type', 2, D, 'token_type_ids');
	const seq = n('Slice', [n('Shape', ['input_ids'], 'ids.shape'), 'one_i', 'two_i'], 'ids.seq');
	const positions = n('Slice', ['embeddings.position', 'zero_i', seq, 'zero_i'], 'emb.positions');
	const summed = n('Add', [n('Add', [words, positions], 'emb.wp'), types], 'emb.sum');
	let x = g.layerNorm('embeddings.norm', summed, D, 1e-12);

	// The additive mask [batch, 1, 1, seq]: 0 where attended, the float minimum where padded.
	const maskF = n('Cast', ['attention_mask'], 'mask.f', [attrInt('to', FLOAT)]);
	const mask4 = n('Unsqueeze', [maskF, 'axes12'], 'mask.4d');
	const maskBias = n('Mul', [n('Sub', [one, mask4], 'mask.inv'), maskMin], 'mask.bias');

	for (let l = 0; l < s.layers; l++) {
		const p = `layer${l}`;
		const headsOf = (t: string, perm: number[]) =>
			n('Transpose', [n('Reshape', [t, 'heads_shape'], `${t}.heads`)], `${t}.t`, [attrInts('perm', perm)]);
		const q = headsOf(g.linear(`${p}.query`, x, D, D), [0, 2, 1, 3]);
		const k = headsOf(g.linear(`${p}.key`, x, D, D), [0, 2, 3, 1]);
		const v = headsOf(g.linear(`${p}.value`, x, D, D), [0, 2, 1, 3]);
		const scores = n('Add', [n('Div', [n('MatMul', [q, k], `${p}.qk`), sqrtDh], `${p}.scaled`), maskBias], `${p}.masked`);
		const probs = n('Softmax', [scores], `${p}.probs`, [attrInt('axis', -1)]);
		const context = n('Transpose', [n('MatMul', [probs, v], `${p}.ctx`)], `${p}.ctx.t`, [attrInts('perm', [0, 2, 1, 3])]);
		const merged = n('Reshape', [context, 'hidden_shape'], `${p}.ctx.merged`);
		const attended = n('Add', [x, g.linear(`${p}.attention.output`, merged, D, D)], `${p}.attention.residual`);
		x = g.layerNorm(`${p}.attention.norm`, attended, D, 1e-12);
		const gelu = g.gelu(`${p}.gelu`, g.linear(`${p}.intermediate`, x, D, s.intermediate));
		x = g.layerNorm(
			`${p}.output.norm`,
			n('Add', [x, g.linear(`${p}.output`, gelu, s.intermediate, D)], `${p}.output.residual`),
			D,
			1e-12,
		);
	}

	const cls = n('Gather', [x, 'cls_index'], 'pooler.cls', [attrInt('axis', 1)]);
	const pooled = n('Tanh', [g.linear('pooler', cls, D, D)], 'pooler.tanh');
	n('Identity', [g.linear('classifier', pooled, D, 1)], 'logits');

	const inputs = ['input_ids', 'attention_mask', 'token_type_ids'].map(name => valueInfo(name, INT64, ['batch', 'sequence']));
	g.write(file, 'bert_reward', inputs, [valueInfo('logits', FLOAT, ['batch', 1])]);
}

if (require.main === module) writerMain('bertModel.ts', BERT_BASE, ensureBertRewardModel);

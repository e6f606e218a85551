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
import { attrFloat, attrInt, attrInts, DataType, f32, i64, node, str, sub, tensor, valueInfo, vint } from '../test/fixtures/onnxProto';

export interface BertShape {
	readonly layers: number;
	readonly hidden: number;
	readonly heads: number;
	readonly intermediate: number;
	readonly vocab: number;
	readonly positions: number;
}

export const BERT_BASE: BertShape = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, vocab: 30522, positions: 512 };

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** Writes the model unless the folder already holds one of this shape; returns the folder. */
export function ensureBertRewardModel(dir: string, shape: BertShape = BERT_BASE): string {
	const stamp = path.join(dir, 'shape.json');
	const wanted = JSON.stringify(shape);
	if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted && fs.existsSync(path.join(dir, 'onnx', 'model.onnx')))
		return dir;
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
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
	writeJson(path.join(dir, 'tokenizer.json'), tokenizerJson(vocab));
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
	writeModel(path.join(dir, 'onnx', 'model.onnx'), shape);
	fs.writeFileSync(stamp, wanted);
	return dir;
}

function writeJson(file: string, value: unknown): void {
	fs.writeFileSync(file, JSON.stringify(value));
}

// ---- Vocabulary --------------------------------------------------------------------------------

/**
 * Like the Python sketch: specials, characters and their continuations, frequent word endings as
 * continuation pieces, then whole words by frequency from English text on this machine (licenses,
 * package READMEs), then pseudo-words until the vocabulary is full.
 */
function buildVocabulary(size: number): string[] {
	const counts = new Map<string, number>();
	for (const file of corpusFiles()) {
		let text: string;
		try {
			text = fs.readFileSync(file, 'utf8').toLowerCase();
		} catch {
			continue;
		}
		for (const w of text.match(/[a-z]+/g) ?? []) if (w.length <= 18) counts.set(w, (counts.get(w) ?? 0) + 1);
	}
	const vocab = [...SPECIALS, ...Array.from({ length: 95 }, (_, i) => `[unused${i}]`)];
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

function tokenizerJson(vocab: readonly string[]): unknown {
	const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
	const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
	return {
		version: '1.0',
		truncation: null,
		padding: null,
		added_tokens: SPECIALS.map((content, id) => ({
			id,
			content,
			single_word: false,
			lstrip: false,
			rstrip: false,
			normalized: false,
			special: true,
		})),
		normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
		pre_tokenizer: { type: 'BertPreTokenizer' },
		post_processor: {
			type: 'TemplateProcessing',
			single: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0)],
			pair: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0), sequence('B', 1), special('[SEP]', 1)],
			special_tokens: {
				'[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
				'[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
			},
		},
		decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
		model: {
			type: 'WordPiece',
			unk_token: '[UNK]',
			continuing_subword_prefix: '##',
			max_input_chars_per_word: 100,
			vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
		},
	};
}

// ---- The graph ---------------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** BERT's initialization: weights N(0, 0.02) (here a sum of uniforms, close enough), biases 0, LayerNorm 1/0. */
class Weights {
	private readonly next = mulberry32(42);
	normal(count: number): Uint8Array {
		const values = new Float32Array(count);
		// Irwin–Hall with 4 uniforms: mean 2, variance 1/3.
		const scale = 0.02 * Math.sqrt(3);
		for (let i = 0; i < count; i++) values[i] = (this.next() + this.next() + this.next() + this.next() - 2) * scale;
		return new Uint8Array(values.buffer);
	}
}

function writeModel(file: string, s: BertShape): void {
	const { FLOAT, INT64 } = DataType;
	const w = new Weights();
	const D = s.hidden;
	const nodes: Uint8Array[] = [];
	const inits: Uint8Array[] = [];
	const init = (name: string, dims: number[], raw: Uint8Array) => inits.push(tensor(name, FLOAT, dims, raw));
	const filled = (count: number, value: number) => f32(new Float32Array(count).fill(value));
	const n = (op: string, inputs: string[], output: string, attrs: Uint8Array[] = []) => {
		nodes.push(node(op, inputs, [output], attrs));
		return output;
	};
	const linear = (name: string, x: string, inDim: number, outDim: number) => {
		init(`${name}.weight`, [inDim, outDim], w.normal(inDim * outDim));
		init(`${name}.bias`, [outDim], filled(outDim, 0));
		return n('Add', [n('MatMul', [x, `${name}.weight`], `${name}.mm`), `${name}.bias`], `${name}.out`);
	};
	const layerNorm = (name: string, x: string) => {
		init(`${name}.weight`, [D], filled(D, 1));
		init(`${name}.bias`, [D], filled(D, 0));
		return n('LayerNormalization', [x, `${name}.weight`, `${name}.bias`], `${name}.out`, [
			attrInt('axis', -1),
			attrFloat('epsilon', 1e-12),
		]);
	};
	const i64Const = (name: string, values: number[], dims = [values.length]) => inits.push(tensor(name, INT64, dims, i64(values)));
	const f32Const = (name: string, value: number) => inits.push(tensor(name, FLOAT, [], f32([value])));

	i64Const('one_i', [1]);
	i64Const('two_i', [2]);
	i64Const('zero_i', [0]);
	i64Const('axes12', [1, 2]);
	i64Const('heads_shape', [0, 0, s.heads, D / s.heads]);
	i64Const('hidden_shape', [0, 0, D]);
	i64Const('cls_index', [0], []);
	f32Const('one_f', 1);
	f32Const('mask_min', -3.4028234663852886e38);
	f32Const('sqrt_dh', Math.sqrt(D / s.heads));
	f32Const('sqrt2', Math.SQRT2);
	f32Const('half', 0.5);

	// Embeddings: words + positions (0..seq-1) + token types, then LayerNorm.
	init('embeddings.word', [s.vocab, D], w.normal(s.vocab * D));
	init('embeddings.position', [s.positions, D], w.normal(s.positions * D));
	init('embeddings.type', [2, D], w.normal(2 * D));
	const words = n('Gather', ['embeddings.word', 'input_ids'], 'emb.words', [attrInt('axis', 0)]);
	const seq = n('Slice', [n('Shape', ['input_ids'], 'ids.shape'), 'one_i', 'two_i'], 'ids.seq');
	const positions = n('Slice', ['embeddings.position', 'zero_i', seq, 'zero_i'], 'emb.positions');
	const types = n('Gather', ['embeddings.type', 'token_type_ids'], 'emb.types', [attrInt('axis', 0)]);
	const summed = n('Add', [n('Add', [words, positions], 'emb.wp'), types], 'emb.sum');
	let x = layerNorm('embeddings.norm', summed);

	// The additive mask [batch, 1, 1, seq]: 0 where attended, the float minimum where padded.
	const maskF = n('Cast', ['attention_mask'], 'mask.f', [attrInt('to', FLOAT)]);
	const mask4 = n('Unsqueeze', [maskF, 'axes12'], 'mask.4d');
	const maskBias = n('Mul', [n('Sub', ['one_f', mask4], 'mask.inv'), 'mask_min'], 'mask.bias');

	for (let l = 0; l < s.layers; l++) {
		const p = `layer${l}`;
		const headsOf = (t: string, perm: number[]) =>
			n('Transpose', [n('Reshape', [t, 'heads_shape'], `${t}.heads`)], `${t}.t`, [attrInts('perm', perm)]);
		const q = headsOf(linear(`${p}.query`, x, D, D), [0, 2, 1, 3]);
		const k = headsOf(linear(`${p}.key`, x, D, D), [0, 2, 3, 1]);
		const v = headsOf(linear(`${p}.value`, x, D, D), [0, 2, 1, 3]);
		const scores = n('Add', [n('Div', [n('MatMul', [q, k], `${p}.qk`), 'sqrt_dh'], `${p}.scaled`), maskBias], `${p}.masked`);
		const probs = n('Softmax', [scores], `${p}.probs`, [attrInt('axis', -1)]);
		const context = n('Transpose', [n('MatMul', [probs, v], `${p}.ctx`)], `${p}.ctx.t`, [attrInts('perm', [0, 2, 1, 3])]);
		const merged = n('Reshape', [context, 'hidden_shape'], `${p}.ctx.merged`);
		x = layerNorm(`${p}.attention.norm`, n('Add', [x, linear(`${p}.attention.output`, merged, D, D)], `${p}.attention.residual`));
		const up = linear(`${p}.intermediate`, x, D, s.intermediate);
		const erf = n('Erf', [n('Div', [up, 'sqrt2'], `${p}.gelu.scaled`)], `${p}.gelu.erf`);
		const gelu = n('Mul', [n('Mul', [up, n('Add', [erf, 'one_f'], `${p}.gelu.plus1`)], `${p}.gelu.x`), 'half'], `${p}.gelu`);
		x = layerNorm(`${p}.output.norm`, n('Add', [x, linear(`${p}.output`, gelu, s.intermediate, D)], `${p}.output.residual`));
	}

	const cls = n('Gather', [x, 'cls_index'], 'pooler.cls', [attrInt('axis', 1)]);
	const pooled = n('Tanh', [linear('pooler', cls, D, D)], 'pooler.tanh');
	init('classifier.weight', [D, 1], w.normal(D));
	init('classifier.bias', [1], filled(1, 0));
	nodes.push(node('Add', [n('MatMul', [pooled, 'classifier.weight'], 'classifier.mm'), 'classifier.bias'], ['logits']));

	const inputs = ['input_ids', 'attention_mask', 'token_type_ids'].map(name => valueInfo(name, INT64, ['batch', 'sequence']));
	const outputs = [valueInfo('logits', FLOAT, ['batch', 1])];
	// GraphProto: node 1, name 2, initializer 5, input 11, output 12 — written piece by piece, since the
	// whole model is ~440 MB and one more concatenated copy of it buys nothing.
	const graphParts = [
		...nodes.map(x => sub(1, x)),
		str(2, 'bert_reward'),
		...inits.map(t => sub(5, t)),
		...inputs.map(v => sub(11, v)),
		...outputs.map(v => sub(12, v)),
	];
	const graphLength = graphParts.reduce((sum, part) => sum + part.length, 0);
	// ModelProto: ir_version 1, opset_import 8, producer_name 2, graph 7 (LayerNormalization needs opset 17).
	const head = [vint(1, 8), sub(8, vint(2, 17)), str(2, 'best-of-n bench'), Uint8Array.from([(7 << 3) | 2, ...varint(graphLength)])];
	const fd = fs.openSync(file, 'w');
	try {
		for (const part of [...head, ...graphParts]) fs.writeSync(fd, part);
	} finally {
		fs.closeSync(fd);
	}
}

function varint(value: number): number[] {
	const out: number[] = [];
	let v = value;
	do {
		let byte = v % 128;
		v = Math.floor(v / 128);
		if (v) byte |= 0x80;
		out.push(byte);
	} while (v);
	return out;
}

if (require.main === module) {
	const args = process.argv.slice(2);
	const at = args.indexOf('--layers');
	const out = args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
	if (!out) {
		console.error('usage: npx tsx bench/bertModel.ts OUTDIR [--layers N]');
		process.exit(2);
	}
	const shape = at >= 0 ? { ...BERT_BASE, layers: Number(args[at + 1]) } : BERT_BASE;
	const t0 = Date.now();
	console.log(ensureBertRewardModel(path.resolve(out), shape), `${Date.now() - t0} ms`);
}

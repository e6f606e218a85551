/**
 * What the benchmark model writers (bench/bertModel.ts, bench/debertaModel.ts) share: random weights
 * drawn in a fixed order, a graph builder on the fixtures' protobuf encoder, and the two precisions a
 * reward model is published in:
 *
 * - `fp32`: the export as PyTorch writes it;
 * - `q8`: what onnxruntime's dynamic quantizer (`quantize_dynamic`, and transformers.js's `q8`, which
 *   calls it with int8 weights and uint8 activations, per tensor, MatMulConstBOnly) makes of it. Each
 *   MatMul by a weight becomes DynamicQuantizeLinear (the activation, uint8, once per tensor however many
 *   MatMuls read it) → MatMulInteger with the int8 weight and its zero point → Cast → Mul by the
 *   product of the two scales; the bias Add stays fp32. Embedding tables read by Gather are stored
 *   uint8 and dequantized after the Gather (its GatherQuant); LayerNorm, Softmax, the MatMuls between
 *   activations and everything else stay fp32. onnxruntime fuses that pattern into its contrib
 *   DynamicQuantizeMatMul / MatMulIntegerToFloat kernels when it loads the file.
 *
 * The weights are drawn in the same order in both precisions, so the q8 model holds the fp32 model's
 * weights quantized and scores close to it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attrFloat, attrInt, DataType, f32, i64, msg, node, str, sub, tensor, vint } from '../test/fixtures/onnxProto';

export type Precision = 'fp32' | 'q8';

/** The file transformers.js loads for each (its dtype → file suffix mapping). */
export const MODEL_FILE: Readonly<Record<Precision, string>> = { fp32: 'model.onnx', q8: 'model_quantized.onnx' };

export function writeJson(file: string, value: unknown): void {
	fs.writeFileSync(file, JSON.stringify(value));
}

/**
 * A model folder for benchmarks, written once and kept (bench/.models/ is not committed): `writeFolder`
 * writes config and tokenizer, `writeModel` one precision's ONNX file. A folder written for another
 * shape (or by another version of the writer) is written again; a missing precision is added.
 */
export function ensureModelFolder(
	dir: string,
	shape: object,
	writeFolder: () => void,
	writeModel: (file: string, precision: Precision) => void,
	precisions: readonly Precision[] = ['fp32', 'q8'],
): string {
	const stamp = path.join(dir, 'shape.json');
	const wanted = JSON.stringify({ ...shape, writer: WRITER_VERSION });
	if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== wanted) {
		fs.rmSync(dir, { recursive: true, force: true });
		fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
		writeFolder();
	}
	for (const precision of precisions) {
		const file = path.join(dir, 'onnx', MODEL_FILE[precision]);
		if (fs.existsSync(file)) continue;
		// Written beside, then renamed: a run stopped mid-write leaves no truncated model behind.
		writeModel(`${file}.partial`, precision);
		fs.renameSync(`${file}.partial`, file);
	}
	fs.writeFileSync(stamp, wanted);
	return dir;
}

/** Raised when what the writers write changes, so kept folders are written again. */
const WRITER_VERSION = 2;

export function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/**
 * BERT's initialization: weights N(0, initializer range) (here a sum of uniforms, close enough), biases
 * 0, LayerNorm 1/0. The range is HF's `initializer_range`, 0.02 for both families.
 */
export class Weights {
	private readonly next = mulberry32(42);
	constructor(private readonly range = 0.02) {}
	normal(count: number): Float32Array {
		const values = new Float32Array(count);
		// Irwin–Hall with 4 uniforms: mean 2, variance 1/3.
		const scale = this.range * Math.sqrt(3);
		for (let i = 0; i < count; i++) values[i] = (this.next() + this.next() + this.next() + this.next() - 2) * scale;
		return values;
	}
}

function bytes(values: Float32Array | Int8Array | Uint8Array): Uint8Array {
	return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Symmetric int8 per tensor, as the quantizer does weights (zero point 0, range ±127). */
function quantizeInt8(values: Float32Array): { q: Int8Array; scale: number } {
	let max = 0;
	for (const v of values) max = Math.max(max, Math.abs(v));
	const scale = max > 0 ? max / 127 : 1;
	const q = new Int8Array(values.length);
	for (let i = 0; i < values.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round((values[i] ?? 0) / scale)));
	return { q, scale };
}

/** Asymmetric uint8 per tensor with 0 in range, as the quantizer does a Gather's table. */
function quantizeUint8(values: Float32Array): { q: Uint8Array; scale: number; zeroPoint: number } {
	let lo = 0;
	let hi = 0;
	for (const v of values) {
		lo = Math.min(lo, v);
		hi = Math.max(hi, v);
	}
	const scale = hi > lo ? (hi - lo) / 255 : 1;
	const zeroPoint = Math.max(0, Math.min(255, Math.round(-lo / scale)));
	const q = new Uint8Array(values.length);
	for (let i = 0; i < values.length; i++) q[i] = Math.max(0, Math.min(255, Math.round((values[i] ?? 0) / scale) + zeroPoint));
	return { q, scale, zeroPoint };
}

export class GraphBuilder {
	private readonly nodes: Uint8Array[] = [];
	private readonly inits: Uint8Array[] = [];
	private readonly names = new Set<string>();
	/** Activation → its DynamicQuantizeLinear outputs (quantized once, read by every MatMul of it). */
	private readonly quantized = new Map<string, readonly [string, string, string]>();
	private readonly w: Weights;

	/** `initializerRange`: the weights' standard deviation (tests use more, so tiny models' scores vary). */
	constructor(
		readonly precision: Precision,
		initializerRange?: number,
	) {
		this.w = new Weights(initializerRange);
	}

	n(op: string, inputs: readonly string[], output: string, attrs: Uint8Array[] = []): string {
		this.nodes.push(node(op, inputs, [output], attrs));
		return output;
	}

	/** A node with several outputs. */
	multi(op: string, inputs: readonly string[], outputs: readonly string[], attrs: Uint8Array[] = []): void {
		this.nodes.push(node(op, inputs, outputs, attrs));
	}

	init(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): string {
		this.inits.push(tensor(name, dataType, dims, raw));
		this.names.add(name);
		return name;
	}

	f32(name: string, values: Float32Array | number, dims: readonly number[] = typeof values === 'number' ? [] : [values.length]): string {
		return this.init(name, DataType.FLOAT, dims, typeof values === 'number' ? f32([values]) : bytes(values));
	}

	i64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
		return this.init(name, DataType.INT64, dims, i64(values));
	}

	random(count: number): Float32Array {
		return this.w.normal(count);
	}

	/**
	 * x · W + b with W [inDim, outDim] drawn on first use: a second call with the same name reuses the
	 * weights (DeBERTa's relative embeddings go through the layer's own key and query projections), and
	 * `tag` keeps the outputs apart.
	 */
	linear(name: string, x: string, inDim: number, outDim: number, tag = ''): string {
		const weight = `${name}.weight`;
		const bias = `${name}.bias`;
		const fresh = !this.names.has(bias);
		if (fresh) this.f32(bias, new Float32Array(outDim));
		const out = `${name}${tag}`;
		let product: string;
		if (this.precision === 'fp32') {
			if (fresh) this.f32(weight, this.random(inDim * outDim), [inDim, outDim]);
			product = this.n('MatMul', [x, weight], `${out}.mm`);
		} else {
			const wq = `${weight}_quantized`;
			const ws = `${weight}_scale`;
			const wz = `${weight}_zero_point`;
			if (fresh) {
				const { q, scale } = quantizeInt8(this.random(inDim * outDim));
				this.init(wq, DataType.INT8, [inDim, outDim], bytes(q));
				this.f32(ws, scale);
				this.init(wz, DataType.INT8, [], Uint8Array.of(0));
			}
			const [xq, xs, xz] = this.dynamicQuantize(x);
			const integer = this.n('MatMulInteger', [xq, wq, xz, wz], `${out}.mm_quantized`);
			const cast = this.n('Cast', [integer], `${out}.mm_cast`, [attrInt('to', DataType.FLOAT)]);
			product = this.n('Mul', [cast, this.n('Mul', [xs, ws], `${out}.scales`)], `${out}.mm`);
		}
		return this.n('Add', [product, bias], `${out}.out`);
	}

	private dynamicQuantize(x: string): readonly [string, string, string] {
		let got = this.quantized.get(x);
		if (!got) {
			got = [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`];
			this.multi('DynamicQuantizeLinear', [x], got);
			this.quantized.set(x, got);
		}
		return got;
	}

	/** Gather rows of a [rows, dim] table of random weights; uint8 and dequantized after the Gather in q8. */
	embedding(name: string, rows: number, dim: number, ids: string): string {
		const values = this.random(rows * dim);
		if (this.precision === 'fp32') {
			this.f32(name, values, [rows, dim]);
			return this.n('Gather', [name, ids], `${name}.rows`, [attrInt('axis', 0)]);
		}
		const { q, scale, zeroPoint } = quantizeUint8(values);
		this.init(`${name}_quantized`, DataType.UINT8, [rows, dim], q);
		this.f32(`${name}_scale`, scale);
		this.init(`${name}_zero_point`, DataType.UINT8, [], Uint8Array.of(zeroPoint));
		const gathered = this.n('Gather', [`${name}_quantized`, ids], `${name}.rows_quantized`, [attrInt('axis', 0)]);
		return this.n('DequantizeLinear', [gathered, `${name}_scale`, `${name}_zero_point`], `${name}.rows`);
	}

	layerNorm(name: string, x: string, dim: number, epsilon: number): string {
		this.f32(`${name}.weight`, new Float32Array(dim).fill(1));
		this.f32(`${name}.bias`, new Float32Array(dim));
		return this.n('LayerNormalization', [x, `${name}.weight`, `${name}.bias`], `${name}.out`, [
			attrInt('axis', -1),
			attrFloat('epsilon', epsilon),
		]);
	}

	/** erf GELU, as PyTorch exports nn.GELU(). */
	gelu(name: string, x: string): string {
		const sqrt2 = this.constant('gelu.sqrt2', Math.SQRT2);
		const one = this.constant('gelu.one', 1);
		const half = this.constant('gelu.half', 0.5);
		const erf = this.n('Erf', [this.n('Div', [x, sqrt2], `${name}.scaled`)], `${name}.erf`);
		return this.n('Mul', [this.n('Mul', [x, this.n('Add', [erf, one], `${name}.plus1`)], `${name}.x`), half], `${name}.out`);
	}

	/** A float scalar initializer, written once. */
	constant(name: string, value: number): string {
		return this.names.has(name) ? name : this.f32(name, value);
	}

	/**
	 * Writes the ModelProto piece by piece (the whole model is hundreds of MB and one more concatenated
	 * copy of it buys nothing). LayerNormalization needs opset 17.
	 */
	write(file: string, graphName: string, inputs: readonly Uint8Array[], outputs: readonly Uint8Array[]): void {
		// GraphProto: node 1, name 2, initializer 5, input 11, output 12.
		const graphParts = [
			...this.nodes.map(x => sub(1, x)),
			str(2, graphName),
			...this.inits.map(t => sub(5, t)),
			...inputs.map(v => sub(11, v)),
			...outputs.map(v => sub(12, v)),
		];
		const graphLength = graphParts.reduce((sum, part) => sum + part.length, 0);
		// ModelProto: ir_version 1, opset_import 8, producer_name 2, graph 7.
		const head = [
			vint(1, 8),
			sub(8, msg(vint(2, 17))),
			str(2, 'best-of-n bench'),
			Uint8Array.from([(7 << 3) | 2, ...varint(graphLength)]),
		];
		const fd = fs.openSync(file, 'w');
		try {
			for (const part of [...head, ...graphParts]) fs.writeSync(fd, part);
		} finally {
			fs.closeSync(fd);
		}
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

/**
 * `npx tsx bench/<writer>.ts OUTDIR [--layers N]`: writes `shape` (with N layers) into OUTDIR and prints
 * the folder and the time it took. Shared by the model writers' command lines.
 */
export function writerMain<S extends { readonly layers: number }>(
	script: string,
	shape: S,
	ensure: (dir: string, shape: S) => string,
): void {
	const args = process.argv.slice(2);
	const at = args.indexOf('--layers');
	const out = args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
	if (!out) {
		console.error(`usage: npx tsx bench/${script} OUTDIR [--layers N]`);
		process.exit(2);
	}
	const t0 = Date.now();
	console.log(ensure(path.resolve(out), at >= 0 ? { ...shape, layers: Number(args[at + 1]) } : shape), `${Date.now() - t0} ms`);
}

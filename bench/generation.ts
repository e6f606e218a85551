/**
 * Tokens per second of the built-in generator on this CPU: N = 1 vs N = 4, the four as rows of one
 * batched generation vs one generation after another. The model is random-weight and Qwen2.5-0.5B-
 * shaped (24 layers, hidden 896, 14/2 heads, vocabulary 151 936; ~2 GB fp32, written once into
 * bench/.models/, never committed): speed does not depend on the weights' values.
 *
 * `npm run bench` runs it as one of its figures (`--quick`: fewer tokens per candidate). Alone:
 *
 *     npm run bench:generation            # the 0.5B shape
 *     npm run bench:generation -- --tiny  # the test fixture's shape, seconds instead of minutes
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBuiltinModel, type LoadedBuiltinModel } from '../src/generation/builtinModel';
import { QWEN_05B_SHAPE, TINY_SHAPE, writeTinyCausalModel } from '../test/fixtures/tinyCausalModel';

const messages = [
	{ role: 'system' as const, content: 'You rewrite code. Answer with the code only.' },
	{ role: 'user' as const, content: `Make this more concise:\n\nfunction add(a, b) {\n  const sum = a + b;\n  return sum;\n}` },
];

export interface GenerationFigures {
	/** Which model shape was measured, as the results name it. */
	readonly shape: string;
	readonly tokensPerCandidate: number;
	readonly loadMs: number;
	/** Tokens per second of all rows together. */
	readonly one: number;
	readonly batched: number;
	readonly sequential: number;
}

async function measure(model: LoadedBuiltinModel, rows: number, batched: boolean, tokens: number): Promise<number> {
	const started = Date.now();
	let generated = 0;
	const batches = batched ? [rows] : Array.from({ length: rows }, () => 1);
	for (const [i, n] of batches.entries()) {
		const { rows: out } = await model.generate(
			{ messages, rows: n, temperature: 0.8, topP: 0.95, maxTokens: tokens, seed: 1 + i },
			() => false,
			() => {},
		);
		generated += out.reduce((s, r) => s + r.tokens, 0);
	}
	return (generated * 1000) / (Date.now() - started);
}

/** Writes the model once into `modelsDir`, loads it and measures N = 1, N = 4 batched and N = 4 sequential. */
export async function measureGeneration(
	modelsDir: string,
	options: { tiny?: boolean; tokens: number; log?: (line: string) => void },
): Promise<GenerationFigures> {
	const log = options.log ?? (() => {});
	const dir = path.join(modelsDir, options.tiny ? 'tiny-qwen2' : 'qwen2.5-0.5b-shape');
	if (!fs.existsSync(path.join(dir, 'onnx', 'model.onnx'))) {
		log(`writing ${options.tiny ? 'the tiny' : 'a 0.5B-shaped'} random-weight model to ${dir} …`);
		writeTinyCausalModel(dir, { shape: options.tiny ? TINY_SHAPE : QWEN_05B_SHAPE });
	}
	const t0 = Date.now();
	const model = await loadBuiltinModel({
		model: dir,
		dtype: 'fp32',
		cacheDir: path.join(modelsDir, 'cache'),
		allowRemote: false,
		threads: 0,
	});
	const loadMs = Date.now() - t0;
	try {
		log(`generator loaded in ${loadMs} ms; ${options.tokens} new tokens per candidate`);
		await measure(model, 1, true, options.tokens); // warm-up: the first run allocates
		const one = await measure(model, 1, true, options.tokens);
		log(`N=1 ${one.toFixed(2)} tokens/s`);
		const batched = await measure(model, 4, true, options.tokens);
		log(`N=4 batched ${batched.toFixed(2)} tokens/s`);
		const sequential = await measure(model, 4, false, options.tokens);
		log(`N=4 sequential ${sequential.toFixed(2)} tokens/s`);
		const shape = options.tiny
			? 'the test fixture (2 layers, hidden 64)'
			: 'Qwen2.5-0.5B-shaped (24 layers, hidden 896), fp32, random weights';
		return { shape, tokensPerCandidate: options.tokens, loadMs, one, batched, sequential };
	} finally {
		await model.dispose();
	}
}

async function main(): Promise<void> {
	const tiny = process.argv.includes('--tiny');
	const f = await measureGeneration(path.join(__dirname, '.models'), { tiny, tokens: tiny ? 64 : 32, log: line => console.log(line) });
	console.log(`N=1              ${f.one.toFixed(1)} tokens/s`);
	console.log(`N=4 batched      ${f.batched.toFixed(1)} tokens/s  (${(f.batched / f.one).toFixed(2)}× N=1)`);
	console.log(`N=4 sequential   ${f.sequential.toFixed(1)} tokens/s  (${(f.sequential / f.one).toFixed(2)}× N=1)`);
	console.log(`batched / sequential: ${(f.batched / f.sequential).toFixed(2)}`);
}

if (require.main === module) {
	main().catch((e: unknown) => {
		console.error(e);
		process.exit(1);
	});
}

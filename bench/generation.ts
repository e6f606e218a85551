/**
 * Tokens per second of the built-in generator on this CPU: N = 1 vs N = 4, the four as rows of one
 * batched generation vs one generation after another. The model is random-weight and Qwen2.5-0.5B-
 * shaped (24 layers, hidden 896, 14/2 heads, vocabulary 151 936; ~2 GB fp32, written once into
 * bench/.models/, never committed): speed does not depend on the weights' values.
 *
 *     npm run bench:generation            # the 0.5B shape
 *     npm run bench:generation -- --tiny  # the test fixture's shape, seconds instead of minutes
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBuiltinModel, type LoadedBuiltinModel } from '../src/generation/builtinModel';
import { QWEN_05B_SHAPE, TINY_SHAPE, writeTinyCausalModel } from '../test/fixtures/tinyCausalModel';

const tiny = process.argv.includes('--tiny');
const tokens = tiny ? 64 : 32;
const dir = path.join(__dirname, '.models', tiny ? 'tiny-qwen2' : 'qwen2.5-0.5b-shape');
const messages = [
	{ role: 'system' as const, content: 'You rewrite code. Answer with the code only.' },
	{ role: 'user' as const, content: `Make this more concise:\n\nfunction add(a, b) {\n  const sum = a + b;\n  return sum;\n}` },
];

async function measure(model: LoadedBuiltinModel, rows: number, batched: boolean): Promise<number> {
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

async function main(): Promise<void> {
	if (!fs.existsSync(path.join(dir, 'onnx', 'model.onnx'))) {
		console.log(`writing ${tiny ? 'the tiny' : 'a 0.5B-shaped'} random-weight model to ${dir} …`);
		writeTinyCausalModel(dir, { shape: tiny ? TINY_SHAPE : QWEN_05B_SHAPE });
	}
	const t0 = Date.now();
	const model = await loadBuiltinModel({
		model: dir,
		dtype: 'fp32',
		cacheDir: path.join(dir, '..', 'cache'),
		allowRemote: false,
		threads: 0,
	});
	console.log(`loaded in ${Date.now() - t0} ms; ${tokens} new tokens per candidate`);
	await measure(model, 1, true); // warm-up
	const one = await measure(model, 1, true);
	const batched = await measure(model, 4, true);
	const sequential = await measure(model, 4, false);
	console.log(`N=1              ${one.toFixed(1)} tokens/s`);
	console.log(`N=4 batched      ${batched.toFixed(1)} tokens/s  (${(batched / one).toFixed(2)}× N=1)`);
	console.log(`N=4 sequential   ${sequential.toFixed(1)} tokens/s  (${(sequential / one).toFixed(2)}× N=1)`);
	console.log(`batched / sequential: ${(batched / sequential).toFixed(2)}`);
	await model.dispose();
}

main().catch((e: unknown) => {
	console.error(e);
	process.exit(1);
});

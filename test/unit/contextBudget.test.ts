/**
 * Whether a rewrite fits the model's window: the token estimate errs high on real text (checked against
 * Llama 3's real tokenizer, `llama3-tokenizer-js`), the window is read from `/api/show` the way Ollama
 * reports it, and the admin call goes through the real client.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contextBudget, effectiveContextLength, estimateTokens, modelContextFromShow, numCtxToSend } from '../../src/core/contextBudget';
import { BestOfNError } from '../../src/core/errors';
import { buildRewriteMessages } from '../../src/core/prompt';
import { modelContext } from '../../src/generation/ollamaAdmin';
import { FakeOllama } from '../fixtures/fakeOllama';

/** Real text of the kinds people select, read from this repository and its dependencies. */
const SAMPLES: [string, string][] = [
	['TypeScript', 'src/core/run.ts'],
	['a TypeScript declaration file', 'node_modules/typescript/lib/lib.es5.d.ts'],
	['Markdown', 'README.md'],
	['CSS', 'media/picker.css'],
	['JSON', 'package.json'],
	['a lockfile full of hashes', 'package-lock.json'],
];
const root = path.resolve(__dirname, '../..');
let llama3Tokens: (text: string) => number;

describe('context budget', () => {
	before(async () => {
		// An ES module; this file is CommonJS.
		const { default: tokenizer } = await import('llama3-tokenizer-js');
		llama3Tokens = text => tokenizer.encode(text, { bos: false, eos: false }).length;
	});

	for (const [what, file] of SAMPLES) {
		it(`counts no fewer tokens than Llama 3's tokenizer, and under twice as many: ${what}`, () => {
			const text = fs.readFileSync(path.join(root, file), 'utf8').slice(0, 100_000);
			const [estimate, real] = [estimateTokens(text), llama3Tokens(text)];
			assert.ok(estimate >= real && estimate < 2 * real, `${file}: ${estimate} estimated, ${real} real`);
		});
	}

	it('counts no fewer tokens than Llama 3 for text outside ASCII', () => {
		for (const text of [
			'吾輩は猫である。名前はまだ無い。',
			'Привет, как дела? Это тест русского текста.',
			'naïve café 😀🎉 🚀',
			'Ελληνικά κείμενα',
		]) {
			assert.ok(estimateTokens(text) >= llama3Tokens(text), `${text}: ${estimateTokens(text)} estimated, ${llama3Tokens(text)} real`);
		}
	});

	it('needs room for the prompt and a reply as long as the selection, at most maxTokens', () => {
		const selection = 'x = 1\n'.repeat(300); // 1,800 characters, ~600 tokens estimated
		const messages = buildRewriteMessages({ instruction: 'shorter', text: selection, languageId: 'python' });
		const roomy = contextBudget(messages, selection, 4096, 8192);
		assert.equal(roomy.replyTokens, estimateTokens(selection));
		assert.ok(roomy.promptTokens > roomy.replyTokens, 'the prompt holds the selection and the instructions');
		assert.equal(roomy.needed, roomy.promptTokens + roomy.replyTokens);
		assert.equal(roomy.fits, true);
		assert.equal(contextBudget(messages, selection, 100, 8192).replyTokens, 100, 'the server stops at maxTokens');
		assert.equal(contextBudget(messages, selection, 4096, 1024).fits, false);
	});

	it("reads the window as Ollama's /api/show reports it", () => {
		// Shapes of real responses: llama3.1:8b, a Modelfile with PARAMETER num_ctx, qwen2.5-coder.
		const llama = {
			parameters: 'stop                           "<|start_header_id|>"\nstop                           "<|eot_id|>"',
			model_info: { 'general.architecture': 'llama', 'llama.context_length': 131072, 'llama.embedding_length': 4096 },
		};
		assert.deepEqual(modelContextFromShow(llama), { trained: 131072, numCtx: undefined });
		const custom = { ...llama, parameters: `num_ctx                        4096\n${llama.parameters}` };
		assert.deepEqual(modelContextFromShow(custom), { trained: 131072, numCtx: 4096 });
		const qwen = {
			parameters: '',
			model_info: new Map<string, unknown>([
				['general.architecture', 'qwen2'],
				['qwen2.context_length', 32768],
			]),
		};
		assert.deepEqual(modelContextFromShow(qwen), { trained: 32768, numCtx: undefined });
		assert.deepEqual(modelContextFromShow({}), { trained: undefined, numCtx: undefined });

		assert.equal(effectiveContextLength(0, { trained: 131072, numCtx: 4096 }), 4096, 'the Modelfile is what it runs with');
		assert.equal(effectiveContextLength(0, { trained: 131072 }), 131072);
		assert.equal(effectiveContextLength(16384, { trained: 131072, numCtx: 4096 }), 16384, 'bestOfN.contextLength is sent as num_ctx');
		assert.equal(effectiveContextLength(0, undefined), undefined);
	});

	it('asks for a larger num_ctx only when nothing else sets the window and the default would not hold the rewrite', () => {
		const budget = (needed: number, contextLength = 131072) => ({
			promptTokens: needed,
			replyTokens: 0,
			needed,
			contextLength,
			fits: needed <= contextLength,
		});
		assert.equal(numCtxToSend(budget(3000), 0, { trained: 131072 }), undefined, 'fits the default');
		assert.equal(numCtxToSend(budget(5000), 0, { trained: 131072 }), 6144);
		assert.equal(numCtxToSend(budget(9000, 10000), 0, { trained: 10000 }), 10000, 'never past the trained length');
		assert.equal(numCtxToSend(budget(5000), 8192, { trained: 131072 }), undefined, 'bestOfN.contextLength is sent as it is');
		assert.equal(numCtxToSend(budget(5000, 8192), 0, { trained: 131072, numCtx: 8192 }), undefined, 'the Modelfile sets it');
		assert.equal(numCtxToSend(budget(200000), 0, { trained: 131072 }), undefined, 'refused anyway');
	});

	describe('modelContext against the fake server', () => {
		let fake: FakeOllama;
		let host: string;
		beforeEach(async () => {
			fake = new FakeOllama({ models: ['llama3.1:8b'], contextFor: () => ({ contextLength: 131072, numCtx: 2048 }) });
			host = (await fake.start()).url;
		});
		afterEach(() => fake.close());

		it('reads the trained length and the Modelfile num_ctx through the ollama client', async () => {
			assert.deepEqual(await modelContext(host, 'llama3.1:8b'), { trained: 131072, numCtx: 2048 });
		});

		it('says which model is missing', async () => {
			await assert.rejects(modelContext(host, 'nope:1b'), (e: unknown) => e instanceof BestOfNError && e.kind === 'model-not-found');
		});
	});
});

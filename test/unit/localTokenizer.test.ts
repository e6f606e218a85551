/**
 * The scorer's tokenizer read without transformers.js (src/reward/localTokenizer.ts) must give the
 * model exactly what transformers.js's AutoTokenizer gives it: the same ids and token type ids for
 * every pair, truncated or not, and the same padding and lengths. Checked on a WordPiece (BERT), a
 * SentencePiece Unigram (DeBERTa-v3) and a byte-level BPE (RoBERTa) tokenizer, written by the bench's
 * model writers and here, and on the bench's base-sized tokenizers when they have been generated.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import { ensureBertRewardModel, type BertShape } from '../../bench/bertModel';
import { ensureDebertaRewardModel, type DebertaShape } from '../../bench/debertaModel';
import type { RewardPair } from '../../src/core/reward';
import { LOCAL_MODEL_TYPES, LOCAL_TOKENIZER_CLASSES, loadLocalTokenizer, type PairTokenizer } from '../../src/reward/localTokenizer';
import { encodePair } from '../../src/reward/scorer';
import { specialTokens } from '../fixtures/tokenizerJson';

const T = require('@huggingface/transformers') as typeof Transformers;

const TINY_BERT: BertShape = { layers: 1, hidden: 16, heads: 2, intermediate: 32, vocab: 1000, positions: 128, initializerRange: 0.2 };
const TINY_DEBERTA: DebertaShape = {
	layers: 1,
	hidden: 16,
	heads: 2,
	intermediate: 32,
	vocab: 1100,
	pieces: 1000,
	positions: 128,
	buckets: 16,
	initializerRange: 0.2,
};

const LONG = 'The license grants permission, free of charge, to any person obtaining a copy of this software. ';
const PAIRS: RewardPair[] = [
	{ prompt: 'Rewrite this function.', response: 'The function returns the sum of the list.' },
	{ prompt: 'Explain the code.', response: '' },
	{ prompt: '', response: 'Only a response.' },
	{ prompt: 'Übersetze: café, naïve, façade — “quoted” ‘text’…', response: 'Ça marche très bien, élève.' },
	{ prompt: '日本語のテキストと中文字符', response: 'Emoji 👩‍💻🚀 and combining e\u0301 and Ω≈ç√∫' },
	{ prompt: 'مرحبا بالعالم', response: 'שלום עולם\tтабуляция\nновая строка' },
	{ prompt: '  leading and   inner   spaces\r\n', response: '\u00a0non-breaking\u2003em space\u200bzero width' },
	{ prompt: 'UPPER lower MiXeD 12345 3.14159 x_y-z/w', response: 'def f(a, b):\n    return a + b  # sum' },
	{ prompt: LONG.repeat(12), response: 'A short answer.' },
	{ prompt: 'Short prompt.', response: LONG.repeat(12) },
	{ prompt: LONG.repeat(8), response: LONG.repeat(8) },
	{ prompt: '[CLS] [SEP] <s> </s> [MASK] <pad>', response: '[UNK] [PAD] <unk>' },
];

/** GPT-2's byte-to-character table, which byte-level BPE vocabularies are written in. */
function byteChars(): string[] {
	const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
	let next = 256;
	return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
}

/** A RoBERTa-style folder: byte-level BPE over the bytes and a few merges, `<s> A </s></s> B </s>`. */
function writeRoberta(dir: string): void {
	fs.mkdirSync(dir, { recursive: true });
	const specials = ['<s>', '<pad>', '</s>', '<unk>'];
	const merges = ['Ġ t', 'h e', 'Ġt he', 'i n', 'Ġ a', 'e r', 'o n', 'Ġ s', 'r e', 'Ġ c', 'a n', 'Ġ the', 'e n', 'o r'];
	const vocab: Record<string, number> = {};
	for (const t of [...specials, ...byteChars(), ...merges.map(m => m.replace(' ', ''))]) vocab[t] ??= Object.keys(vocab).length;
	const json = {
		version: '1.0',
		truncation: null,
		padding: null,
		added_tokens: specialTokens(specials.map(t => [t, vocab[t]!])),
		normalizer: null,
		pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
		post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
		decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
		model: {
			type: 'BPE',
			dropout: null,
			unk_token: null,
			continuing_subword_prefix: '',
			end_of_word_suffix: '',
			fuse_unk: false,
			byte_fallback: false,
			vocab,
			merges,
		},
	};
	const write = (file: string, value: unknown) => fs.writeFileSync(path.join(dir, file), JSON.stringify(value));
	write('tokenizer.json', json);
	write('tokenizer_config.json', {
		tokenizer_class: 'RobertaTokenizer',
		model_max_length: 512,
		bos_token: '<s>',
		eos_token: '</s>',
		sep_token: '</s>',
		cls_token: '<s>',
		unk_token: '<unk>',
		pad_token: '<pad>',
		mask_token: '<mask>',
	});
	write('config.json', { model_type: 'roberta', max_position_embeddings: 514, pad_token_id: 1, vocab_size: Object.keys(vocab).length });
}

describe('the scorer’s tokenizer without transformers.js', function () {
	this.timeout(120_000);
	let root: string;
	const folders: Array<[name: string, dir: () => string]> = [];

	before(() => {
		root = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-local-tokenizer-'));
		ensureBertRewardModel(path.join(root, 'bert'), TINY_BERT);
		ensureDebertaRewardModel(path.join(root, 'deberta'), TINY_DEBERTA);
		writeRoberta(path.join(root, 'roberta'));
	});
	after(() => fs.rmSync(root, { recursive: true, force: true }));

	folders.push(['BERT WordPiece (tiny)', () => path.join(root, 'bert')]);
	folders.push(['DeBERTa-v3 Unigram (tiny)', () => path.join(root, 'deberta')]);
	folders.push(['RoBERTa byte-level BPE', () => path.join(root, 'roberta')]);
	// The bench's base-sized tokenizers (30k WordPiece, 128k Unigram pieces), when they have been generated.
	for (const name of ['bert-base', 'deberta-v3-base']) {
		const dir = path.join(__dirname, '..', '..', 'bench', '.models', name);
		if (fs.existsSync(path.join(dir, 'tokenizer.json'))) folders.push([`bench ${name}`, () => dir]);
	}

	for (const [name, dir] of folders) {
		it(`${name}: the same ids, token type ids and settings as transformers.js, for every pair, truncated or not`, async () => {
			const local = loadLocalTokenizer(dir());
			assert.ok(local, 'the local path takes this folder');
			const theirs = await T.AutoTokenizer.from_pretrained(dir(), { local_files_only: true });
			const ours: PairTokenizer = local.tokenizer;
			assert.equal(ours.return_token_type_ids, theirs.return_token_type_ids);
			assert.equal(ours.padding_side, theirs.padding_side);
			assert.equal(ours.pad_token_id, theirs.pad_token_id);
			assert.equal(ours.model_max_length, theirs.model_max_length);
			const config = await T.AutoConfig.from_pretrained(dir(), { local_files_only: true });
			assert.equal(local.config.model_type, config.model_type);
			assert.equal(local.config.max_position_embeddings, (config as unknown as Record<string, unknown>).max_position_embeddings);

			let truncated = 0;
			for (const pair of PAIRS) {
				for (const maxLength of [24, 64, 512]) {
					const mine = encodePair(ours, pair, maxLength);
					assert.deepEqual(mine, encodePair(theirs, pair, maxLength), `${JSON.stringify(pair).slice(0, 60)} at ${maxLength}`);
					if (mine.dropped.prompt || mine.dropped.response) truncated++;
				}
				// Untruncated: exactly transformers.js's own encoding of (text, text_pair).
				const whole = encodePair(ours, pair, 100_000);
				const own = theirs(pair.prompt, { text_pair: pair.response || null });
				const ids = (t: unknown) => Array.from((t as { data: ArrayLike<bigint> }).data, Number);
				assert.deepEqual(whole.input_ids, ids(own.input_ids), JSON.stringify(pair).slice(0, 60));
				if (own.token_type_ids) assert.deepEqual(whole.token_type_ids, ids(own.token_type_ids));
				else assert.equal(whole.token_type_ids, undefined);
			}
			assert.ok(truncated >= 8, `only ${truncated} encodings were truncated`);
		});
	}

	it('a Unigram tokenizer from disk holds no @huggingface/tokenizers trie (compactUnigram.ts)', () => {
		// The ids are the same either way, so only the model's members can tell that the scorer lost the
		// trie's memory (~95 MB for DeBERTa-v3's 128k pieces); a WordPiece one is the package's as-is.
		const model = (dir: string) => (loadLocalTokenizer(dir)?.tokenizer._tokenizer as { model: { trie?: { root?: unknown } } }).model;
		assert.ok(model(path.join(root, 'deberta')).trie, 'the Unigram model answers prefix searches');
		assert.equal(model(path.join(root, 'deberta')).trie?.root, undefined, 'the package’s trie was built');
		assert.equal(model(path.join(root, 'bert')).trie, undefined);
	});

	it('keeps no parsed copy of tokenizer.json’s vocabulary or merges beside the model’s own', () => {
		// The package holds the parsed JSON for the tokenizer's life; the model reads it only while built.
		for (const name of ['bert', 'deberta', 'roberta']) {
			const inner = loadLocalTokenizer(path.join(root, name))?.tokenizer._tokenizer as {
				tokenizer: { model: Record<string, unknown> };
				model: { tokens_to_ids: Map<string, number> };
			};
			assert.ok(inner.model.tokens_to_ids.size > 200, `${name}: the model has its vocabulary`);
			assert.equal(inner.tokenizer.model.vocab, undefined, `${name}: the parsed vocabulary is still held`);
			assert.equal(inner.tokenizer.model.merges, undefined, `${name}: the parsed merges are still held`);
		}
	});

	it('a scorer loading and scoring a model on disk never loads transformers.js (a fresh process)', () => {
		// What the local path is for: the scorer's process without transformers.js's ~25 MB. Scores come
		// out the same either way, so only the modules the process loaded can tell the paths apart.
		const script = `
			const { loadRewardModel } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'reward', 'scorer.ts'))});
			const request = { model: process.argv[1], dtype: 'fp32', cacheDir: process.argv[2], allowRemote: false, threads: 1 };
			loadRewardModel(request).then(async model => {
				const [score] = await model.score([{ prompt: 'Rewrite this.', response: 'Rewritten.' }]);
				const loaded = Object.keys(require.cache);
				const has = name => loaded.some(k => k.includes(name));
				console.log(JSON.stringify({ score, transformers: has('@huggingface/transformers'), tokenizers: has('@huggingface/tokenizers') }));
				await model.dispose();
			});
		`;
		const child = spawnSync(
			process.execPath,
			['--require', 'tsx/cjs', '-e', script, path.join(root, 'bert'), path.join(root, 'cache')],
			{
				cwd: path.join(__dirname, '..', '..'),
				encoding: 'utf8',
				timeout: 90_000,
			},
		);
		assert.equal(child.status, 0, child.stderr);
		const seen = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as {
			score: unknown;
			transformers: boolean;
			tokenizers: boolean;
		};
		assert.equal(typeof seen.score, 'number');
		assert.equal(seen.tokenizers, true, 'the tokenizer came from @huggingface/tokenizers');
		assert.equal(seen.transformers, false, 'transformers.js was loaded');
	});

	it('every listed model type is one transformers.js classifies sequences with', () => {
		for (const type of LOCAL_MODEL_TYPES) assert.ok(T.AutoModelForSequenceClassification.supports(type), type);
	});

	it('every listed tokenizer class sets token type ids and padding as transformers.js’s class does', () => {
		const tokenizer = JSON.parse(fs.readFileSync(path.join(root, 'roberta', 'tokenizer.json'), 'utf8')) as object;
		const classes = T as unknown as Record<string, new (json: object, config: object) => Transformers.PreTrainedTokenizer>;
		for (const [name, typeIds] of Object.entries(LOCAL_TOKENIZER_CLASSES)) {
			const cls = name === 'TokenizersBackend' ? T.PreTrainedTokenizer : classes[name];
			assert.ok(cls, `transformers.js has no ${name}`);
			const made = new cls(tokenizer, {});
			assert.equal(made.return_token_type_ids, typeIds, name);
			assert.equal(made.padding_side, 'right', name);
			if (cls === T.PreTrainedTokenizer) continue;
			// Nothing else of the class's own: no constructor, no methods over the base class's.
			const own = Object.getOwnPropertyNames(cls.prototype).filter(p => p !== 'constructor');
			assert.deepEqual(own, [], `${name} defines ${own.join(', ')}`);
			assert.doesNotMatch(cls.toString(), /\bconstructor\s*\(/, `${name} has a constructor`);
		}
	});

	it('leaves to transformers.js a model type or tokenizer class it does not list, and files that do not parse', () => {
		const dir = path.join(root, 'other');
		fs.cpSync(path.join(root, 'roberta'), dir, { recursive: true });
		const config = path.join(dir, 'config.json');
		const tokenizerConfig = path.join(dir, 'tokenizer_config.json');
		assert.ok(loadLocalTokenizer(dir));
		fs.writeFileSync(config, JSON.stringify({ model_type: 'llama' }));
		assert.equal(loadLocalTokenizer(dir), undefined, 'llama');
		fs.writeFileSync(config, JSON.stringify({ model_type: 'roberta' }));
		fs.writeFileSync(tokenizerConfig, JSON.stringify({ tokenizer_class: 'WhisperTokenizer' }));
		assert.equal(loadLocalTokenizer(dir), undefined, 'WhisperTokenizer');
		fs.writeFileSync(tokenizerConfig, '<html>gateway timeout</html>');
		assert.equal(loadLocalTokenizer(dir), undefined, 'tokenizer_config.json not JSON');
		fs.writeFileSync(tokenizerConfig, JSON.stringify({ tokenizer_class: 'RobertaTokenizer', pad_token: { content: '<pad>' } }));
		assert.equal(loadLocalTokenizer(dir), undefined, 'a pad token transformers.js rejects');
		fs.writeFileSync(tokenizerConfig, JSON.stringify({ tokenizer_class: 'RobertaTokenizer' }));
		fs.rmSync(path.join(dir, 'tokenizer.json'));
		assert.equal(loadLocalTokenizer(dir), undefined, 'no tokenizer.json');
	});
});

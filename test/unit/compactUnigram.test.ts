/**
 * The scorer's Unigram tokenizer without the package's trie (src/reward/compactUnigram.ts) must give
 * exactly the tokens, ids and token type ids of @huggingface/tokenizers' own Tokenizer built from the
 * same tokenizer.json: on random text over a vocabulary whose pieces overlap and tie in score (where
 * the order the trie lists pieces in decides the segmentation), and on the bench's 128k-piece
 * DeBERTa-v3 tokenizer when it has been generated.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { newTokenizer } from '../../src/reward/compactUnigram';
import { specialTokens } from '../fixtures/tokenizerJson';

interface Encoded {
	ids: number[];
	tokens: string[];
	token_type_ids?: number[];
}
interface PackageTokenizer {
	model: { trie?: { root?: unknown }; tokenize(word: string): string[] };
	encode(text: string, options: { text_pair: string | null; return_token_type_ids: boolean }): Encoded;
	decode(ids: number[]): string;
}
type TokenizerClass = new (json: object, config: object) => PackageTokenizer;
const { Tokenizer } = require('@huggingface/tokenizers') as { Tokenizer: TokenizerClass };

const SPECIALS = ['[PAD]', '[CLS]', '[SEP]', '[UNK]'];
/** Characters that stress the lattice: scripts, a surrogate pair, combining marks, unknown ones. */
const CHARS = ['a', 'b', 'n', 'e', 'é', 'e\u0301', 'ß', '日', '本', 'я', 'ש', '😀', '👩', '\u200d', '💻', '\u0301', ' ', '▁', '1', '.'];

/**
 * A DeBERTa-v3-shaped Unigram tokenizer.json over a small vocabulary: pieces that are prefixes of
 * each other, segmentations that tie in score, a piece that is an added token's content and an added
 * token that is no piece (the trie holds only pieces), and characters with no piece at all.
 */
function unigramJson(): Record<string, unknown> {
	const pieces: Array<[string, number]> = SPECIALS.map(t => [t, 0]);
	const add = (piece: string, score: number) => pieces.push([piece, score]);
	for (const c of ['a', 'b', 'n', 'e', 'é', '日', 'я', '😀', '\u0301', '▁', '.']) add(c, -5);
	// "ab" = "a" + "b" in score, "▁ab" = "▁a" + "b" = "▁" + "ab": ties the trie's order breaks.
	for (const [piece, score] of [
		['ab', -10],
		['▁a', -5],
		['▁ab', -15],
		['▁abab', -20],
		['aba', -15],
		['ban', -8],
		['bana', -9],
		['banana', -9],
		['▁banana', -12],
		['nan', -7],
		['日本', -3],
		['😀😀', -6],
		['👩\u200d💻', -4],
		['e\u0301', -6],
		['▁▁', -5],
		['▁▁▁▁', -10],
		['<mask>', -1],
	] as const)
		add(piece, score);
	const id = (t: string) => pieces.findIndex(p => p[0] === t);
	return {
		version: '1.0',
		truncation: null,
		padding: null,
		added_tokens: specialTokens([...SPECIALS.map(t => [t, id(t)] as const), ['<mask>', id('<mask>')], ['▁ba', pieces.length]]),
		normalizer: null,
		pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
		post_processor: {
			type: 'TemplateProcessing',
			single: [
				{ SpecialToken: { id: '[CLS]', type_id: 0 } },
				{ Sequence: { id: 'A', type_id: 0 } },
				{ SpecialToken: { id: '[SEP]', type_id: 0 } },
			],
			pair: [
				{ SpecialToken: { id: '[CLS]', type_id: 0 } },
				{ Sequence: { id: 'A', type_id: 0 } },
				{ SpecialToken: { id: '[SEP]', type_id: 0 } },
				{ Sequence: { id: 'B', type_id: 1 } },
				{ SpecialToken: { id: '[SEP]', type_id: 1 } },
			],
			special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map(t => [t, { id: t, ids: [id(t)], tokens: [t] }])),
		},
		decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
		model: { type: 'Unigram', unk_id: 3, byte_fallback: false, vocab: pieces },
	};
}

const CONFIG = { bos_token: '[CLS]', eos_token: '[SEP]', unk_token: '[UNK]', pad_token: '[PAD]' };

/** Both tokenizers from one file's text (each parses its own copy, as the scorer does). */
function both(text: string, config: object = CONFIG): { theirs: PackageTokenizer; ours: PackageTokenizer } {
	const theirs = new Tokenizer(JSON.parse(text) as object, config);
	const ours = newTokenizer(Tokenizer, JSON.parse(text) as Record<string, unknown>, config);
	assert.ok(theirs.model.trie?.root, 'the package builds its trie');
	assert.ok(ours.model.trie && !ours.model.trie.root, 'the compact path built the package’s trie');
	assert.ok(Object.hasOwn(ours.model, 'tokenize'), 'the compact path left the package’s lattice in place');
	// Every other member the package's Unigram and Tokenizer set on the model, as they set it.
	const members = (m: object) => Object.fromEntries(Object.entries(m).filter(([k]) => !['trie', 'config', 'tokenize'].includes(k)));
	assert.deepEqual(members(ours.model), members(theirs.model));
	return { theirs, ours };
}

function assertSame(theirs: PackageTokenizer, ours: PackageTokenizer, text: string, pair: string | null): void {
	const options = { text_pair: pair, return_token_type_ids: true };
	const expected = theirs.encode(text, options);
	assert.deepEqual(ours.encode(text, options), expected, JSON.stringify([text, pair]));
	if (expected.ids.length) assert.equal(ours.decode(expected.ids), theirs.decode(expected.ids));
}

/** Text made of pieces glued together, characters, whitespace runs and specials. */
function textOf(pieces: readonly string[]): fc.Arbitrary<string> {
	const bit = fc.oneof(
		fc.constantFrom(...pieces),
		fc.constantFrom(...pieces).map(p => p.replaceAll('▁', ' ')),
		fc.constantFrom(...CHARS),
		fc.constantFrom(' ', '  ', '\t', '\n', '   \n '),
		fc.constantFrom(...SPECIALS, '<mask>', '▁ba'),
		fc.string({ unit: 'binary', maxLength: 3 }),
	);
	return fc.array(bit, { maxLength: 30 }).map(bits => bits.join(''));
}

describe('the scorer’s Unigram tokenizer without the package’s trie', function () {
	this.timeout(120_000);

	// The unknown piece as usual (an added token, never reaching the lattice), and as a piece text can
	// reach, whose score the model lowers below every other's.
	for (const unk of ['[UNK]', 'ban']) {
		it(`gives the package’s tokens, ids and token type ids for any text and pair (unknown piece ${unk})`, () => {
			const json = unigramJson();
			const model = json.model as { unk_id: number; vocab: Array<[string, number]> };
			model.unk_id = model.vocab.findIndex(p => p[0] === unk);
			const text = JSON.stringify(json);
			const { theirs, ours } = both(text);
			const pieces = model.vocab.map(p => p[0]);
			for (const t of [
				'',
				' ',
				'banana',
				'▁banana',
				'abab ab aba',
				'日本😀😀👩\u200d💻',
				'e\u0301e\u0301\u0301',
				'[CLS]x<mask>▁ba',
				'\ud800\udc00\udc00',
			])
				assertSame(theirs, ours, t, null);
			fc.assert(
				fc.property(textOf(pieces), fc.option(textOf(pieces)), (a, b) => assertSame(theirs, ours, a, b)),
				{ numRuns: 2000 },
			);
		});
	}

	it('leaves to the package a tokenizer.json it does not expect', () => {
		const json = unigramJson();
		const cases: Array<[string, (j: Record<string, unknown>) => void]> = [
			['a BPE model', j => (j.model = { type: 'BPE', vocab: { a: 0 }, merges: [] })],
			['a piece that is not [string, number]', j => (j.model as { vocab: unknown[] }).vocab.push(['x', '1'])],
			['an empty vocabulary', j => ((j.model as { vocab: unknown[] }).vocab = [])],
		];
		for (const [name, change] of cases) {
			const j = structuredClone(json);
			change(j);
			let made: PackageTokenizer | Error;
			try {
				made = newTokenizer(Tokenizer, j, CONFIG);
			} catch (e) {
				made = e as Error;
			}
			let theirs: PackageTokenizer | Error;
			try {
				theirs = new Tokenizer(structuredClone(j), CONFIG);
			} catch (e) {
				theirs = e as Error;
			}
			if (theirs instanceof Error) assert.ok(made instanceof Error && made.message === theirs.message, name);
			else {
				assert.ok(!(made instanceof Error), name);
				assert.equal(made.model.constructor, theirs.model.constructor, name);
				assert.equal(Boolean(made.model.trie?.root), Boolean(theirs.model.trie?.root), `${name}: the package’s own trie`);
			}
		}
	});

	const bench = path.join(__dirname, '..', '..', 'bench', '.models', 'deberta-v3-base');
	(fs.existsSync(path.join(bench, 'tokenizer.json')) ? it : it.skip)(
		'bench deberta-v3-base: the package’s ids on its 128k pieces',
		() => {
			const text = fs.readFileSync(path.join(bench, 'tokenizer.json'), 'utf8');
			const config = JSON.parse(fs.readFileSync(path.join(bench, 'tokenizer_config.json'), 'utf8')) as object;
			const { theirs, ours } = both(text, config);
			const vocab = (JSON.parse(text) as { model: { vocab: Array<[string, number]> } }).model.vocab;
			// Long pieces and a sample of all, so the glued text reaches deep into the vocabulary's runs.
			const pieces = vocab
				.map(p => p[0])
				.filter((p, i) => i % 97 === 0 || Array.from(p).length >= 10)
				.slice(0, 5000);
			const source = fs.readFileSync(path.join(__dirname, '..', '..', 'bench', 'text.ts'), 'utf8');
			assertSame(theirs, ours, source, source.split(/\s+/).reverse().join(' '));
			fc.assert(
				fc.property(textOf(pieces), fc.option(textOf(pieces)), (a, b) => assertSame(theirs, ours, a, b)),
				{ numRuns: 500 },
			);
		},
	);
});

/**
 * A SentencePiece Unigram tokenizer without @huggingface/tokenizers' trie. Its `Unigram` model (0.2.0)
 * keeps every piece in a `CharTrie` of one object and one Map per character: ~95 MB of heap for
 * DeBERTa-v3's 128k pieces, half the size of its 8-bit model file, held for the scorer's life.
 * The model asks the trie one thing, in `populate_nodes`: which pieces start at a position, shortest
 * first. A sorted array of the pieces answers the same with binary searches, for ~1 MB.
 *
 * So the Tokenizer is built with a one-piece vocabulary (its trie is one path), and the model is then
 * given the whole vocabulary as its constructor and the Tokenizer's would have set it. Lattice, scores,
 * unknown fusing and ids stay the package's own code. A tokenizer.json or model this does not expect
 * is built by the package as-is. test/unit/compactUnigram.test.ts checks the ids against the package.
 */

/** The members of the package's `Unigram` that its constructor sets and its methods read. */
interface UnigramModel {
	vocab: string[];
	scores: number[];
	tokens_to_ids: Map<string, number>;
	unk_token_id: number | undefined;
	unk_token: string | undefined;
	bos_token: unknown;
	bos_token_id: number | undefined;
	eos_token: unknown;
	eos_token_id: number | undefined;
	min_score: number;
	unk_score: number;
	fuse_unk: boolean;
	trie: PrefixSearch;
	populate_nodes: unknown;
}
interface PrefixSearch {
	common_prefix_search(chars: string[], start?: number): Iterable<string>;
}

type Piece = [string, number];
type TokenizerClass<T> = new (json: object, config: object) => T;

/**
 * The trie's answer without the trie: every piece that is a prefix of `chars[start..]`, shortest first.
 * The pieces sorted (one array of the strings the vocabulary holds anyway) stand in for the trie's
 * nodes: those starting with a prefix are one run of the array, which narrows as the prefix grows.
 */
class PieceSearch implements PrefixSearch {
	constructor(private readonly sorted: readonly string[]) {}

	*common_prefix_search(chars: string[], start = 0): Generator<string> {
		const sorted = this.sorted;
		let lo = 0;
		let hi = sorted.length;
		let prefix = '';
		// `<` and `startsWith` compare UTF-16 code units: a code point's run is inside its units' run, and a
		// whole match is the same string either way (chars are whole code points, as the trie's keys).
		for (let i = start; i < chars.length && lo < hi; i++) {
			prefix += chars[i];
			let a = lo;
			let b = hi;
			while (a < b) {
				const m = (a + b) >>> 1;
				if (sorted[m]! < prefix) a = m + 1;
				else b = m;
			}
			lo = a;
			b = hi;
			while (a < b) {
				const m = (a + b) >>> 1;
				if (sorted[m]!.startsWith(prefix)) a = m + 1;
				else b = m;
			}
			hi = a;
			// The run's first string is the prefix itself when the prefix is a piece.
			if (lo < hi && sorted[lo] === prefix) yield prefix;
		}
	}
}

/** The `[piece, score]` list of a Unigram tokenizer.json, or `undefined` for anything else. */
function unigramPieces(model: unknown): Piece[] | undefined {
	if (!model || typeof model !== 'object') return undefined;
	const { type, vocab } = model as { type?: unknown; vocab?: unknown };
	if (type !== 'Unigram' || !Array.isArray(vocab) || vocab.length === 0) return undefined;
	const ok = (p: unknown) => Array.isArray(p) && p.length >= 2 && typeof p[0] === 'string' && typeof p[1] === 'number';
	return vocab.every(ok) ? (vocab as Piece[]) : undefined;
}

function isPackageUnigram(model: unknown): model is UnigramModel {
	const m = model as Partial<UnigramModel> | null;
	return (
		typeof m?.populate_nodes === 'function' &&
		typeof m.trie?.common_prefix_search === 'function' &&
		Array.isArray(m.vocab) &&
		Array.isArray(m.scores) &&
		m.tokens_to_ids instanceof Map &&
		typeof m.min_score === 'number' &&
		typeof m.unk_score === 'number'
	);
}

/** `new Tokenizer(json, config)`, for a Unigram model without the package's trie. */
export function newTokenizer<T extends { model: unknown }>(Tokenizer: TokenizerClass<T>, json: Record<string, unknown>, config: object): T {
	const pieces = unigramPieces(json.model);
	const added = json.added_tokens;
	if (!pieces || !Array.isArray(added)) return new Tokenizer(json, config);
	const model = json.model as Record<string, unknown>;
	const tokenizer = new Tokenizer({ ...json, model: { ...model, vocab: pieces.slice(0, 1) } }, config);
	const m = tokenizer.model;
	// Another version of the package, whose model reads other members: let it build its own.
	if (!isPackageUnigram(m)) return new Tokenizer(json, config);

	// As the Unigram constructor, in its order: ids before added tokens, the unknown piece's score last.
	m.vocab = pieces.map(p => p[0]);
	m.scores = pieces.map(p => p[1]);
	m.tokens_to_ids = new Map(m.vocab.map((piece, i) => [piece, i]));
	m.unk_token = m.vocab[m.unk_token_id as number];
	m.bos_token_id = m.tokens_to_ids.get(m.bos_token as string);
	m.eos_token_id = m.tokens_to_ids.get(m.eos_token as string);
	let min = m.scores[0]!;
	for (const score of m.scores) if (score < min) min = score;
	m.min_score = min;
	m.unk_score = min - 10;
	m.scores[m.unk_token_id as number] = m.unk_score;
	// Sorted before added tokens join the maps: the package's trie holds the vocabulary's pieces only.
	m.trie = new PieceSearch(m.vocab.slice().sort());

	// As the Tokenizer constructor: added tokens take their ids in the model's maps.
	for (const token of added as Array<{ content: string; id: number }>) {
		m.tokens_to_ids.set(token.content, token.id);
		m.vocab[token.id] = token.content;
	}
	return tokenizer;
}

/**
 * A SentencePiece Unigram tokenizer without @huggingface/tokenizers' trie, and with its own lattice.
 * The package's `Unigram` model (0.2.0) keeps every piece in a `CharTrie` of one object and one Map
 * per character: ~95 MB of heap for DeBERTa-v3's 128k pieces, half the size of its 8-bit model file,
 * held for the scorer's life. And it splits a word with a generator over that trie, one object per
 * lattice node and a clone of a node per step of its Viterbi: ~1 ms for a 116-token pair, 5–6 ms for
 * 391 tokens (bench/RESULTS.md), where BERT's WordPiece takes a tenth of that.
 *
 * So the Tokenizer is built with a one-piece vocabulary (its trie is one path), and the model is then
 * given the whole vocabulary as its constructor and the Tokenizer's would have set it, a trie of the
 * pieces in typed arrays, and a `tokenize(word)` that builds the same lattice over that trie and picks
 * the same path as the package's Viterbi (ties included) without an object per node. Normalizer,
 * pre-tokenizer, unknown fusing, post-processor and ids stay the package's own code. A tokenizer.json
 * or model this does not expect is built by the package as-is, and so is one whose own `tokenize`
 * splits a few probe words differently. test/unit/compactUnigram.test.ts checks the tokens and ids
 * against the package's own Tokenizer.
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
	tokenize(word: string): string[];
}
interface PrefixSearch {
	common_prefix_search(chars: string[], start?: number): Iterable<string>;
}

type Piece = [string, number];
type TokenizerClass<T> = new (json: object, config: object) => T;

/** UTF-16 surrogates: a word's code points are the lattice's characters, its code units the trie's. */
const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/**
 * The vocabulary's pieces as a trie over UTF-16 code units in three typed arrays (~10 bytes a node, no
 * object per node), and the package's lattice and Viterbi run straight over a word with it.
 *
 * Nodes are laid out breadth first, so a node's children are one run of the arrays, sorted by their
 * unit: `first[n]` to `first[n + 1]`. A piece ends at a node when `slot[n]` is its id (not -1), whose
 * score is the model's `scores[id]`.
 * Code units rather than code points keep labels 16-bit and the build a walk down the pieces sorted
 * as JavaScript sorts strings. A piece can then match up to the middle of a word's surrogate pair,
 * where the package's trie of whole code points has no match; such a node is never on a path (below).
 */
class PieceTrie implements PrefixSearch {
	private readonly label: Uint16Array;
	private readonly first: Int32Array;
	private readonly slot: Int32Array;
	/** The root's child for each code unit, or -1 (256 kB). */
	private readonly rootChild = new Int32Array(0x10000).fill(-1);

	// The lattice of the word being split, reused from word to word: per node its start (a code unit
	// offset), the best score from the word's start through it, the node before it on that path, and
	// the next node ending where it ends; per offset, the first and last node ending there.
	private start = new Int32Array(256);
	private back = new Float64Array(256);
	private prev = new Int32Array(256);
	private nextEnd = new Int32Array(256);
	private endHead = new Int32Array(64);
	private endTail = new Int32Array(64);
	private nodes = 0;

	/**
	 * `sorted`: distinct pieces in JavaScript's string order, `ids` the model's ids of pieces, `scores`
	 * its scores by id.
	 */
	constructor(
		sorted: readonly string[],
		ids: ReadonlyMap<string, number>,
		private readonly scores: readonly number[],
	) {
		// One node per distinct prefix: the root, then each piece's units past its common prefix with
		// the piece before it.
		let count = 1;
		for (let i = 0; i < sorted.length; i++) {
			const piece = sorted[i]!;
			const before = i > 0 ? sorted[i - 1]! : '';
			let common = 0;
			while (common < before.length && common < piece.length && before.charCodeAt(common) === piece.charCodeAt(common)) common++;
			count += piece.length - common;
		}
		const label = (this.label = new Uint16Array(count));
		const first = (this.first = new Int32Array(count + 1));
		const slot = (this.slot = new Int32Array(count));
		// Breadth first, one depth after another: node n stands for the pieces sorted[first[n]] to
		// sorted[slot[n]] (exclusive) until it is expanded (the two arrays hold that range until then, so
		// the build needs no array of its own), which share their first d units; the one that has no
		// more (if any) is the first of them.
		slot[0] = sorted.length;
		let made = 1;
		let d = 0;
		let depthEnd = 1;
		for (let n = 0; n < count; n++) {
			if (n === depthEnd) {
				d++;
				depthEnd = made;
			}
			let i = first[n]!;
			const end = slot[n]!;
			first[n] = made;
			slot[n] = -1;
			if (i < end && sorted[i]!.length === d) {
				// The empty piece is never matched: the package's trie yields a piece only after a character.
				if (d > 0) slot[n] = ids.get(sorted[i]!)!;
				i++;
			}
			while (i < end) {
				const unit = sorted[i]!.charCodeAt(d);
				let j = i + 1;
				while (j < end && sorted[j]!.charCodeAt(d) === unit) j++;
				label[made] = unit;
				first[made] = i;
				slot[made] = j;
				made++;
				i = j;
			}
		}
		this.first[count] = made;
		for (let n = this.first[0]!; n < this.first[1]!; n++) this.rootChild[this.label[n]!] = n;
	}

	/** The child of `node` along `unit`, or -1: a binary search of its sorted children, the last few in turn. */
	private child(node: number, unit: number): number {
		const label = this.label;
		let a = this.first[node]!;
		const b = this.first[node + 1]!;
		let c = b;
		while (c - a > 8) {
			const m = (a + c) >>> 1;
			if (label[m]! < unit) a = m + 1;
			else c = m;
		}
		while (a < c && label[a]! < unit) a++;
		return a < b && label[a] === unit ? a : -1;
	}

	/** As the package's trie (which its own `populate_nodes` calls): the pieces that start `chars[start..]`, shortest first. */
	common_prefix_search(chars: string[], start = 0): string[] {
		const found: string[] = [];
		let node = 0;
		let prefix = '';
		for (let i = start; i < chars.length; i++) {
			const ch = chars[i]!;
			for (let k = 0; k < ch.length && node >= 0; k++) node = this.child(node, ch.charCodeAt(k));
			if (node < 0) break;
			prefix += ch;
			if (this.slot[node]! >= 0) found.push(prefix);
		}
		return found;
	}

	/**
	 * The package's `Unigram.tokenize(word)`: the lattice its `populate_nodes` builds and the path its
	 * `TokenLattice.viterbi` picks. At each start (a code point), every piece that starts there, and an
	 * unknown node of one code point scored `unkScore` when no piece of one code point does. A node's
	 * best path is the best of those ending where it starts, each summed with the node's own score (so
	 * rounding decides as it does there), the first of equals in the order the package lists them: by
	 * where they start, earliest first. The word's end takes the best path ending there, the same way.
	 */
	tokenize(word: string, unkScore: number): string[] {
		const length = word.length;
		if (length === 0) return [];
		if (this.endHead.length <= length) {
			this.endHead = new Int32Array(2 * length + 2);
			this.endTail = new Int32Array(2 * length + 2);
		}
		this.endHead.fill(-1, 0, length + 1);
		// Node 0 is the word's start, scored 0 (the package's BOS node).
		this.nodes = 0;
		this.add(0, 0, -1, 0);
		const { label, first, slot, scores, rootChild } = this;
		for (let s = 0; s < length;) {
			const next = isHigh(word.charCodeAt(s)) && s + 1 < length && isLow(word.charCodeAt(s + 1)) ? s + 2 : s + 1;
			let single = false;
			// The root's child along the first unit straight from a table: every start asks it.
			let node = rootChild[word.charCodeAt(s)]!;
			if (node < 0) {
				this.insert(s, next, unkScore);
				s = next;
				continue;
			}
			for (let j = s + 1; ;) {
				// A piece that ends inside one of the word's surrogate pairs (a lone high surrogate) ends where
				// no node starts and is not the word's end: a node no path goes on from, as if not there.
				const piece = slot[node]!;
				if (piece >= 0) {
					// As `populate_nodes`: a score past the model's (an added token's id) is undefined, NaN in a sum.
					this.insert(s, j, scores[piece] as number);
					if (j === next) single = true;
				}
				if (j === length) break;
				// The child along unit j, as `child` (inlined: this loop is most of a word's time).
				const unit = word.charCodeAt(j);
				let a = first[node]!;
				const b = first[node + 1]!;
				let c = b;
				while (c - a > 8) {
					const m = (a + c) >>> 1;
					if (label[m]! < unit) a = m + 1;
					else c = m;
				}
				while (a < c && label[a]! < unit) a++;
				if (a === b || label[a] !== unit) break;
				node = a;
				j++;
			}
			if (!single) this.insert(s, next, unkScore);
			s = next;
		}
		// The end (the package's EOS node, scored 0) after the best path ending at the word's end.
		const { back, nextEnd, start, prev } = this;
		let best = -1;
		let bestScore = 0;
		for (let l = this.endHead[length]!; l >= 0; l = nextEnd[l]!) {
			const total = back[l]! + 0;
			if (best < 0 || total > bestScore) {
				best = l;
				bestScore = total;
			}
		}
		const tokens: string[] = [];
		let end = length;
		for (let n = best; n > 0; n = prev[n]!) {
			tokens.push(word.slice(start[n], end));
			end = start[n]!;
		}
		return tokens.reverse();
	}

	/** A node from `s` to `e` scored `nodeScore`, after the best path ending at `s`. */
	private insert(s: number, e: number, nodeScore: number): void {
		const { back, nextEnd } = this;
		let best = -1;
		let bestScore = 0;
		// `>`, not `>=`: the first of equal paths stays, as in the package's Viterbi.
		for (let l = this.endHead[s]!; l >= 0; l = nextEnd[l]!) {
			const total = back[l]! + nodeScore;
			if (best < 0 || total > bestScore) {
				best = l;
				bestScore = total;
			}
		}
		this.add(s, e, best, bestScore);
	}

	private add(s: number, e: number, prev: number, backScore: number): void {
		const n = this.nodes++;
		if (n === this.start.length) this.grow();
		this.start[n] = s;
		this.prev[n] = prev;
		this.back[n] = backScore;
		this.nextEnd[n] = -1;
		// Appended: the nodes ending at e stay in the order of their starts.
		if (this.endHead[e]! < 0) this.endHead[e] = n;
		else this.nextEnd[this.endTail[e]!] = n;
		this.endTail[e] = n;
	}

	private grow(): void {
		const size = 2 * this.start.length;
		const start = new Int32Array(size);
		const prev = new Int32Array(size);
		const back = new Float64Array(size);
		const nextEnd = new Int32Array(size);
		start.set(this.start);
		prev.set(this.prev);
		back.set(this.back);
		nextEnd.set(this.nextEnd);
		Object.assign(this, { start, prev, back, nextEnd });
	}
}

/** Words the fast path must split as the package does before it is used (see `newTokenizer`). */
const PROBES = [
	'',
	'\u2581',
	'\u2581the',
	'\u2581hello\u2581world',
	'aaaaaaaa',
	'\u2581\u2581\u2581',
	'x\ud83d\ude00\u0301y',
	'\u65e5\u672c\u8a9e',
	'\ud800a',
];

function sameTokens(a: readonly string[], b: readonly string[]): boolean {
	return a.length === b.length && a.every((t, i) => t === b[i]);
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
		typeof m.tokenize === 'function' &&
		typeof m.trie?.common_prefix_search === 'function' &&
		Array.isArray(m.vocab) &&
		Array.isArray(m.scores) &&
		m.tokens_to_ids instanceof Map &&
		typeof m.min_score === 'number' &&
		typeof m.unk_score === 'number'
	);
}

/**
 * The vocabulary's pieces only (the package's trie holds no added token), each once, each with the id
 * `populate_nodes` looks up: the one `tokens_to_ids` has once added tokens are in (an added token with
 * a piece's content takes its id).
 */
function pieceTrie(pieces: readonly Piece[], m: UnigramModel): PieceTrie {
	const sorted = pieces.map(p => p[0]).sort();
	// Each once (equal pieces are neighbours once sorted), in place: no Set of 128k strings at load.
	let kept = 0;
	for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[kept - 1]) sorted[kept++] = sorted[i]!;
	sorted.length = kept;
	return new PieceTrie(sorted, m.tokens_to_ids, m.scores);
}

/** PROBES, and words glued from a few pieces from here and there in the vocabulary. */
function probeWords(pieces: readonly Piece[]): string[] {
	const glued = [1, 2, 3, 4].map(k => {
		const at = Math.floor((k * pieces.length) / 5);
		return pieces
			.slice(at, at + 4)
			.map(p => p[0])
			.join('');
	});
	return [...PROBES, ...glued];
}

/** `new Tokenizer(json, config)`, for a Unigram model without the package's trie and lattice. */
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

	// As the Tokenizer constructor: added tokens take their ids in the model's maps.
	for (const token of added as Array<{ content: string; id: number }>) {
		m.tokens_to_ids.set(token.content, token.id);
		m.vocab[token.id] = token.content;
	}

	const trie = pieceTrie(pieces, m);
	m.trie = trie;

	// The package's `tokenize(word)` (one pre-tokenized word: lattice, Viterbi, the pieces' strings),
	// straight over the word; `encode` and `_call` (unknowns fused) stay the package's. First a check
	// that the package's lattice is the one copied here (a later version could pick another path among
	// equals): a few words, some glued from pieces, split by both over the same trie.
	const own = m.tokenize.bind(m);
	const fast = (word: string) => trie.tokenize(word, m.unk_score);
	if (!probeWords(pieces).every(word => sameTokens(fast(word), own(word)))) return new Tokenizer(json, config);
	m.tokenize = fast;
	return tokenizer;
}

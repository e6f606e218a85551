/**
 * A model's config and tokenizer read from files already on disk with @huggingface/tokenizers alone,
 * so the scorer's process does not load transformers.js (~25 MB resident: its code, the web runtime it
 * inlines) just to tokenize. transformers.js 4.x tokenizes with that very package (a bundled copy of
 * the same version); what it adds is the class a `tokenizer_class` names, which decides whether pairs
 * get token type ids. So this path takes only the model types and tokenizer classes listed here, whose
 * classes add nothing else (as of transformers.js 4.3.1; test/unit/localTokenizer.test.ts checks both
 * lists and the ids against transformers.js itself). Anything else, and any file that is missing or
 * does not parse, returns `undefined`: the scorer then loads through transformers.js, which downloads,
 * and names the damage, as before.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { newTokenizer } from './compactUnigram';

/** Encoder model types transformers.js classifies sequences with (AutoModelForSequenceClassification). */
export const LOCAL_MODEL_TYPES: ReadonlySet<string> = new Set([
	'albert',
	'bert',
	'camembert',
	'convbert',
	'deberta',
	'deberta-v2',
	'distilbert',
	'electra',
	'mobilebert',
	'modernbert',
	'mpnet',
	'roberta',
	'roformer',
	'squeezebert',
	'xlm-roberta',
]);

/**
 * Tokenizer classes (without "Fast") whose transformers.js class changes nothing but token type ids:
 * `true` when pairs get them. A missing `tokenizer_class` is transformers.js's base class.
 */
export const LOCAL_TOKENIZER_CLASSES: Readonly<Record<string, boolean>> = {
	AlbertTokenizer: true,
	BertTokenizer: true,
	ConvBertTokenizer: true,
	DebertaTokenizer: true,
	DebertaV2Tokenizer: true,
	ElectraTokenizer: true,
	MobileBertTokenizer: true,
	RoFormerTokenizer: true,
	SqueezeBertTokenizer: true,
	CamembertTokenizer: false,
	DistilBertTokenizer: false,
	MPNetTokenizer: false,
	PreTrainedTokenizer: false,
	RobertaTokenizer: false,
	TokenizersBackend: false,
	XLMRobertaTokenizer: false,
};

/** What the scorer reads of a model's config.json. */
export interface ModelConfig {
	readonly model_type?: unknown;
	readonly max_position_embeddings?: unknown;
	readonly pad_token_id?: unknown;
}

/** The parts of @huggingface/tokenizers' `Tokenizer` the scorer uses (its types do not resolve under Node16). */
export interface InnerTokenizer {
	post_processor: ((tokens: string[], pair: string[] | null, addSpecialTokens: boolean) => PostProcessed) | null;
	model: { unk_token_id?: number } | null;
	token_to_id(token: string): number | undefined;
	get_added_tokens_decoder(): Map<number, { content: string }>;
	tokenize(text: string, options: { text_pair: string | null; add_special_tokens: boolean }): string[];
}
export interface PostProcessed {
	tokens: string[];
	token_type_ids?: number[];
}

/** What the scorer needs of a tokenizer: the members of transformers.js's `PreTrainedTokenizer` it reads. */
export interface PairTokenizer {
	readonly _tokenizer: unknown;
	readonly return_token_type_ids: boolean;
	readonly padding_side: string;
	readonly pad_token_id?: number | null;
	readonly model_max_length: number;
	tokenize(text: string): string[];
}

/** As transformers.js's `getTokenFromConfig`: a token named as a string or as an AddedToken. */
function tokenFromConfig(config: Record<string, unknown>, ...keys: string[]): string | undefined {
	for (const key of keys) {
		const item = config[key];
		if (!item) continue;
		if (typeof item === 'string') return item;
		if (typeof item === 'object' && (item as { __type?: unknown }).__type === 'AddedToken')
			return String((item as { content: unknown }).content);
		// transformers.js rejects anything else; the caller's fallback lets it say so.
		throw new Error(`unknown token in ${key}`);
	}
	return undefined;
}

/** The tokenizer as transformers.js's `PreTrainedTokenizer` constructor sets up what the scorer reads. */
class LocalTokenizer implements PairTokenizer {
	readonly padding_side: string;
	readonly pad_token_id: number | null;
	readonly model_max_length: number;

	constructor(
		readonly _tokenizer: InnerTokenizer,
		config: Record<string, unknown>,
		readonly return_token_type_ids: boolean,
	) {
		this.padding_side = typeof config.padding_side === 'string' ? config.padding_side : 'right';
		const pad = tokenFromConfig(config, 'pad_token', 'eos_token');
		this.pad_token_id = pad === undefined ? null : (_tokenizer.token_to_id(pad) ?? null);
		this.model_max_length = typeof config.model_max_length === 'number' ? config.model_max_length : Infinity;
	}

	tokenize(text: string): string[] {
		return this._tokenizer.tokenize(text, { text_pair: null, add_special_tokens: false });
	}
}

function readJson(file: string): Record<string, unknown> | undefined {
	try {
		const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
		return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The package keeps the parsed tokenizer.json for the tokenizer's life (as the Tokenizer's `tokenizer`
 * and its model's `config`), though a model reads the vocabulary and merges only while it is built,
 * into maps and arrays of its own. Dropping the parsed copies frees them: about 5 MB of heap for a
 * 50k-token byte-level BPE, 12 MB for 150k, 1.5 MB for BERT's WordPiece (bench/RESULTS.md).
 */
function releaseParsedVocabulary(tokenizer: InnerTokenizer): void {
	const parsed = (tokenizer as { tokenizer?: { model?: Record<string, unknown> } }).tokenizer?.model;
	const model = tokenizer.model as { tokens_to_ids?: unknown; vocab?: unknown } | null;
	// Only when the model holds its own copy: another version of the package might read the JSON's.
	if (!parsed || !(model?.tokens_to_ids instanceof Map) || !Array.isArray(model.vocab) || model.vocab === parsed.vocab) return;
	delete parsed.vocab;
	delete parsed.merges;
}

/**
 * The config and tokenizer of the model in `folder`, or `undefined` when this path does not take it
 * (see the header): the caller then loads both through transformers.js.
 */
export function loadLocalTokenizer(folder: string): { config: ModelConfig; tokenizer: PairTokenizer } | undefined {
	const config = readJson(path.join(folder, 'config.json'));
	if (!config || !LOCAL_MODEL_TYPES.has(String(config.model_type))) return undefined;
	const tokenizerConfig = readJson(path.join(folder, 'tokenizer_config.json'));
	if (!tokenizerConfig) return undefined;
	const className =
		typeof tokenizerConfig.tokenizer_class === 'string' ? tokenizerConfig.tokenizer_class.replace(/Fast$/, '') : 'PreTrainedTokenizer';
	const typeIds = LOCAL_TOKENIZER_CLASSES[className];
	if (typeIds === undefined) return undefined;
	const json = readJson(path.join(folder, 'tokenizer.json'));
	if (!json) return undefined;
	try {
		const { Tokenizer } = require('@huggingface/tokenizers') as { Tokenizer: new (json: object, config: object) => InnerTokenizer };
		// A Unigram vocabulary without the package's trie (compactUnigram.ts): the same ids, far less memory.
		const inner = newTokenizer(Tokenizer, json, tokenizerConfig);
		releaseParsedVocabulary(inner);
		return { config, tokenizer: new LocalTokenizer(inner, tokenizerConfig, typeIds) };
	} catch {
		// A tokenizer.json this version cannot build, a token it cannot read: transformers.js says which.
		return undefined;
	}
}

/**
 * The pure scoring module: loads a reward model (its files read by transformers.js, or without it when
 * they are on disk, see localTokenizer.ts; the session opened with onnxruntime-node) and turns
 * (prompt, response) pairs into raw logits. No worker and no `vscode` here: the reward worker runs it in its own process,
 * and the CLI and unit tests may run it in-process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import type * as Ort from 'onnxruntime-node';
import { BestOfNError, errorMessage, type ErrorKind, type SettingField } from '../core/errors';
import type { LoadProgress, RewardModelInfo, RewardPair } from '../core/reward';
import type { RewardDtype } from '../core/settings';
import type { LoadRequest } from '../core/workerProtocol';
import {
	forwardProgress,
	configureTransformersEnv,
	hubName,
	isDirectory,
	isFileNotFound,
	locateModel,
	networkReason,
	onnxFilesIn,
	readFailure,
} from '../core/modelFiles';
import { CostEstimator, planBatches, type TokenCosts } from './batchPlan';
import { externalDataCopy, hasWeights, releaseWeights } from './externalData';
import { loadLocalTokenizer, type InnerTokenizer, type ModelConfig, type PairTokenizer } from './localTokenizer';
import { discardOptimizedGraph, optimizedGraph, optimizedPath, type OptimizeOptions } from './optimizedGraph';

// Callers of the scorer have always found these here; they live in core now, shared with the built-in generator.
export { hubEndpoint, isDirectory, locateModel, onnxFilesIn, type ModelLocation } from '../core/modelFiles';

export interface LoadedRewardModel {
	readonly info: RewardModelInfo;
	/** Raw logits (`logits[i][0]`), one per pair, in order. */
	score(pairs: readonly RewardPair[]): Promise<number[]>;
	/**
	 * Readies what a first score would otherwise do for the first time, at a small and bounded cost:
	 * the tokenizer's code over a paragraph, and one forward pass of a few tokens (onnxruntime's
	 * first-run work). Says how many tokens each saw.
	 */
	warmUp(): Promise<WarmUpDone>;
	/**
	 * The heap a first pass at the model's longest input (a quantized model's: at most 256 tokens,
	 * `touchLength`) takes beyond the warm-up's (`firstPassBytes`): what the worker readies before the
	 * first score.
	 */
	readonly firstPassBytes: number;
	/** Releases the onnxruntime session. */
	dispose(): Promise<void>;
}

/** What a warm-up did: the tokens of the forward pass it ran, and of the text it tokenized. */
export interface WarmUpDone {
	readonly passTokens: number;
	readonly tokenized: number;
}

/** The file transformers.js loads for each dtype (its DEFAULT_DTYPE_SUFFIX_MAPPING). */
export const ONNX_FILE: Readonly<Record<RewardDtype, string>> = {
	fp32: 'model.onnx',
	fp16: 'model_fp16.onnx',
	q8: 'model_quantized.onnx',
	int8: 'model_int8.onnx',
	uint8: 'model_uint8.onnx',
	q4: 'model_q4.onnx',
};

/**
 * Dynamically quantized models quantize activations per call, so a pair's score moves with its batch
 * neighbours (measured: up to 0.025 logit). They score one pair at a time; fp32 and fp16 batch.
 */
const BATCH_DEPENDENT: ReadonlySet<RewardDtype> = new Set<RewardDtype>(['q8', 'int8', 'uint8', 'q4']);

/** Used when neither the tokenizer nor the config states a usable length (HF's "1e30" means unset). */
export const FALLBACK_MAX_LENGTH = 512;

// Loaded on first use, with `require` so that the worker bundle, tsx and the CLI all get the same
// (CommonJS) build, and importing this module stays cheap for whoever only needs its types. Only a
// load that needs transformers.js (a download, or files the local path does not take) loads it.
function transformers(): typeof Transformers {
	return needsOnnxruntime(() => require('@huggingface/transformers') as typeof Transformers);
}

let ortModule: typeof Ort | undefined;

/**
 * onnxruntime-node, the very instance transformers.js runs on (it is external to every bundle). Kept
 * once loaded: `require` resolves the name again at each call, which took ~0.1 ms of every score in
 * the scorer's process after a pause (bench/RESULTS.md, "Our call around session.run, step by step").
 */
function onnxruntime(): typeof Ort {
	return (ortModule ??= needsOnnxruntime(() => require('onnxruntime-node') as typeof Ort));
}

function needsOnnxruntime<T>(load: () => T): T {
	try {
		return load();
	} catch (e) {
		// Loading either loads onnxruntime's native binding for this platform; a package for a platform
		// onnxruntime-node has no build for (Intel macs, as of 1.30) has none to load.
		if (/onnxruntime_binding\.node/.test(errorMessage(e))) {
			throw fail(
				'reward-failed',
				`Local reward models need onnxruntime, which has no build for ${process.platform}-${process.arch} in this package; rank with a reward model served over HTTP or by consensus (bestOfN.ranker).`,
				e,
			);
		}
		throw e;
	}
}

function innerTokenizer(tokenizer: PairTokenizer): InnerTokenizer {
	return tokenizer._tokenizer as InnerTokenizer;
}

/**
 * A count read from a model's config or tokenizer settings, or undefined when it is not one: not a
 * positive number, or a million or more (HF's way of saying "unset").
 */
const configCount = (v: unknown): number | undefined =>
	typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1e6 ? Math.floor(v) : undefined;

/**
 * The longest input the model takes: the tokenizer's `model_max_length`, capped by the config's
 * position embeddings.
 */
export function effectiveMaxLength(
	tokenizerMax: unknown,
	config: { max_position_embeddings?: unknown; model_type?: unknown; pad_token_id?: unknown },
): number {
	let positions = configCount(config.max_position_embeddings);
	// RoBERTa-style models number positions from padding_idx + 1, so 514 embeddings hold 512 tokens.
	if (positions !== undefined && ['roberta', 'xlm-roberta', 'camembert'].includes(String(config.model_type))) {
		positions -= (configCount(config.pad_token_id) ?? 1) + 1;
	}
	const limits = [configCount(tokenizerMax), positions].filter((v): v is number => v !== undefined && v > 0);
	return limits.length ? Math.min(...limits) : FALLBACK_MAX_LENGTH;
}

/**
 * The heap onnxruntime's arena takes, beyond what a few-token pass left it, at the first pass of
 * `length` tokens, estimated from the model's shape: what the worker readies before the first score
 * (heapTouch.ts). A pass holds about one layer's activations at a time, and at a few hundred tokens
 * the attention's dominate: per head, `length` rows of `length` scores (and, with DeBERTa's relative
 * attention, of twice its position buckets more), in float32, a few at once, and the arena grows in
 * doubling regions. 24 bytes × heads × length × (length + relative span) is about what the first
 * pass added to the resident memory of the bench's BERT-base and DeBERTa-v3-base at 374–512 tokens
 * (fp32, MiB measured / estimated: BERT 40 / 38 at 374 tokens, 55 / 64 at 483; DeBERTa-v3 112 / 105
 * at 414, 126 / 144 at 512; 8-bit models take 10–30 less), bench/RESULTS.md, "Pre-touching the heap
 * in slices". The `length × hidden` tensors (1–2 MB each at these sizes) are left out.
 */
export function firstPassBytes(
	config: {
		num_attention_heads?: unknown;
		relative_attention?: unknown;
		position_buckets?: unknown;
		max_relative_positions?: unknown;
	},
	length: number,
): number {
	const heads = configCount(config.num_attention_heads) ?? 12;
	// DeBERTa: c2p and p2c scores against 2 × the buckets' relative positions (or the maximum distance).
	const span =
		config.relative_attention === true
			? 2 * (configCount(config.position_buckets) ?? configCount(config.max_relative_positions) ?? length)
			: 0;
	return 24 * heads * length * (length + span);
}

/**
 * The length the worker readies a first pass's heap for (`firstPassBytes`): the model's longest input
 * for fp32 and fp16, at most 256 tokens for a quantized dtype. Readied heap the first score's pass does
 * not take stays resident, so it adds to the peak; the 8-bit bench models were already above figure
 * 5b's target (peak ≤ 1.5 × the model file), and readying 512 tokens' worth raised their peak by 52–79 MB.
 * At 256 tokens (18 MiB BERT-base, 54 MiB DeBERTa-v3-base), under what their pass at the quick pair's
 * 374–414 tokens takes (25 and 85 MiB), the peak stayed within a few MB of main's and first ÷ second
 * went from 1.32–1.89 to 1.05–1.57 (bench/RESULTS.md, "Quantized models: the heap readied for 256 tokens").
 */
export const QUANTIZED_TOUCH_LENGTH = 256;

export function touchLength(dtype: RewardDtype, maxLength: number): number {
	return BATCH_DEPENDENT.has(dtype) ? Math.min(maxLength, QUANTIZED_TOUCH_LENGTH) : maxLength;
}

/**
 * The session options the scorer opens every model with. `threads` 0 lets onnxruntime choose (it uses
 * every core). Memory patterns are off: with them onnxruntime plans one block for all of a shape's
 * intermediate tensors and keeps it in its arena, and the scorer's inputs change shape at every pair.
 * Measured on base-sized encoders, 374 tokens, a fresh process each (bench/RESULTS.md, "Memory
 * patterns off, and a scorer without transformers.js"): peak 20 MB lower for an 8-bit BERT, 72 MB for
 * an 8-bit DeBERTa-v3, 18–73 MB for fp32 ones, with 0.82–1.01× the time for the same runs.
 */
export function scorerSessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
	return { ...(threads > 0 ? { intraOpNumThreads: threads } : {}), enableMemPattern: false };
}

// ---- Errors ------------------------------------------------------------------------------------

// Settings are named as `{field}` placeholders, which each front end renders (see core/errors.ts).
const WAY_OUT = 'Set {rewardModel} to a local folder, or to a Hub id with an ONNX export, or set {ranker} to consensus.';

function fail(kind: ErrorKind, message: string, cause?: unknown, setting: SettingField = 'rewardModel'): BestOfNError {
	return new BestOfNError(kind, message, { cause, setting });
}

function notFound(model: string, reason: string, cause?: unknown): BestOfNError {
	return fail('reward-not-found', `Could not load the reward model ${model}: ${reason}. ${WAY_OUT}`, cause);
}

function conversionHint(model: string): string {
	return `convert it once with \`optimum-cli export onnx --model ${model} --task text-classification <folder>\` and set {rewardModel} to that folder`;
}

function noOnnx(model: string, dtype: RewardDtype, lookedFor: string, others: readonly string[] = []): BestOfNError {
	const usable = others.map(f => {
		const d = (Object.keys(ONNX_FILE) as RewardDtype[]).find(k => ONNX_FILE[k] === f);
		return d ? `${f} (dtype ${d})` : f;
	});
	const found = usable.length ? `; it has ${usable.join(', ')}, which {rewardDtype} can select` : '';
	return fail(
		'reward-no-onnx',
		`The reward model ${model} has no ONNX export for dtype ${dtype} (looked for ${lookedFor}${found}); ${conversionHint(model)}.`,
		undefined,
		usable.length ? 'rewardDtype' : 'rewardModel',
	);
}

/**
 * A file of the model that is there but cannot be read (a copy or download cut short, a disk fault):
 * named with its path, since the way out is to replace that file; `cached` when it is the download
 * cache's copy of a Hub model.
 */
function damagedFile(model: string, file: string, why: string, cached: boolean, cause: unknown): BestOfNError {
	return fail(
		'reward-failed',
		`The reward model ${model} has a damaged file: ${file} ${why}; it may be truncated. ` +
			(cached
				? `Delete it from the download cache so it is downloaded again, or set {ranker} to consensus.`
				: `Copy or export the model into that folder again, or set {ranker} to consensus.`),
		cause,
	);
}

/** Classifies a failure to fetch the config or tokenizer (the first things read) of a Hub id. */
function hubFailure(request: LoadRequest, e: unknown, file: string, folder: string, cached: boolean): BestOfNError {
	const why = readFailure(e, file, folder, request.allowRemote);
	if (why?.kind === 'damaged') return damagedFile(request.model, why.file, why.why, cached, e);
	if (why) return notFound(request.model, why.reason, e);
	return fail('reward-failed', `Could not load the reward model ${request.model}: ${errorMessage(e)}`, e);
}

// ---- Loading -----------------------------------------------------------------------------------

/**
 * Loads tokenizer and model. Rejects with a `BestOfNError` of kind `reward-not-found`,
 * `reward-no-onnx` or `reward-failed` whose message names the model and the way out.
 */
export async function loadRewardModel(
	request: LoadRequest,
	onProgress?: (p: LoadProgress) => void,
	options: {
		readonly costs?: TokenCosts;
		/** Where a load that went on the slower or costlier way says so (default: stderr, the worker's log). */
		readonly log?: (line: string) => void;
		/** Which files get an external-data copy (tests: the tiny models are far below the default size). */
		readonly externalData?: Parameters<typeof externalDataCopy>[2];
		/** The optimising child's program and time limit (tests: one that cannot start). */
		readonly optimize?: Omit<OptimizeOptions, 'log'>;
		/**
		 * Called once the tokenizer is built, before onnxruntime opens the model: the scorer's process
		 * collects the garbage of reading tokenizer.json there (worker.ts says why).
		 */
		readonly beforeSession?: () => void;
	} = {},
): Promise<LoadedRewardModel> {
	const log = options.log ?? ((line: string) => console.warn(`[rewardWorker] ${line}`));
	onnxruntime();
	const where = locateModel(request.model);
	const model = request.model;
	const onnxFile = ONNX_FILE[request.dtype];

	/** transformers.js, set up for this load. */
	const setUp = (): typeof Transformers => {
		const T = transformers();
		configureTransformersEnv(T.env, where, request.cacheDir, request.allowRemote);
		return T;
	};

	// An absolute path is not a valid Hub id, so transformers.js reads it as is (no localModelPath join).
	const location = where.source === 'local' ? where.dir : where.id;
	let subfolder = 'onnx';
	if (where.source === 'local') {
		if (!isDirectory(where.dir)) throw notFound(model, `the folder ${where.dir} does not exist`);
		if (!fs.existsSync(path.join(where.dir, 'config.json')))
			throw notFound(model, `the folder ${where.dir} has no config.json, so it is not a model folder`);
		if (!fs.existsSync(path.join(where.dir, 'tokenizer.json'))) {
			throw fail(
				'reward-no-onnx',
				`The reward model ${model} has no tokenizer.json, which transformers.js needs; ${conversionHint(model)} (the export writes one).`,
			);
		}
		if (!fs.existsSync(path.join(where.dir, 'onnx', onnxFile))) {
			// `optimum-cli export onnx` writes model.onnx next to config.json rather than under onnx/.
			if (fs.existsSync(path.join(where.dir, onnxFile))) subfolder = '';
			else throw noOnnx(model, request.dtype, path.join(where.dir, 'onnx', onnxFile), onnxFilesIn(where.dir));
		}
	}

	// Where the files are read from: the folder, or a Hub model's copy in the download cache.
	const folder = where.source === 'local' ? where.dir : path.join(request.cacheDir, where.id);
	const cached = where.source === 'hub';
	const progress_callback = onProgress ? (info: Transformers.ProgressInfo) => forwardProgress(info, onProgress) : undefined;
	const common = { cache_dir: request.cacheDir, local_files_only: !request.allowRemote, progress_callback };
	const onDisk = path.join(folder, subfolder, onnxFile);

	// With every file on disk, config and tokenizer are read without transformers.js (localTokenizer.ts).
	const local = fs.existsSync(onDisk) ? loadLocalTokenizer(folder) : undefined;
	let config: ModelConfig;
	let tokenizer: PairTokenizer;
	/** transformers.js's own config, when it read it: a download hands it on. */
	let loadedConfig: Transformers.PretrainedConfig | undefined;
	if (local) {
		({ config, tokenizer } = local);
	} else {
		const T = setUp();
		try {
			config = loadedConfig = await T.AutoConfig.from_pretrained(location, common);
		} catch (e) {
			throw hubFailure(request, e, 'config.json', folder, cached);
		}
		const modelType = String(config.model_type);
		if (!T.AutoModelForSequenceClassification.supports(modelType)) {
			throw fail(
				'reward-failed',
				`The reward model ${model} is a "${modelType}" model, which transformers.js cannot run for sequence classification; set {rewardModel} to an encoder reward model (BERT, DeBERTa, RoBERTa, ELECTRA, ModernBERT), or set {ranker} to consensus.`,
			);
		}
		try {
			tokenizer = await T.AutoTokenizer.from_pretrained(location, common);
		} catch (e) {
			if (isFileNotFound(e) && !networkReason(e) && request.allowRemote) {
				throw fail(
					'reward-no-onnx',
					`The reward model ${model} has no tokenizer.json, which transformers.js needs; ${conversionHint(model)} (the export writes one).`,
					e,
				);
			}
			throw hubFailure(request, e, 'tokenizer.json', folder, cached);
		}
	}

	options.beforeSession?.();
	const relative = subfolder ? `${subfolder}/${onnxFile}` : onnxFile;
	const sessionOptions = scorerSessionOptions(request.threads);
	let session: Ort.InferenceSession;
	try {
		if (fs.existsSync(onDisk)) {
			// onnxruntime reads the file itself. transformers.js would open it too, but its Node file
			// response first starts streaming the whole file into buffers nothing reads (4.3.1), which
			// doubles the load's peak memory until a later garbage collection. A large single-file model
			// is opened from its external-data copy, which onnxruntime maps rather than copies.
			// Its graph is optimised once, beside that copy, so the load has nothing left to fold.
			onProgress?.({ file: relative, status: 'initiate' });
			const copy = externalDataCopy(onDisk, request.cacheDir, options.externalData);
			const writtenNow = copy !== onDisk && !fs.existsSync(optimizedPath(copy));
			const optimized = copy === onDisk ? copy : await optimizedGraph(copy, { ...options.optimize, log });
			session = await openSession(optimized, copy, onDisk, writtenNow, sessionOptions, log);
			onProgress?.({ file: relative, status: 'done' });
		} else {
			// Not downloaded yet: transformers.js fetches it into the cache (with progress) and opens it.
			const model = await setUp().AutoModelForSequenceClassification.from_pretrained(location, {
				...common,
				...(loadedConfig ? { config: loadedConfig } : {}),
				dtype: request.dtype,
				subfolder,
				session_options: sessionOptions,
			});
			const opened = (model.sessions as Record<string, Ort.InferenceSession | undefined>).model;
			if (!opened) throw new Error('transformers.js opened no "model" session');
			session = opened;
		}
	} catch (e) {
		const net = networkReason(e);
		if (net) throw notFound(model, `${hubName()} could not be reached (${net})`, e);
		// Offline, a Hub model's export may exist but not be cached (e.g. after a dtype change).
		if (isFileNotFound(e) && where.source === 'hub' && !request.allowRemote)
			throw notFound(model, `${relative} is not in the download cache and downloads are turned off`, e);
		if (isFileNotFound(e)) throw noOnnx(model, request.dtype, relative);
		// onnxruntime: "Load model from PATH failed:Protobuf parsing failed." for a truncated or garbled file.
		if (/protobuf parsing failed/i.test(errorMessage(e)))
			throw damagedFile(model, onDisk, 'is not a readable ONNX model (Protobuf parsing failed)', cached, e);
		throw fail('reward-failed', `Could not load the reward model ${model}: ${errorMessage(e)}`, e);
	}

	const info: RewardModelInfo = {
		id: model,
		maxLength: effectiveMaxLength(tokenizer.model_max_length, config),
		source: where.source,
	};
	onProgress?.({ file: model, status: 'ready' });
	return new OnnxRewardModel(
		info,
		tokenizer,
		session,
		BATCH_DEPENDENT.has(request.dtype),
		firstPassBytes(config as Parameters<typeof firstPassBytes>[0], touchLength(request.dtype, info.maxLength)),
		options.costs,
	);
}

/**
 * Opens `file`; if that is an optimised graph onnxruntime cannot open, the copy it was made from, or
 * the `original` when the copy's weights were released for that graph (`writtenNow`: the graph was
 * written by this load, so its failure is onnxruntime's, not the disk's). Once the optimised graph is
 * open, the copy's weights are released: the graph holds its own.
 */
async function openSession(
	file: string,
	copy: string,
	original: string,
	writtenNow: boolean,
	options: Ort.InferenceSession.SessionOptions,
	log: (line: string) => void,
): Promise<Ort.InferenceSession> {
	const ort = onnxruntime();
	// The copy's weights are gone once a load opened its optimised graph: this one's, or another
	// window's while this one's child was still writing the graph.
	const unoptimized = () => (copy === original || hasWeights(copy) ? copy : original);
	if (file === copy) return ort.InferenceSession.create(unoptimized(), options);
	let session: Ort.InferenceSession;
	try {
		session = await ort.InferenceSession.create(file, options);
	} catch (e) {
		const remembered = discardOptimizedGraph(copy, e, writtenNow);
		log(
			`The reward model's optimised graph ${file} did not load (${errorMessage(e)}); loading the model as is${remembered ? ', and at later loads too' : ''}.`,
		);
		return ort.InferenceSession.create(unoptimized(), options);
	}
	releaseWeights(copy);
	return session;
}

// ---- Scoring -----------------------------------------------------------------------------------

export interface PairInput {
	readonly input_ids: number[];
	/** Present when the tokenizer returns them (BERT, DeBERTa), absent for RoBERTa-style ones. */
	readonly token_type_ids?: number[];
	/** How many prompt and response tokens were dropped to fit `maxLength`. */
	readonly dropped: { readonly prompt: number; readonly response: number };
}

/**
 * Builds one model input from a pair, truncated on token ids to `maxLength` (special tokens
 * included). The tokenizer's own truncation cuts the tail of the whole pair, i.e. the response
 * and the final separator; a reward model must see the response, so we instead:
 *
 * 1. tokenize prompt and response separately without special tokens (`tokenize()`); transformers.js
 *    tokenizes the two texts of a pair separately anyway, so nothing changes at the seam;
 * 2. drop the prompt's head (keep its tail, nearest the response) until the pair fits; only when the
 *    response alone is too long is the response's tail cut;
 * 3. run the tokenizer's own post-processor (its pair template: `[CLS] A [SEP] B [SEP]`, RoBERTa's
 *    double separator, …) on the kept tokens, and map tokens to ids the way `encode` does.
 *
 * For a pair that fits, this yields exactly `tokenizer(prompt, { text_pair: response })` (a unit test
 * checks it). Decoding the cut ids and re-encoding the text was rejected: WordPiece and SentencePiece
 * do not round-trip exactly, so the length after re-encoding is not guaranteed.
 */
export function encodePair(tokenizer: PairTokenizer, pair: RewardPair, maxLength: number, prompts?: PromptTokens): PairInput {
	const inner = innerTokenizer(tokenizer);
	const postProcess = inner.post_processor;
	let prompt = prompts ? prompts.tokens(pair.prompt) : tokenizer.tokenize(pair.prompt);
	let response = tokenizer.tokenize(pair.response);

	const overhead = specialTokens(inner);
	const budget = Math.max(0, maxLength - overhead);
	const dropped = { prompt: 0, response: 0 };
	if (prompt.length + response.length > budget) {
		if (response.length >= budget) {
			dropped.response = response.length - budget;
			dropped.prompt = prompt.length;
			response = response.slice(0, budget);
			prompt = [];
		} else {
			const keep = budget - response.length;
			dropped.prompt = prompt.length - keep;
			prompt = prompt.slice(prompt.length - keep);
		}
	}

	// As in `encode`: an empty second text counts as no pair at all (single-sequence template).
	const second = pair.response ? response : null;
	const processed = postProcess ? postProcess(prompt, second, true) : { tokens: [...prompt, ...response], token_type_ids: undefined };
	const input_ids = processed.tokens.map((t: string) => tokenId(tokenizer, t));
	const typeIds = processed.token_type_ids;
	return tokenizer.return_token_type_ids && typeIds ? { input_ids, token_type_ids: typeIds, dropped } : { input_ids, dropped };
}

/**
 * The tokens of the last few prompts. A run's N pairs share one prompt (the instruction and the whole
 * selection), which the tokenizer would otherwise split again for every pair and every call (measured
 * on BERT's WordPiece: 5 ms for a 1.2 kB prompt, 105 ms for a 45 kB selection, each time).
 */
export class PromptTokens {
	private readonly memo = new Map<string, readonly string[]>();

	constructor(
		private readonly tokenizer: PairTokenizer,
		private readonly size = 4,
	) {}

	/** A fresh array each time: the caller may cut it. */
	tokens(text: string): string[] {
		const known = this.memo.get(text);
		// Deleted and set again: the Map's order is then least recently used first.
		if (known) this.memo.delete(text);
		const tokens = known ?? this.tokenizer.tokenize(text);
		this.memo.set(text, tokens);
		for (const oldest of this.memo.keys()) {
			if (this.memo.size <= this.size) break;
			this.memo.delete(oldest);
		}
		return [...tokens];
	}
}

const addedTokenIds = new WeakMap<object, Map<string, number>>();
const specialTokenCounts = new WeakMap<object, number>();

/** How many tokens the post-processor adds to a pair ([CLS] and two [SEP] for BERT), worked out once per tokenizer. */
function specialTokens(inner: InnerTokenizer): number {
	let count = specialTokenCounts.get(inner);
	if (count === undefined) {
		count = inner.post_processor ? inner.post_processor([], [], true).tokens.length : 0;
		specialTokenCounts.set(inner, count);
	}
	return count;
}

/** Added (special) tokens first, then the model's vocabulary, then unk: the order `encode` uses. */
function tokenId(tokenizer: PairTokenizer, token: string): number {
	const inner = innerTokenizer(tokenizer);
	let added = addedTokenIds.get(inner);
	if (!added) {
		added = new Map([...inner.get_added_tokens_decoder()].map(([id, t]) => [t.content, id]));
		addedTokenIds.set(inner, added);
	}
	const id = added.get(token) ?? inner.token_to_id(token) ?? inner.model?.unk_token_id;
	if (id === undefined) throw new Error(`the tokenizer has no id for the token "${token}" and no unknown token`);
	return id;
}

/** A short pair for `warmUp`: a few tokens, enough to run every operator of the graph once. */
const WARM_UP_PAIR: RewardPair = { prompt: 'Warm up.', response: 'Ready.' };

/**
 * A pair the size of a paragraph, prose and code, which `warmUp` tokenizes but does not run. The first
 * pair a scorer tokenizes takes its tokenizer's code through V8's first compilations: 4–17 ms more
 * than the next for DeBERTa-v3's Unigram tokenizer on a 414-token pair, where the few tokens of
 * `WARM_UP_PAIR` leave it at that (bench/RESULTS.md, "The first score after the load"). Tokenizing
 * this costs ~6 ms. A forward pass at a paragraph's length is not run: it would cost a whole score of
 * CPU while the model server may be generating on the same cores, for a third of that or less off the
 * first score (the rest of the first score's extra is onnxruntime's arena taking fresh pages).
 */
const WARM_UP_PARAGRAPH: RewardPair = {
	prompt: 'Rewrite the selected text so that it reads more clearly; keep its meaning and its names.\n\n',
	response:
		'The scorer loads the model once, then tokenizes each (prompt, response) pair and runs one forward pass ' +
		'per pair. Candidates that complete together are scored together, batched when that is faster on this ' +
		"CPU. It's 2026-12-04: 3 of 4 runs finished in under 1.5 s, and nobody waited.\n\n" +
		'```ts\nexport function total(items: readonly { price: number; count?: number }[]): number {\n' +
		'\treturn items.reduce((sum, item) => sum + item.price * (item.count ?? 1), 0);\n}\n```\n' +
		'Café owners, naïve users and résumé writers all want the same thing — a clear answer, quickly.',
};

class OnnxRewardModel implements LoadedRewardModel {
	private readonly estimator = new CostEstimator();
	private readonly prompts: PromptTokens;

	constructor(
		readonly info: RewardModelInfo,
		private readonly tokenizer: PairTokenizer,
		private readonly session: Ort.InferenceSession,
		private readonly onePairAtATime: boolean,
		readonly firstPassBytes: number,
		/** Fixed costs instead of measured ones (tests: the tiny models are too fast to time). */
		private readonly fixedCosts?: TokenCosts,
	) {
		this.prompts = new PromptTokens(tokenizer);
	}

	async score(pairs: readonly RewardPair[]): Promise<number[]> {
		if (pairs.length === 0) return [];
		try {
			const inputs = pairs.map(p => encodePair(this.tokenizer, p, this.info.maxLength, this.prompts));
			const groups = this.onePairAtATime
				? inputs.map((_, i) => [i])
				: planBatches(
						inputs.map(i => i.input_ids.length),
						this.fixedCosts ?? (width => this.estimator.costs(width)),
					);
			const scores = new Array<number>(inputs.length);
			for (const group of groups) {
				const got = await this.run(group.map(i => inputs[i]!));
				group.forEach((i, k) => (scores[i] = got[k]!));
			}
			return scores;
		} catch (e) {
			throw fail('reward-failed', `The reward model ${this.info.id} failed to score: ${errorMessage(e)}`, e);
		}
	}

	async warmUp(): Promise<WarmUpDone> {
		// Not through `this.prompts`: the paragraph's prompt is no run's, so it must not take a place there.
		const paragraph = encodePair(this.tokenizer, WARM_UP_PARAGRAPH, this.info.maxLength);
		const pass = encodePair(this.tokenizer, WARM_UP_PAIR, this.info.maxLength);
		await this.run([pass], false);
		const tokenized = paragraph.input_ids.length + paragraph.dropped.prompt + paragraph.dropped.response;
		return { passTokens: pass.input_ids.length, tokenized };
	}

	/** One forward pass over a right- or left-padded batch; returns `logits[i][0]` (no softmax). */
	private async run(inputs: readonly PairInput[], timed = true): Promise<number[]> {
		const ort = onnxruntime();
		const rows = inputs.length;
		const width = Math.max(...inputs.map(i => i.input_ids.length));
		const left = this.tokenizer.padding_side === 'left';
		const padId = this.tokenizer.pad_token_id ?? 0;
		// Filled in place: one typed array per input, no intermediate arrays of the whole batch.
		const tensor = (row: (input: PairInput) => readonly number[] | undefined, pad: number) => {
			const data = new BigInt64Array(rows * width).fill(BigInt(pad));
			inputs.forEach((input, r) => {
				const values = row(input) ?? input.input_ids.map(() => 0);
				const offset = r * width + (left ? width - values.length : 0);
				values.forEach((v, c) => (data[offset + c] = BigInt(v)));
			});
			return new ort.Tensor('int64', data, [rows, width]);
		};
		const all: Record<string, () => Ort.Tensor> = {
			input_ids: () => tensor(i => i.input_ids, padId),
			attention_mask: () => tensor(i => i.input_ids.map(() => 1), 0),
			token_type_ids: () => tensor(i => i.token_type_ids, 0),
		};
		// Only what the graph takes (RoBERTa-style models have no token_type_ids).
		const feeds: Record<string, Ort.Tensor> = {};
		for (const name of this.session.inputNames) {
			const make = all[name];
			if (!make) throw new Error(`the model asks for an input "${name}", which a reward model does not have`);
			feeds[name] = make();
		}

		const started = performance.now();
		const outputs = await this.session.run(feeds);
		if (timed && !this.onePairAtATime) this.estimator.record(rows, width, performance.now() - started);
		const raw = outputs.logits ?? outputs[this.session.outputNames[0] ?? ''];
		if (!raw) throw new Error('the model has no logits output');
		// fp16 models answer in float16; transformers.js's Tensor converts.
		const logits = raw.type === 'float32' ? raw : new (transformers().Tensor)(raw).to('float32');
		const labels = logits.dims[logits.dims.length - 1] ?? 1;
		const data = logits.data as Float32Array;
		return inputs.map((_, i) => {
			const score = data[i * labels];
			if (score === undefined) throw new Error(`The reward model returned ${data.length} logits for ${inputs.length} inputs.`);
			return score;
		});
	}

	async dispose(): Promise<void> {
		await this.session.release();
	}
}

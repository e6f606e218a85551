/**
 * The built-in generator's model: a small instruct model loaded with transformers.js, sampling a batch
 * of candidates for one prompt, streaming each row's text as its tokens arrive and stopping rows (or
 * the whole batch) between tokens. No worker here: `builtinWorker.ts` runs it on its own thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Transformers from '@huggingface/transformers' with { 'resolution-mode': 'require' };
import type { BatchRequest, BatchResult, BuiltinDtype, BuiltinLoadRequest, BuiltinModelInfo, RowResult } from '../core/builtinProtocol';
import { BestOfNError, errorMessage } from '../core/errors';
import {
	forwardProgress,
	configureTransformersEnv,
	isDirectory,
	isFileNotFound,
	locateModel,
	networkReason,
	onnxFilesIn,
	readFailure,
} from '../core/modelFiles';
import type { LoadProgress } from '../core/reward';

export interface LoadedBuiltinModel {
	readonly info: BuiltinModelInfo;
	/**
	 * Samples `batch.rows` completions in one generation. `stopped(row)` is asked after every token:
	 * a row it names ends there (`cancelled`), and once every row has ended the generation returns.
	 */
	generate(batch: BatchRequest, stopped: (row: number) => boolean, onDelta: (row: number, text: string) => void): Promise<BatchResult>;
	dispose(): Promise<void>;
}

/** The file transformers.js loads for each dtype (its DEFAULT_DTYPE_SUFFIX_MAPPING). */
export const BUILTIN_ONNX_FILE: Readonly<Record<BuiltinDtype, string>> = {
	fp32: 'model.onnx',
	fp16: 'model_fp16.onnx',
	q8: 'model_quantized.onnx',
	int8: 'model_int8.onnx',
	uint8: 'model_uint8.onnx',
	q4: 'model_q4.onnx',
	q4f16: 'model_q4f16.onnx',
	bnb4: 'model_bnb4.onnx',
};

function transformers(): typeof Transformers {
	try {
		return require('@huggingface/transformers') as typeof Transformers;
	} catch (e) {
		if (/onnxruntime_binding\.node/.test(errorMessage(e))) {
			throw new BestOfNError(
				'builtin-failed',
				`The built-in model needs onnxruntime, which has no build for ${process.platform}-${process.arch} in this package; use a model server ({backend}).`,
				{ setting: 'backend', cause: e },
			);
		}
		throw e;
	}
}

const WAY_OUT = 'Set {builtinModel} to a folder or Hub id of an instruct model with an ONNX export (onnx-community/… models have one).';

function notFound(model: string, reason: string, cause?: unknown): BestOfNError {
	return new BestOfNError('model-not-found', `Could not load the built-in model ${model}: ${reason}. ${WAY_OUT}`, {
		setting: 'builtinModel',
		cause,
	});
}

function failed(model: string, reason: string, cause?: unknown): BestOfNError {
	return new BestOfNError('builtin-failed', `The built-in model ${model} ${reason}`, { setting: 'builtinModel', cause });
}

function noOnnx(model: string, dtype: BuiltinDtype, lookedFor: string, others: readonly string[]): BestOfNError {
	const usable = others.map(f => {
		const d = (Object.keys(BUILTIN_ONNX_FILE) as BuiltinDtype[]).find(k => BUILTIN_ONNX_FILE[k] === f);
		return d ? `${f} (dtype ${d})` : f;
	});
	const found = usable.length ? `; it has ${usable.join(', ')}, which {builtinDtype} can select` : '';
	return new BestOfNError(
		'model-not-found',
		`The built-in model ${model} has no ONNX export for dtype ${dtype} (looked for ${lookedFor}${found}). ${WAY_OUT}`,
		{ setting: usable.length ? 'builtinDtype' : 'builtinModel' },
	);
}

/**
 * A file of the model that is there but cannot be read (a copy or download cut short, a disk fault):
 * named with its path, since the way out is to replace that file.
 */
function damagedFile(model: string, file: string, why: string, cached: boolean, cause: unknown): BestOfNError {
	return failed(
		model,
		`has a damaged file: ${file} ${why}; it may be truncated. ` +
			(cached
				? 'Delete it from the download cache so it is downloaded again, or set {builtinModel} to another model.'
				: 'Copy or export the model into that folder again, or set {builtinModel} to another model.'),
		cause,
	);
}

/** Where the model's files are read from: its folder, or a Hub model's copy in the download cache. */
function filesOf(request: BuiltinLoadRequest): { folder: string; cached: boolean } {
	const where = locateModel(request.model);
	return where.source === 'local'
		? { folder: where.dir, cached: false }
		: { folder: path.join(request.cacheDir, where.id), cached: true };
}

function loadFailure(request: BuiltinLoadRequest, e: unknown, file: string): BestOfNError {
	const { folder, cached } = filesOf(request);
	const why = readFailure(e, file, folder, request.allowRemote);
	if (why?.kind === 'damaged') return damagedFile(request.model, why.file, why.why, cached, e);
	if (why) return notFound(request.model, why.reason, e);
	return failed(request.model, `could not be loaded: ${errorMessage(e)}`, e);
}

/**
 * Loads tokenizer and model. Rejects with a `BestOfNError` (`model-not-found` when a piece is missing,
 * `builtin-failed` otherwise) whose text names the model and the way out.
 */
export async function loadBuiltinModel(request: BuiltinLoadRequest, onProgress?: (p: LoadProgress) => void): Promise<LoadedBuiltinModel> {
	const started = Date.now();
	const T = transformers();
	const where = locateModel(request.model);
	const model = request.model;
	const onnxFile = BUILTIN_ONNX_FILE[request.dtype];

	configureTransformersEnv(T.env, where, request.cacheDir, request.allowRemote);
	const location = where.source === 'local' ? where.dir : where.id;
	let externalData = false;
	if (where.source === 'local') {
		const problems = checkBuiltinFolder(where.dir, request.dtype);
		if (problems.missing) throw problems.missing(model);
		externalData = problems.externalData;
	}

	const progress_callback = onProgress ? (info: Transformers.ProgressInfo) => forwardProgress(info, onProgress) : undefined;
	const common = { cache_dir: request.cacheDir, local_files_only: !request.allowRemote, progress_callback };

	let config: Transformers.PretrainedConfig;
	try {
		config = await T.AutoConfig.from_pretrained(location, common);
	} catch (e) {
		throw loadFailure(request, e, 'config.json');
	}
	const modelType = String(config.model_type);
	if (!T.AutoModelForCausalLM.supports(modelType)) {
		throw failed(model, `is a "${modelType}" model, which transformers.js cannot run for text generation. ${WAY_OUT}`);
	}
	let tokenizer: Transformers.PreTrainedTokenizer;
	try {
		tokenizer = await T.AutoTokenizer.from_pretrained(location, common);
	} catch (e) {
		throw loadFailure(request, e, 'tokenizer.json');
	}
	if (!tokenizer.chat_template) {
		throw failed(model, `has no chat template in tokenizer_config.json, so it is not an instruct (chat) model. ${WAY_OUT}`);
	}
	let session: Transformers.PreTrainedModel;
	try {
		session = await T.AutoModelForCausalLM.from_pretrained(location, {
			...common,
			config,
			dtype: request.dtype,
			...(externalData ? { use_external_data_format: true } : {}),
			session_options: request.threads > 0 ? { intraOpNumThreads: request.threads } : {},
		});
	} catch (e) {
		if (isFileNotFound(e) && !networkReason(e)) {
			if (where.source === 'hub' && !request.allowRemote)
				throw notFound(model, `onnx/${onnxFile} is not in the download cache and downloads are turned off`, e);
			throw noOnnx(model, request.dtype, `onnx/${onnxFile}`, []);
		}
		throw loadFailure(request, e, `onnx/${onnxFile}`);
	}
	onProgress?.({ file: model, status: 'ready' });
	const info: BuiltinModelInfo = { id: model, source: where.source, modelType, loadMs: Date.now() - started };
	return new TransformersBuiltinModel(info, tokenizer, session);
}

export interface BuiltinFolderCheck {
	/** Set when a piece is missing: the error naming it. */
	readonly missing?: (model: string) => BestOfNError;
	/** The ONNX file's weights are in `<file>_data` beside it. */
	readonly externalData: boolean;
}

/** What a local folder lacks for the built-in generator: each piece transformers.js reads, in order. */
export function checkBuiltinFolder(dir: string, dtype: BuiltinDtype): BuiltinFolderCheck {
	const onnxFile = BUILTIN_ONNX_FILE[dtype];
	if (!isDirectory(dir)) return { missing: m => notFound(m, `the folder ${dir} does not exist`), externalData: false };
	for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
		if (!fs.existsSync(path.join(dir, file)))
			return {
				missing: m => notFound(m, `the folder ${dir} has no ${file}, so it is not a transformers.js model folder`),
				externalData: false,
			};
	}
	const onnxPath = path.join(dir, 'onnx', onnxFile);
	if (!fs.existsSync(onnxPath)) {
		return { missing: m => noOnnx(m, dtype, path.join('onnx', onnxFile), onnxFilesIn(dir)), externalData: false };
	}
	return { externalData: fs.existsSync(`${onnxPath}_data`) };
}

class TransformersBuiltinModel implements LoadedBuiltinModel {
	private readonly endTokens: ReadonlySet<bigint>;

	constructor(
		readonly info: BuiltinModelInfo,
		private readonly tokenizer: Transformers.PreTrainedTokenizer,
		private readonly model: Transformers.PreTrainedModel,
	) {
		const generationConfig = (model as { generation_config?: { eos_token_id?: unknown } | null }).generation_config;
		const eos = generationConfig?.eos_token_id ?? (model.config as { eos_token_id?: unknown }).eos_token_id;
		const ids = (Array.isArray(eos) ? eos : [eos]).filter((v): v is number => typeof v === 'number');
		if (tokenizer.eos_token_id !== undefined && tokenizer.eos_token_id !== null) ids.push(Number(tokenizer.eos_token_id));
		this.endTokens = new Set(ids.map(BigInt));
	}

	async generate(
		batch: BatchRequest,
		stopped: (row: number) => boolean,
		onDelta: (row: number, text: string) => void,
	): Promise<BatchResult> {
		const T = transformers();
		const started = Date.now();
		const prompt = String(
			this.tokenizer.apply_chat_template(
				batch.messages.map(m => ({ role: m.role, content: m.content })),
				{ tokenize: false, add_generation_prompt: true },
			),
		);
		const inputs = this.tokenizer(new Array<string>(batch.rows).fill(prompt), { add_special_tokens: false });
		const rows = Array.from({ length: batch.rows }, () => new RowText(this.tokenizer));

		const endTokens = this.endTokens;
		const streamer = new (class extends T.BaseStreamer {
			private prompt = true;
			override put(value: bigint[][]): void {
				// The first call carries the prompt; every later one a token per row.
				if (this.prompt) {
					this.prompt = false;
					return;
				}
				value.forEach(([token], row) => {
					const r = rows[row];
					if (r === undefined || r.done !== undefined || token === undefined) return;
					if (endTokens.has(token)) {
						r.done = 'stop';
						return;
					}
					const delta = r.push(token);
					if (delta) onDelta(row, delta);
					if (r.tokens.length >= batch.maxTokens) r.done = 'length';
				});
			}
			override end(): void {}
		})();
		const stopping = new (class extends T.StoppingCriteria {
			override _call(ids: number[][]): boolean[] {
				return ids.map((_, row) => {
					const r = rows[row];
					if (r === undefined) return true; // not a row of this batch: nothing to generate for it
					if (r.done === undefined && stopped(row)) r.done = 'cancelled';
					return r.done !== undefined;
				});
			}
		})();
		const sampling = batch.temperature > 0;
		const processors = new T.LogitsProcessorList();
		if (sampling && batch.topP > 0 && batch.topP < 1) processors.push(new (topPProcessor(T))(batch.topP));
		(T.random as { seed(n: number): void }).seed(batch.seed);
		try {
			const output = await this.model.generate({
				...inputs,
				max_new_tokens: batch.maxTokens,
				do_sample: sampling,
				...(sampling ? { temperature: batch.temperature } : {}),
				streamer,
				stopping_criteria: [stopping],
				logits_processor: processors,
			} as unknown as Parameters<Transformers.PreTrainedModel['generate']>[0]);
			await (output as { dispose?: () => Promise<void> }).dispose?.();
		} catch (e) {
			throw failed(this.info.id, `failed to generate: ${errorMessage(e)}`, e);
		}
		const results: RowResult[] = rows.map((r, row) => {
			const rest = r.flush();
			if (rest) onDelta(row, rest);
			return { text: r.text(), tokens: r.tokens.length, doneReason: r.done ?? 'length' };
		});
		return { rows: results, ms: Date.now() - started };
	}

	async dispose(): Promise<void> {
		await this.model.dispose();
	}
}

/**
 * One row's tokens and the text already sent. The tokens since the last line break are decoded
 * together (a character may span tokens); a decoded tail that ends in U+FFFD is an unfinished
 * character and waits for the next token.
 */
class RowText {
	readonly tokens: bigint[] = [];
	done: RowResult['doneReason'] | undefined;
	private lineStart = 0;
	private sentInLine = 0;

	constructor(private readonly tokenizer: Transformers.PreTrainedTokenizer) {}

	push(token: bigint): string {
		this.tokens.push(token);
		const line = this.decode(this.lineStart);
		const ready = line.endsWith('\uFFFD') ? line.replace(/\uFFFD+$/, '') : line;
		const delta = ready.slice(this.sentInLine);
		if (ready.endsWith('\n')) {
			this.lineStart = this.tokens.length;
			this.sentInLine = 0;
		} else {
			this.sentInLine = Math.max(this.sentInLine, ready.length);
		}
		return delta;
	}

	/** What is still held back (an unfinished character at the end becomes U+FFFD). */
	flush(): string {
		const rest = this.decode(this.lineStart).slice(this.sentInLine);
		this.lineStart = this.tokens.length;
		this.sentInLine = 0;
		return rest;
	}

	text(): string {
		return this.decode(0);
	}

	private decode(from: number): string {
		if (from >= this.tokens.length) return '';
		return this.tokenizer.decode(this.tokens.slice(from), { skip_special_tokens: true });
	}
}

/**
 * Nucleus sampling, which transformers.js 4.3 does not apply itself (its generation config reads
 * `top_p` but no warper uses it): keeps the most likely tokens whose probabilities add up to `topP`.
 * Only logits within 30 of the row's maximum are sorted; the rest have probabilities below e⁻³⁰.
 */
function topPProcessor(T: typeof Transformers) {
	return class TopP extends T.LogitsProcessor {
		constructor(private readonly topP: number) {
			super();
		}
		override _call(_ids: bigint[][], logits: Transformers.Tensor): Transformers.Tensor {
			const vocab = logits.dims.at(-1);
			if (!vocab) return logits;
			const data = logits.data as Float32Array;
			for (let start = 0; start < data.length; start += vocab) {
				const row = data.subarray(start, start + vocab);
				let max = -Infinity;
				for (const v of row) if (v > max) max = v;
				let sum = 0;
				for (const v of row) sum += Math.exp(v - max);
				const near: number[] = [];
				for (const v of row) if (v > max - 30) near.push(v);
				near.sort((a, b) => b - a);
				let mass = 0;
				let threshold = -Infinity;
				for (const v of near) {
					mass += Math.exp(v - max) / sum;
					threshold = v;
					if (mass >= this.topP) break;
				}
				row.forEach((v, i) => {
					if (v < threshold) row[i] = -Infinity;
				});
			}
			return logits;
		}
	};
}

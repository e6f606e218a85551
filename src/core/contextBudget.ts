/**
 * Whether a rewrite fits the model's context window, decided before anything is generated: a prompt
 * longer than the window is cut by the server without a word, and the candidates then rewrite text
 * the model never saw.
 *
 * Token counts are estimated without the model's tokenizer (it lives on the server), on the high side.
 * The text is split the way the BPE tokenizers of Llama 3, Qwen 2.5 and their kin split it before
 * merging (words with their leading space, numbers of up to three digits, runs of punctuation,
 * whitespace), and each piece is charged what it costs at most in common cases: a word one token per
 * 4 letters (two per camelCase hump, for hashes and base64), a number one, punctuation one per 2
 * characters, whitespace one, and characters outside ASCII 1 to 3 each by their UTF-8 length.
 * Measured against Llama 3's own tokenizer this counts 1.2–1.6 times the real tokens of source code,
 * prose, CSS, JSON and a lockfile full of hashes (test/unit/contextBudget.test.ts); only a selection
 * that is nothing but base64 counts about a fifth low.
 */
import type { ChatMessage } from './generation';

/** What a chat template adds around each message (role markers, separators), rounded up. */
const TOKENS_PER_MESSAGE = 8;

const PIECES = /'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}{1,3}| ?[^\s\p{L}\p{N}]+|\s+/gu;

export function estimateTokens(text: string): number {
	let tokens = 0;
	for (const [piece] of text.matchAll(PIECES)) {
		let wide = 0;
		let ascii = 0;
		for (const ch of piece) {
			const code = ch.codePointAt(0)!;
			if (code < 0x80) ascii++;
			else wide += code < 0x800 ? 1 : code < 0x10000 ? 1.5 : 3;
		}
		const body = piece.trimStart();
		if (wide > 0) tokens += wide + Math.ceil(ascii / 4);
		else if (body === '') tokens += 1;
		else if (/^\p{L}/u.test(body)) tokens += Math.max(1, Math.ceil(body.length / 4), 2 * (body.match(/[a-z][A-Z]/g)?.length ?? 0));
		else if (/^\p{N}/u.test(body)) tokens += 1;
		else tokens += Math.ceil(body.length / 2);
	}
	return Math.ceil(tokens);
}

export interface ContextBudget {
	/** Estimated tokens of the prompt as sent (every message and its template overhead). */
	readonly promptTokens: number;
	/** Estimated tokens of one reply: a rewrite about as long as the selection, at most `maxTokens`. */
	readonly replyTokens: number;
	/** `promptTokens + replyTokens`. */
	readonly needed: number;
	/** The window the model runs with. */
	readonly contextLength: number;
	readonly fits: boolean;
}

/**
 * A rewrite needs room for its prompt and for a reply about as long as the selection (the reply is
 * the selection, rewritten), capped by `maxTokens` since the server stops there anyway.
 */
export function contextBudget(
	messages: readonly ChatMessage[],
	selection: string,
	maxTokens: number,
	contextLength: number,
): ContextBudget {
	const promptTokens = messages.reduce((sum, m) => sum + estimateTokens(m.content) + TOKENS_PER_MESSAGE, 0);
	const replyTokens = Math.min(estimateTokens(selection), maxTokens);
	const needed = promptTokens + replyTokens;
	return { promptTokens, replyTokens, needed, contextLength, fits: needed <= contextLength };
}

/** What `/api/show` says about a model's context window. */
export interface ModelContext {
	/** The length it was trained for: `model_info["<architecture>.context_length"]`. */
	readonly trained?: number;
	/** A `num_ctx` set in its Modelfile (`parameters`, one `name value` per line): what it runs with. */
	readonly numCtx?: number;
}

export function modelContextFromShow(show: { parameters?: unknown; model_info?: unknown }): ModelContext {
	let numCtx: number | undefined;
	if (typeof show.parameters === 'string') {
		const m = /^\s*num_ctx\s+(\d+)\s*$/m.exec(show.parameters);
		if (m && Number(m[1]) > 0) numCtx = Number(m[1]);
	}
	const info: unknown = show.model_info instanceof Map ? Object.fromEntries(show.model_info as Map<string, unknown>) : show.model_info;
	let trained: number | undefined;
	if (typeof info === 'object' && info !== null) {
		const record = info as Record<string, unknown>;
		const arch = record['general.architecture'];
		const exact = typeof arch === 'string' ? record[`${arch}.context_length`] : undefined;
		const value = exact ?? Object.entries(record).find(([k]) => k.endsWith('.context_length'))?.[1];
		if (typeof value === 'number' && Number.isFinite(value) && value > 0) trained = value;
	}
	return { trained, numCtx };
}

/**
 * The window a run gets: `bestOfN.contextLength` when set (it is sent as `num_ctx`), else the
 * Modelfile's `num_ctx`, else the trained length. Undefined when nothing says.
 */
export function effectiveContextLength(setting: number, model: ModelContext | undefined): number | undefined {
	if (setting > 0) return setting;
	return model?.numCtx ?? model?.trained;
}

/**
 * Ollama's window when neither the request nor the Modelfile sets `num_ctx` is the server's own
 * default: 4096 on machines with under 24 GiB of VRAM (2048 before Ollama 0.6), more with
 * `OLLAMA_CONTEXT_LENGTH` or a large GPU. It cannot be read over the API, so the smallest current
 * one is assumed.
 */
export const OLLAMA_DEFAULT_NUM_CTX = 4096;

/**
 * The `num_ctx` to send so that a rewrite checked against the model's trained window is also run
 * with one that holds it: only when nothing else sets the window (no setting, no Modelfile
 * `num_ctx`) and the rewrite needs more than Ollama's default; rounded up to a multiple of 2048, at
 * most the trained length. Undefined means "send none".
 */
export function numCtxToSend(budget: ContextBudget, setting: number, model: ModelContext | undefined): number | undefined {
	if (setting > 0 || model?.numCtx !== undefined || model?.trained === undefined) return undefined;
	if (!budget.fits || budget.needed <= OLLAMA_DEFAULT_NUM_CTX) return undefined;
	return Math.min(model.trained, Math.ceil(budget.needed / 2048) * 2048);
}

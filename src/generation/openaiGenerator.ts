/**
 * Candidates from any OpenAI-compatible chat-completions server (vLLM, llama.cpp's server, SGLang,
 * LM Studio, TGI, Ollama's `/v1`), streamed as server-sent events.
 *
 * All N candidates go out in one request with `n` where the server honours it (vLLM does: it batches
 * them, and the chunks of the N choices arrive interleaved by `index`). A server that answers fewer
 * choices than asked (Ollama's OpenAI layer ignores `n`), or rejects `n` with HTTP 400 before any
 * output, gets the missing candidates as separate requests with seeds `seed + i`, once; the base URL is
 * then remembered for the extension's (or CLI's) lifetime and asked one candidate per request.
 *
 * Cancel aborts every fetch at once, which closes its socket. A failed request fails only its own
 * candidates. The API key is read per run through `apiKey` and sent only in the Authorization header;
 * server text that quotes it is redacted before it becomes a message.
 */
import { type BestOfNError, cancelledError, isCancelled } from '../core/errors';
import { IdleTimer } from '../core/idleTimeout';
import type { CandidateSink, GenerationBackend, GenerationRequest, GenerationResult, ServerModel } from '../core/generation';
import { type Logger, nullLogger } from '../core/logger';
import {
	OpenAIHttpError,
	OpenAIIncompleteError,
	OpenAIMalformedEventError,
	OpenAIStreamError,
	redactKey,
	toBestOfNError,
} from './openaiErrors';
import { serverSentData } from './sse';

export interface OpenAIGeneratorOptions {
	/** The base URL as OpenAI clients take it, e.g. `http://gpu-box:8000/v1`. */
	readonly baseUrl: string;
	/** The key for this base URL, if any (read when a request is made). */
	readonly apiKey?: () => Promise<string | undefined>;
	readonly logger?: Logger;
	/** Base URLs known to ignore `n`; shared by every generator unless a test gives its own. */
	readonly ignoresN?: Set<string>;
	/**
	 * A request fails when nothing arrives for this long (`requestIdleSeconds`); with `n` the choices of
	 * one request share it. 0 or absent: no limit of ours.
	 */
	readonly idleMs?: number;
}

/** Servers that answered fewer choices than `n` asked for, by base URL. */
const IGNORES_N = new Set<string>();

interface ChoiceEnd {
	readonly reason?: string;
	readonly tokens?: number;
}

interface StreamHandlers {
	delta(index: number, text: string): void;
	finish(index: number, text: string, end: ChoiceEnd): void;
}

export class OpenAIGenerator implements GenerationBackend {
	readonly id = 'openai';
	readonly host: string;
	readonly serverName: string;
	private readonly logger: Logger;
	private readonly ignoresN: Set<string>;

	constructor(private readonly options: OpenAIGeneratorOptions) {
		this.host = options.baseUrl;
		this.serverName = `the server at ${options.baseUrl}`;
		this.logger = options.logger ?? nullLogger;
		this.ignoresN = options.ignoresN ?? IGNORES_N;
	}

	async listModels(signal?: AbortSignal): Promise<ServerModel[]> {
		const key = await this.key();
		try {
			const response = await this.fetch('models', { method: 'GET' }, key, signal);
			const body = (await response.json()) as { data?: Array<{ id?: unknown; max_model_len?: unknown }> };
			if (!Array.isArray(body.data)) throw new SyntaxError('no data[] in the model list');
			// vLLM adds max_model_len to each model; OpenAI and most others list no window.
			return body.data
				.filter(m => typeof m.id === 'string')
				.map(m => ({
					name: m.id as string,
					...(Number.isInteger(m.max_model_len) && (m.max_model_len as number) > 0
						? { contextLength: m.max_model_len as number }
						: {}),
				}));
		} catch (e) {
			throw toBestOfNError(e, { host: this.host, signal, unfinished: 'the model list arrived', apiKey: key });
		}
	}

	async generate(request: GenerationRequest, signal: AbortSignal, onDelta: (delta: string) => void): Promise<GenerationResult> {
		if (signal.aborted) throw cancelledError();
		const key = await this.key();
		let result: GenerationResult | undefined;
		try {
			await this.stream(request, 1, request.options.seed, key, signal, {
				delta: (index, text) => index === 0 && onDelta(text),
				finish: (index, text, end) => {
					if (index === 0) result = { text, tokens: end.tokens, doneReason: end.reason };
				},
			});
			if (!result) throw new OpenAIIncompleteError();
			return result;
		} catch (e) {
			throw this.mapError(e, request, signal, key);
		}
	}

	async generateMany(
		request: GenerationRequest,
		count: number,
		concurrency: number,
		signal: AbortSignal,
		sink: CandidateSink,
	): Promise<void> {
		if (signal.aborted) return;
		const key = await this.key();
		const all = Array.from({ length: count }, (_, i) => i);
		if (count === 1 || this.ignoresN.has(this.host)) return this.separately(request, all, concurrency, key, signal, sink);

		const seen = new Set<number>();
		const settled = new Set<number>();
		try {
			await this.stream(request, count, request.options.seed, key, signal, {
				delta: (index, text) => {
					if (index >= count) return;
					if (!seen.has(index)) {
						seen.add(index);
						sink.started(index, request.options.seed);
					}
					sink.delta(index, text);
				},
				finish: (index, text, end) => {
					if (index >= count || settled.has(index)) return;
					seen.add(index);
					settled.add(index);
					sink.finished(index, { text, tokens: count === 1 ? end.tokens : undefined, doneReason: end.reason });
				},
			});
		} catch (e) {
			if (signal.aborted || isCancelled(e)) return;
			const error = this.mapError(e, request, signal, key);
			const refusedN = seen.size === 0 && e instanceof OpenAIHttpError && e.status === 400;
			if (!refusedN) {
				for (const i of all) if (!settled.has(i)) sink.failed(i, error);
				return;
			}
			this.logger.info(`${this.host} refused n=${count} (${error.message}); asking one candidate per request from now on.`);
			this.ignoresN.add(this.host);
			return this.separately(request, all, concurrency, key, signal, sink);
		}
		// Choices that appeared but never finished before [DONE] were cut.
		for (const i of seen) if (!settled.has(i)) sink.failed(i, this.mapError(new OpenAIIncompleteError(), request, signal, key));
		const missing = all.filter(i => !seen.has(i));
		if (missing.length === 0 || signal.aborted) return;
		this.logger.info(
			`${this.host} answered ${seen.size} of the ${count} choices asked with n; asking one candidate per request from now on.`,
		);
		this.ignoresN.add(this.host);
		await this.separately(request, missing, concurrency, key, signal, sink);
	}

	/** One request per candidate, candidate i with seed `seed + i`, at most `concurrency` open at once. */
	private async separately(
		request: GenerationRequest,
		indices: readonly number[],
		concurrency: number,
		key: string | undefined,
		signal: AbortSignal,
		sink: CandidateSink,
	): Promise<void> {
		// One queue the workers take from in turn.
		const queue = indices.values();
		const worker = async () => {
			for (const index of queue) {
				if (signal.aborted) return;
				sink.started(index, request.options.seed + index);
				let done = false;
				try {
					await this.stream(request, 1, request.options.seed + index, key, signal, {
						delta: (choice, text) => choice === 0 && sink.delta(index, text),
						finish: (choice, text, end) => {
							if (choice !== 0) return;
							done = true;
							sink.finished(index, { text, tokens: end.tokens, doneReason: end.reason });
						},
					});
					if (!done) throw new OpenAIIncompleteError();
				} catch (e) {
					if (signal.aborted || isCancelled(e)) return;
					sink.failed(index, this.mapError(e, request, signal, key));
				}
			}
		};
		await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, indices.length)) }, worker));
	}

	/**
	 * One streamed chat completion with `n` choices. Resolves at `[DONE]`; rejects on an HTTP error, an
	 * error event, or a stream that ends without `[DONE]` (the handlers have seen what came before).
	 */
	private async stream(
		request: GenerationRequest,
		n: number,
		seed: number,
		key: string | undefined,
		signal: AbortSignal,
		handlers: StreamHandlers,
	): Promise<void> {
		const { options } = request;
		const body = {
			model: request.model,
			messages: request.messages.map(m => ({ role: m.role, content: m.content })),
			stream: true,
			stream_options: { include_usage: true },
			temperature: options.temperature,
			top_p: options.topP,
			max_tokens: options.maxTokens,
			seed,
			...(n > 1 ? { n } : {}),
		};
		const idle = new IdleTimer(this.options.idleMs ?? 0, signal);
		try {
			await this.streamBody(request, n, seed, key, body, idle, handlers);
		} catch (e) {
			throw idle.fired && !signal.aborted ? idle.error : e;
		} finally {
			idle.stop();
		}
	}

	private async streamBody(
		request: GenerationRequest,
		n: number,
		seed: number,
		key: string | undefined,
		body: object,
		idle: IdleTimer,
		handlers: StreamHandlers,
	): Promise<void> {
		const { signal } = idle;
		const started = Date.now();
		const response = await this.fetch('chat/completions', { method: 'POST', body: JSON.stringify(body) }, key, signal);
		idle.touch();
		const texts = new Map<number, string>();
		let usageTokens: number | undefined;
		const finished: Array<[number, string]> = [];
		if (!response.body) throw new OpenAIIncompleteError();
		let complete = false;
		for await (const data of serverSentData(response.body, () => idle.touch())) {
			if (data.trim() === '[DONE]') {
				complete = true;
				break;
			}
			const chunk = parseChunk(data);
			if (chunk.error !== undefined) {
				throw new OpenAIStreamError(
					redactKey(typeof chunk.error === 'string' ? chunk.error : (chunk.error?.message ?? 'error'), key),
				);
			}
			if (chunk.usage && typeof chunk.usage.completion_tokens === 'number') usageTokens = chunk.usage.completion_tokens;
			for (const choice of chunk.choices ?? []) {
				const index = typeof choice.index === 'number' ? choice.index : 0;
				const content = choice.delta?.content;
				if (typeof content === 'string' && content) {
					texts.set(index, (texts.get(index) ?? '') + content);
					handlers.delta(index, content);
				}
				if (!choice.finish_reason) continue;
				// One choice waits for the usage chunk after it (its token count); of several, each is
				// reported as it ends, so it is scored while the others still generate.
				if (n === 1) finished.push([index, choice.finish_reason]);
				else handlers.finish(index, texts.get(index) ?? '', { reason: choice.finish_reason });
			}
		}
		if (signal.aborted) throw cancelledError();
		if (!complete) throw new OpenAIIncompleteError();
		for (const [index, reason] of finished) handlers.finish(index, texts.get(index) ?? '', { reason, tokens: usageTokens });
		this.logger.debug(`${this.host} ${request.model} n=${n} seed ${seed}: ${texts.size} choices in ${Date.now() - started} ms.`);
	}

	private async fetch(path: string, init: RequestInit, key: string | undefined, signal?: AbortSignal): Promise<Response> {
		if (signal?.aborted) throw cancelledError();
		const headers: Record<string, string> = { Accept: path === 'models' ? 'application/json' : 'text/event-stream, application/json' };
		if (init.body !== undefined) headers['Content-Type'] = 'application/json';
		if (key) headers.Authorization = `Bearer ${key}`;
		const response = await fetch(`${this.host}/${path}`, { ...init, headers, signal });
		if (!response.ok) {
			const text = await response.text().catch(() => '');
			throw new OpenAIHttpError(response.status, response.headers.get('content-type') ?? '', redactKey(text, key));
		}
		const type = response.headers.get('content-type') ?? '';
		if (!/json|event-stream/i.test(type)) {
			await response.body?.cancel().catch(() => undefined);
			throw new OpenAIHttpError(response.status, type, '');
		}
		return response;
	}

	private async key(): Promise<string | undefined> {
		return (await this.options.apiKey?.())?.trim() || undefined;
	}

	private mapError(e: unknown, request: GenerationRequest, signal: AbortSignal, key: string | undefined): BestOfNError {
		const error = toBestOfNError(e, {
			host: this.host,
			model: request.model,
			signal,
			unfinished: 'the candidate finished',
			apiKey: key,
		});
		if (error.kind !== 'cancelled') this.logger.debug(`${this.host} ${request.model} failed: ${error.message}`);
		return error;
	}
}

/** The parts of a `chat.completion.chunk` (or an error event) this reads. */
interface ChatChunk {
	readonly choices?: ReadonlyArray<{
		readonly index?: number;
		readonly delta?: { readonly content?: string | null };
		readonly finish_reason?: string | null;
	}>;
	readonly usage?: { readonly completion_tokens?: number } | null;
	readonly error?: string | { readonly message?: string };
}

function parseChunk(data: string): ChatChunk {
	let chunk: unknown;
	try {
		chunk = JSON.parse(data);
	} catch {
		throw new OpenAIMalformedEventError();
	}
	if (typeof chunk !== 'object' || chunk === null) throw new OpenAIMalformedEventError();
	return chunk;
}

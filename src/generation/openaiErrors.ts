/**
 * An OpenAI-compatible server's answers as `BestOfNError`s; transport failures go through the shared
 * `httpErrors.ts`. The error body differs between servers: OpenAI and current vLLM send
 * `{"error": {"message", "type", "param", "code"}}`, older vLLM a flat `{"object": "error", "message",
 * …}`, vLLM's `--api-key` check `{"error": "Unauthorized"}`, FastAPI `{"detail": …}`.
 */
import { BestOfNError } from '../core/errors';
import { redactKey, streamCut, transportError, type ServerContext } from '../core/httpErrors';

export { redactKey };

export interface OpenAIErrorContext {
	/** The base URL as configured (`http://gpu-box:8000/v1`). */
	readonly host: string;
	readonly model?: string;
	readonly signal?: AbortSignal;
	readonly unfinished?: string;
	/** The API key sent, to keep it out of any text (servers quote it, partly masked). */
	readonly apiKey?: string;
}

/** The server answered with a non-2xx status; `body` is its text (possibly not JSON). */
export class OpenAIHttpError extends Error {
	constructor(
		readonly status: number,
		readonly contentType: string,
		readonly body: string,
	) {
		super(`HTTP ${status}`);
		this.name = 'OpenAIHttpError';
	}
}

/** An `{"error": …}` event inside a stream (vLLM sends one, then `[DONE]`, when generation fails). */
export class OpenAIStreamError extends Error {
	constructor(readonly words: string) {
		super(words);
		this.name = 'OpenAIStreamError';
	}
}

/** An event whose data is neither JSON nor `[DONE]`; its text is quoted nowhere (it may hold candidate text). */
export class OpenAIMalformedEventError extends Error {
	constructor() {
		super('an event of the stream is not JSON');
		this.name = 'OpenAIMalformedEventError';
	}
}

/** The stream ended without `[DONE]`, or with choices that never finished. */
export class OpenAIIncompleteError extends Error {
	constructor() {
		super('The stream ended before [DONE].');
		this.name = 'OpenAIIncompleteError';
	}
}

export function serverContext(ctx: OpenAIErrorContext): ServerContext {
	return {
		...ctx,
		server: 'the server',
		hostSetting: 'openaiBaseUrl',
		startHint: 'Start the server, or point {openaiBaseUrl} at it (an OpenAI base URL, usually ending in /v1).',
		queueHint: 'it may be overloaded. Lower {concurrency}, or give the server more capacity.',
	};
}

export function toBestOfNError(e: unknown, ctx: OpenAIErrorContext): BestOfNError {
	const server = serverContext(ctx);
	const transport = transportError(e, server);
	if (transport) return redacted(transport, ctx.apiKey);
	const { host } = ctx;
	if (e instanceof OpenAIIncompleteError) return streamCut(server, e);
	if (e instanceof OpenAIMalformedEventError) {
		// Mid-stream, after the server answered as an OpenAI API: this request's fault, not a wrong base URL.
		return new BestOfNError(
			'server',
			`The server at ${host} sent a stream event that is not JSON before ${ctx.unfinished ?? 'the response was complete'}, so that request was stopped (a proxy in between, or a fault of the server: see its log).`,
			{ cause: e },
		);
	}
	if (e instanceof OpenAIStreamError)
		return redacted(new BestOfNError('server', `The server at ${host}: ${e.words}`, { cause: e }), ctx.apiKey);
	if (e instanceof OpenAIHttpError) return redacted(fromStatus(e, ctx), ctx.apiKey);
	if (e instanceof SyntaxError) {
		return new BestOfNError(
			'unreachable',
			`${host} answered with something that is not an OpenAI-compatible API's JSON; check {openaiBaseUrl} (it usually ends in /v1).`,
			{ cause: e, setting: 'openaiBaseUrl' },
		);
	}
	const words = e instanceof Error ? e.message : String(e);
	return redacted(new BestOfNError('server', `The server at ${host} failed: ${words}`, { cause: e }), ctx.apiKey);
}

function fromStatus(e: OpenAIHttpError, ctx: OpenAIErrorContext): BestOfNError {
	const { host } = ctx;
	const words = errorWords(e);
	if (words === undefined) {
		const what = e.contentType ? e.contentType.split(';')[0] : 'no content type';
		return new BestOfNError(
			'unreachable',
			`${host} answered HTTP ${e.status} with ${what}, which is not an OpenAI-compatible API; check {openaiBaseUrl} (it usually ends in /v1).`,
			{ cause: e, setting: 'openaiBaseUrl' },
		);
	}
	const said = words ? `: ${words}` : '';
	if (e.status === 401 || e.status === 403) {
		return new BestOfNError(
			'unauthorized',
			`The server at ${host} refused the request (HTTP ${e.status}${said}). ${ctx.apiKey ? 'The API key given for it was not accepted.' : 'It needs an API key.'}`,
			{ cause: e },
		);
	}
	if (e.status === 404 && ctx.model && /model|does not exist|not found/i.test(words)) {
		return new BestOfNError(
			'model-not-found',
			`Model "${ctx.model}" is not served at ${host}${said}. Set {model} to a model it serves.`,
			{
				cause: e,
				setting: 'model',
			},
		);
	}
	if (e.status === 404) {
		return new BestOfNError(
			'unreachable',
			`${host} has no OpenAI-compatible API at that path (HTTP 404${said}); check {openaiBaseUrl} (it usually ends in /v1).`,
			{ cause: e, setting: 'openaiBaseUrl' },
		);
	}
	return new BestOfNError('server', `The server at ${host} answered HTTP ${e.status}${said}`, { cause: e });
}

/** The server's own words from an error body, '' for JSON without any, undefined when it is not JSON. */
export function errorWords(e: OpenAIHttpError): string | undefined {
	let body: unknown;
	try {
		body = JSON.parse(e.body);
	} catch {
		return undefined;
	}
	if (typeof body !== 'object' || body === null) return undefined;
	const b = body as Record<string, unknown>;
	const inner = b.error;
	if (typeof inner === 'string') return inner.trim();
	if (typeof inner === 'object' && inner !== null && typeof (inner as Record<string, unknown>).message === 'string') {
		return ((inner as Record<string, unknown>).message as string).trim();
	}
	if (typeof b.message === 'string') return b.message.trim();
	if (typeof b.detail === 'string') return b.detail.trim();
	if (b.detail !== undefined) return JSON.stringify(b.detail).slice(0, 300);
	return '';
}

/**
 * Keeps an API key out of a message: servers quote it back (OpenAI: "Incorrect API key provided:
 * sk-abc***xyz"), whole or masked. The key itself, and any word that starts like it, become "[key]".
 */
function redacted(error: BestOfNError, apiKey: string | undefined): BestOfNError {
	const text = redactKey(error.template, apiKey);
	if (text === error.template) return error;
	return new BestOfNError(error.kind, text, { cause: error.cause, setting: error.setting });
}

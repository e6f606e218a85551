/**
 * The one place where whatever the `ollama` client or fetch threw becomes a `BestOfNError` with a
 * sentence a person can act on. The generator and the admin calls both go through `toBestOfNError`.
 *
 * What ollama-js throws, as of 0.6.x:
 * - a non-2xx JSON answer: `ResponseError` (not exported; `name === 'ResponseError'`, with
 *   `status_code` and `error`, the server's own words);
 * - an `{"error":…}` line inside a stream: a plain `Error` with the server's words;
 * - a stream that ended without its `done`/`success` line: `Error('Did not receive done or success
 *   response in stream.')`;
 * - nothing listening, DNS, TLS: fetch's `TypeError('fetch failed')` with `cause.code`
 *   (`ECONNREFUSED`, `ENOTFOUND`, …); a socket dropped mid-body: `TypeError('terminated')` with
 *   `cause.code === 'UND_ERR_SOCKET'`; an abort: a DOMException named `AbortError`.
 */
import { BestOfNError, cancelledError } from '../core/errors';
import { NotOllamaResponseError } from './ollamaClient';

export interface ErrorContext {
	/** The host as the user configured it: the thing they can change. */
	readonly host: string;
	/** The model the request named, when it named one. */
	readonly model?: string;
	/** When this signal has aborted, every failure is a cancellation. */
	readonly signal?: AbortSignal;
	/** Completes "The connection to HOST closed before …", e.g. "the candidate finished". */
	readonly unfinished?: string;
}

const STREAM_INCOMPLETE = 'Did not receive done or success response in stream.';
/** Codes meaning a connection was made and then dropped, rather than never made. */
const DROPPED = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNRESET', 'EPIPE']);

export function toBestOfNError(e: unknown, ctx: ErrorContext): BestOfNError {
	if (e instanceof BestOfNError) return e;
	if (ctx.signal?.aborted || (e instanceof Error && e.name === 'AbortError')) return cancelledError();
	const { host } = ctx;
	const cutError = () => new BestOfNError('stream-cut', `The connection to ${host} closed before ${ctx.unfinished ?? 'the response was complete'}.`, { cause: e });

	if (e instanceof NotOllamaResponseError) {
		const what = e.contentType ? `${e.contentType.split(';')[0]}` : 'no content type';
		return new BestOfNError(
			'unreachable',
			`${host} answered HTTP ${e.status} with ${what}, which is not Ollama; point bestOfN.ollama.host at your Ollama server.`,
			{ cause: e },
		);
	}

	if (isResponseError(e)) {
		const words = e.error.trim();
		const missing = /model\s+["'“]?(.+?)["'”]?\s+not found/i.exec(words);
		if (e.status_code === 404 && (missing || (ctx.model && /not found/i.test(words)))) {
			const name = missing?.[1] ?? ctx.model!;
			return new BestOfNError('model-not-found', `Model "${name}" is not installed on ${host}. Pull it with \`ollama pull ${name}\`.`, { cause: e });
		}
		return new BestOfNError('server', words ? `Ollama at ${host}: ${words}` : `Ollama at ${host} answered HTTP ${e.status_code}.`, { cause: e });
	}

	if (e instanceof Error) {
		const code = errorCode(e);
		if (e.message === STREAM_INCOMPLETE || e.message === 'terminated' || (code !== undefined && DROPPED.has(code))) return cutError();
		if (e instanceof TypeError && e.message === 'fetch failed') {
			return new BestOfNError('unreachable', `Could not reach Ollama at ${host}. Start it with \`ollama serve\`, or point bestOfN.ollama.host at your server.`, { cause: e });
		}
		if (e instanceof SyntaxError) {
			return new BestOfNError('unreachable', `${host} answered with something that is not Ollama's JSON; point bestOfN.ollama.host at your Ollama server.`, { cause: e });
		}
		if (e.constructor === Error && e.message) return new BestOfNError('server', `Ollama at ${host}: ${e.message}`, { cause: e });
	}
	return new BestOfNError('server', `Ollama at ${host} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

interface ResponseErrorShape extends Error {
	readonly error: string;
	readonly status_code: number;
}

function isResponseError(e: unknown): e is ResponseErrorShape {
	return e instanceof Error && e.name === 'ResponseError' && typeof (e as Partial<ResponseErrorShape>).status_code === 'number';
}

/** The first `code` along the cause chain (fetch hides the socket error one level down). */
function errorCode(e: unknown): string | undefined {
	for (let current: unknown = e, depth = 0; current && depth < 5; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string') return code;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

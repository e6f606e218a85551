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
 *   (`ECONNREFUSED`, `ENOTFOUND`, `DEPTH_ZERO_SELF_SIGNED_CERT`, …); a socket dropped mid-body:
 *   `TypeError('terminated')` with `cause.code === 'UND_ERR_SOCKET'`; an abort: a DOMException
 *   named `AbortError`;
 * - fetch's own timeouts (undici, 300 s each): no response headers yet is `TypeError('fetch failed')`
 *   with `cause.code === 'UND_ERR_HEADERS_TIMEOUT'`, no body data is `TypeError('terminated')` with
 *   `cause.code === 'UND_ERR_BODY_TIMEOUT'`. Ollama sends no headers to a request waiting in its
 *   queue (OLLAMA_NUM_PARALLEL), so on a slow machine the first is a queued candidate, not a dead
 *   server: kind `server`, which fails that candidate alone rather than the run.
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
/** undici's defaults (`headersTimeout`, `bodyTimeout`), which Node's fetch does not let us change. */
const HEADERS_TIMEOUT = 'UND_ERR_HEADERS_TIMEOUT';
const BODY_TIMEOUT = 'UND_ERR_BODY_TIMEOUT';
const FETCH_TIMEOUT_WORDS = '5 minutes';
/** The host name did not resolve (Node reports EAI_NONAME as ENOTFOUND). */
const DNS_FAILED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
/** The address resolved but nothing there answered the connection attempt. */
const NO_ANSWER = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT']);
/** OpenSSL's certificate verification codes, as Node names them. */
const CERT_REJECTED = new Set([
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
	'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
	'UNABLE_TO_GET_CRL',
	'CERT_SIGNATURE_FAILURE',
	'CERT_NOT_YET_VALID',
	'CERT_HAS_EXPIRED',
	'CERT_REVOKED',
	'CERT_UNTRUSTED',
	'CERT_REJECTED',
	'CERT_CHAIN_TOO_LONG',
	'CRL_SIGNATURE_FAILURE',
	'CRL_NOT_YET_VALID',
	'CRL_HAS_EXPIRED',
	'ERROR_IN_CERT_NOT_BEFORE_FIELD',
	'ERROR_IN_CERT_NOT_AFTER_FIELD',
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'INVALID_CA',
	'INVALID_PURPOSE',
	'PATH_LENGTH_EXCEEDED',
	'HOSTNAME_MISMATCH',
]);

export function toBestOfNError(e: unknown, ctx: ErrorContext): BestOfNError {
	if (e instanceof BestOfNError) return e;
	if (ctx.signal?.aborted || (e instanceof Error && e.name === 'AbortError')) return cancelledError();
	const { host } = ctx;
	const cutError = () =>
		new BestOfNError('stream-cut', `The connection to ${host} closed before ${ctx.unfinished ?? 'the response was complete'}.`, {
			cause: e,
		});

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
			return new BestOfNError(
				'model-not-found',
				`Model "${name}" is not installed on ${host}. Pull it with \`ollama pull ${name}\`.`,
				{ cause: e },
			);
		}
		return new BestOfNError('server', words ? `Ollama at ${host}: ${words}` : `Ollama at ${host} answered HTTP ${e.status_code}.`, {
			cause: e,
		});
	}

	if (e instanceof Error) {
		const code = errorCode(e);
		if (code === HEADERS_TIMEOUT) {
			return new BestOfNError(
				'server',
				`Ollama at ${host} did not start answering within ${FETCH_TIMEOUT_WORDS} (${code}): requests beyond OLLAMA_NUM_PARALLEL wait in its queue. ` +
					'Lower bestOfN.concurrency, or start Ollama with a higher OLLAMA_NUM_PARALLEL.',
				{ cause: e },
			);
		}
		if (code === BODY_TIMEOUT) {
			return new BestOfNError(
				'server',
				`Ollama at ${host} sent nothing for ${FETCH_TIMEOUT_WORDS} before ${ctx.unfinished ?? 'the response was complete'} (${code}): the machine may be overloaded or the model stuck. ` +
					"Lower bestOfN.concurrency or use a smaller model, and check Ollama's log.",
				{ cause: e },
			);
		}
		if (e.message === STREAM_INCOMPLETE || e.message === 'terminated' || (code !== undefined && DROPPED.has(code))) return cutError();
		if (e instanceof TypeError && e.message === 'fetch failed')
			return new BestOfNError('unreachable', notConnected(host, code), { cause: e });
		if (e instanceof SyntaxError) {
			return new BestOfNError(
				'unreachable',
				`${host} answered with something that is not Ollama's JSON; point bestOfN.ollama.host at your Ollama server.`,
				{ cause: e },
			);
		}
		if (e.constructor === Error && e.message) return new BestOfNError('server', `Ollama at ${host}: ${e.message}`, { cause: e });
	}
	return new BestOfNError('server', `Ollama at ${host} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Why fetch never got a response from `host`, by the code of what it hit. */
function notConnected(host: string, code: string | undefined): string {
	if (code === undefined || code === 'ECONNREFUSED') {
		return `Could not reach Ollama at ${host}. Start it with \`ollama serve\`, or point bestOfN.ollama.host at your server.`;
	}
	if (DNS_FAILED.has(code)) {
		return `Could not resolve the host name in ${host} (${code}). Check bestOfN.ollama.host${code === 'EAI_AGAIN' ? ' and your network connection' : ''}.`;
	}
	const tls = `Could not make a trusted HTTPS connection to ${host} (${code}).`;
	if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
		return `${tls} The server there does not speak HTTPS; Ollama itself serves plain HTTP, so check the scheme in bestOfN.ollama.host.`;
	}
	if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
		return `${tls} The server's certificate is not issued for that name; use the name it is issued for in bestOfN.ollama.host.`;
	}
	if (CERT_REJECTED.has(code)) {
		return `${tls} This machine does not trust the server's certificate (expired, self-signed or from an unknown authority); renew it, or add its authority to the trusted certificates.`;
	}
	if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code === 'EPROTO') {
		return `${tls} Check that the server at bestOfN.ollama.host speaks HTTPS with a certificate this machine trusts.`;
	}
	if (NO_ANSWER.has(code)) {
		return `Could not reach Ollama at ${host} (${code}): nothing answered at that address. Check bestOfN.ollama.host, and that this machine can reach the server.`;
	}
	return `Could not reach Ollama at ${host} (${code}). Start it with \`ollama serve\`, or point bestOfN.ollama.host at your server.`;
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

/**
 * What fetch throws, classified the same way for every server we talk to (generation backends, a
 * served reward model). Pure: it reads error objects and makes no request itself.
 * Nothing listening, DNS, TLS, fetch's own timeouts, a connection dropped mid-body, a cancel. Each
 * backend adds its own server's answers
 * (generation/ollamaErrors.ts, generation/openaiErrors.ts) and falls back to this.
 *
 * Node's fetch (undici) throws, as of Node 20–24:
 * - nothing listening, DNS, TLS: `TypeError('fetch failed')` with `cause.code` (`ECONNREFUSED`,
 *   `ENOTFOUND`, `DEPTH_ZERO_SELF_SIGNED_CERT`, …); a socket dropped mid-body: `TypeError('terminated')`
 *   with `cause.code === 'UND_ERR_SOCKET'`; an abort: a DOMException named `AbortError`;
 * - its own timeouts (300 s each): no response headers yet is `TypeError('fetch failed')` with
 *   `cause.code === 'UND_ERR_HEADERS_TIMEOUT'`, no body data is `TypeError('terminated')` with
 *   `cause.code === 'UND_ERR_BODY_TIMEOUT'`. A server that queues requests without answering
 *   (Ollama beyond OLLAMA_NUM_PARALLEL) hits the first on a slow machine: kind `server`, which fails
 *   that candidate alone rather than the run.
 */
import { BestOfNError, cancelledError, type SettingField } from './errors';
import { formatSeconds, IdleTimeoutError } from './idleTimeout';

export interface ServerContext {
	/** The host as the user configured it: the thing they can change. */
	readonly host: string;
	/** How messages name the server: "Ollama", "the server". */
	readonly server: string;
	/** The setting that holds `host`. */
	readonly hostSetting: SettingField;
	/** The way out when nothing answers at all, e.g. "Start it with `ollama serve`, or point {ollamaHost} at your server." */
	readonly startHint: string;
	/** What to do when the server leaves a request waiting for minutes. */
	readonly queueHint: string;
	/** When this signal has aborted, every failure is a cancellation. */
	readonly signal?: AbortSignal;
	/** Completes "The connection to HOST closed before …", e.g. "the candidate finished". */
	readonly unfinished?: string;
}

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

/** The `stream-cut` error for `ctx`: the connection closed before the answer was whole. */
export function streamCut(ctx: ServerContext, cause?: unknown): BestOfNError {
	return new BestOfNError(
		'stream-cut',
		`The connection to ${ctx.host} closed before ${ctx.unfinished ?? 'the response was complete'}: the server stopped, restarted or dropped it (see its log).`,
		{ cause },
	);
}

/**
 * A cancel or a transport failure as a `BestOfNError`, or undefined when `e` is something else
 * (a server's answer, which the backend reads itself).
 */
export function transportError(e: unknown, ctx: ServerContext): BestOfNError | undefined {
	if (e instanceof BestOfNError) return e;
	if (ctx.signal?.aborted || (e instanceof Error && e.name === 'AbortError')) return cancelledError();
	if (!(e instanceof Error)) return undefined;
	const { host, server } = ctx;
	if (e instanceof IdleTimeoutError) {
		// Not fatal: one hung stream fails its own candidates, the others go on.
		return new BestOfNError(
			'server',
			`${capitalize(server)} at ${host} sent nothing for ${formatSeconds(e.ms)} before ${ctx.unfinished ?? 'the response was complete'}, so that request was stopped. ` +
				`If the server is only slow (loading a model, a long prompt, a queue), raise {requestIdleSeconds}.`,
			{ cause: e, setting: 'requestIdleSeconds' },
		);
	}
	const code = errorCode(e);
	if (code === HEADERS_TIMEOUT) {
		return new BestOfNError(
			'server',
			`${capitalize(server)} at ${host} did not start answering within ${FETCH_TIMEOUT_WORDS} (${code}): ${ctx.queueHint}`,
			{ cause: e, setting: 'concurrency' },
		);
	}
	if (code === BODY_TIMEOUT) {
		return new BestOfNError(
			'server',
			`${capitalize(server)} at ${host} sent nothing for ${FETCH_TIMEOUT_WORDS} before ${ctx.unfinished ?? 'the response was complete'} (${code}): the machine may be overloaded or the model stuck. ` +
				`Lower {concurrency} or use a smaller model, and check the server's log.`,
			{ cause: e, setting: 'concurrency' },
		);
	}
	if (e.message === 'terminated' || (code !== undefined && DROPPED.has(code))) return streamCut(ctx, e);
	if (e instanceof TypeError && e.message === 'fetch failed') {
		return new BestOfNError('unreachable', notConnected(ctx, code), { cause: e, setting: ctx.hostSetting });
	}
	return undefined;
}

/** Why fetch never got a response from the host, by the code of what it hit. */
function notConnected(ctx: ServerContext, code: string | undefined): string {
	const { host, server } = ctx;
	const setting = `{${ctx.hostSetting}}`;
	if (code === undefined || code === 'ECONNREFUSED') return `Could not reach ${server} at ${host}. ${ctx.startHint}`;
	if (DNS_FAILED.has(code)) {
		return `Could not resolve the host name in ${host} (${code}). Check ${setting}${code === 'EAI_AGAIN' ? ' and your network connection' : ''}.`;
	}
	const tls = `Could not make a trusted HTTPS connection to ${host} (${code}).`;
	if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
		return `${tls} The server there does not speak HTTPS; check the scheme in ${setting} (Ollama itself serves plain HTTP).`;
	}
	if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
		return `${tls} The server's certificate is not issued for that name; use the name it is issued for in ${setting}.`;
	}
	if (CERT_REJECTED.has(code)) {
		return `${tls} This machine does not trust the server's certificate (expired, self-signed or from an unknown authority); renew it, or add its authority to the trusted certificates.`;
	}
	if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code === 'EPROTO') {
		return `${tls} Check that the server at ${setting} speaks HTTPS with a certificate this machine trusts.`;
	}
	if (NO_ANSWER.has(code)) {
		return `Could not reach ${server} at ${host} (${code}): nothing answered at that address. Check ${setting}, and that this machine can reach the server.`;
	}
	return `Could not reach ${server} at ${host} (${code}). ${ctx.startHint}`;
}

/** The first `code` along the cause chain (fetch hides the socket error one level down). */
export function errorCode(e: unknown): string | undefined {
	for (let current: unknown = e, depth = 0; current && depth < 5; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string') return code;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

function capitalize(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Keeps an API key out of a text: servers quote it back (OpenAI: "Incorrect API key provided:
 * sk-abc***xyz"), whole or masked. The key itself, and any word that starts like it, become "[key]".
 * Applied to raw bodies too, before they are parsed or kept.
 */
export function redactKey(text: string, apiKey: string | undefined): string {
	if (!apiKey) return text;
	let out = text.split(apiKey).join('[key]');
	const head = apiKey.slice(0, Math.min(6, Math.max(3, apiKey.length - 4)));
	// Up to a space or a delimiter, so a JSON body stays JSON.
	if (head.length >= 3) out = out.replace(new RegExp(`${escapeRegExp(head)}[^\\s"'\\\\,;)\\]}]*`, 'g'), '[key]');
	return out;
}

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

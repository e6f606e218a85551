import { Ollama } from 'ollama';

/** The host answered, but not with Ollama's JSON (an HTML page, a proxy's text error, an empty 403). */
export class NotOllamaResponseError extends Error {
	constructor(
		readonly status: number,
		readonly statusText: string,
		readonly contentType: string,
	) {
		super(`HTTP ${status} ${statusText} with content type "${contentType}"`);
		this.name = 'NotOllamaResponseError';
	}
}

/**
 * A line of an NDJSON stream that is not JSON (a proxy that mangled the stream, a server fault).
 * ollama-js would skip it with a `console.warn` quoting the line, and the candidate would be shown
 * whole with a piece missing; here it ends the stream instead, and the line is quoted nowhere.
 */
export class MalformedLineError extends Error {
	constructor() {
		super('a line of the stream is not JSON');
		this.name = 'MalformedLineError';
	}
}

export interface OllamaConnection {
	readonly client: Ollama;
	/** Aborts whatever this client still has open. Call it when done, whatever the outcome. */
	close(): void;
}

/**
 * One `ollama` client whose every request follows `signal`, for one operation.
 *
 * ollama-js cannot do this alone: it aborts only streams it has already handed out
 * (`iterator.abort()`), its non-streamed calls take no signal, and a request Ollama has queued
 * (OLLAMA_NUM_PARALLEL) gets no response headers, so there is no iterator to abort yet. The fetch
 * given to the client therefore carries our signal from the first byte. It also refuses answers
 * that are not JSON, which ollama-js would otherwise turn into an "error" holding a whole HTML page.
 *
 * `onData` is called as the headers and each piece of a streamed body arrive (the generator's idle
 * timeout), and a streamed line that is not JSON ends the stream (`MalformedLineError`).
 *
 * Node's fetch (undici) gives up on a request after 300 s without response headers, which is what a
 * request queued behind OLLAMA_NUM_PARALLEL gets; `ollamaErrors.ts` reports that as a queue to shorten,
 * not as a dead server. Lifting the limit would take a `dispatcher`: an undici Agent (a package we
 * do not depend on), or a wrapper around Node's unexported global one (reached through
 * `Symbol.for('undici.globalDispatcher.1')`, only after a first fetch). Inside VS Code, with its
 * default settings, its fetch patch replaces the dispatcher of every request anyway (proxy and
 * system-certificate support), so neither would help there and the limit stays.
 */
export function connectOllama(host: string, signal?: AbortSignal, onData?: () => void): OllamaConnection {
	const controller = new AbortController();
	const onAbort = () => controller.abort();
	if (signal?.aborted) controller.abort();
	else signal?.addEventListener('abort', onAbort, { once: true });

	const guardedFetch: typeof fetch = async (input, init) => {
		const combined = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
		const response = await fetch(input, { ...init, signal: combined });
		const contentType = response.headers.get('content-type') ?? '';
		if (!/json/i.test(contentType)) {
			await response.body?.cancel().catch(() => undefined);
			throw new NotOllamaResponseError(response.status, response.statusText, contentType);
		}
		if (!response.body || !/ndjson/i.test(contentType)) return response;
		onData?.();
		const body = response.body.pipeThrough(checkedLines(onData));
		return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
	};

	return {
		client: new Ollama({ host, fetch: guardedFetch }),
		close() {
			signal?.removeEventListener('abort', onAbort);
			// After a normal finish this is a no-op; otherwise it drops the socket instead of leaving a
			// half-read response (ollama-js stops reading at the `done` line) attached to it.
			controller.abort();
		},
	};
}

/**
 * Passes an NDJSON body through unchanged, calling `onData` for every piece (a sign of life for the
 * idle timeout), and errors it with `MalformedLineError` at the first whole line that is not JSON.
 */
function checkedLines(onData?: () => void): TransformStream<Uint8Array, Uint8Array> {
	const decoder = new TextDecoder();
	let pending = '';
	const check = (line: string): boolean => {
		if (!line.trim()) return true;
		try {
			JSON.parse(line);
			return true;
		} catch {
			return false;
		}
	};
	return new TransformStream<Uint8Array, Uint8Array>({
		transform(chunk, out) {
			onData?.();
			pending += decoder.decode(chunk, { stream: true });
			const lines = pending.split('\n');
			pending = lines.pop() ?? '';
			if (!lines.every(check)) return out.error(new MalformedLineError());
			out.enqueue(chunk);
		},
		flush(out) {
			if (!check(pending + decoder.decode())) out.error(new MalformedLineError());
		},
	});
}

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
 * Node's fetch (undici) gives up on a request after 300 s without response headers, which is what a
 * request queued behind OLLAMA_NUM_PARALLEL gets; `ollamaErrors.ts` reports that as a queue to shorten,
 * not as a dead server. Lifting the limit would take a `dispatcher`: an undici Agent (a package we
 * do not depend on), or a wrapper around Node's unexported global one (reached through
 * `Symbol.for('undici.globalDispatcher.1')`, only after a first fetch). Inside VS Code, with its
 * default settings, its fetch patch replaces the dispatcher of every request anyway (proxy and
 * system-certificate support), so neither would help there and the limit stays.
 */
export function connectOllama(host: string, signal?: AbortSignal): OllamaConnection {
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
		return response;
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

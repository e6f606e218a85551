/**
 * What the `ollama` client threw, as a `BestOfNError`: Ollama's own answers here, transport failures
 * through the shared `httpErrors.ts`. The generator and the admin calls both go through `toBestOfNError`.
 *
 * What ollama-js throws, as of 0.6.x, besides fetch's own errors:
 * - a non-2xx JSON answer: `ResponseError` (not exported; `name === 'ResponseError'`, with
 *   `status_code` and `error`, the server's own words);
 * - an `{"error":…}` line inside a stream: a plain `Error` with the server's words;
 * - a stream that ended without its `done`/`success` line: `Error('Did not receive done or success
 *   response in stream.')`.
 */
import { BestOfNError } from '../core/errors';
import { streamCut, transportError, type ServerContext } from '../core/httpErrors';
import { MalformedLineError, NotOllamaResponseError } from './ollamaClient';

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

function serverContext(ctx: ErrorContext): ServerContext {
	return {
		...ctx,
		server: 'Ollama',
		hostSetting: 'ollamaHost',
		startHint: 'Start it with `ollama serve`, or point {ollamaHost} at your server.',
		queueHint:
			'requests beyond OLLAMA_NUM_PARALLEL wait in its queue. Lower {concurrency}, or start Ollama with a higher OLLAMA_NUM_PARALLEL.',
	};
}

export function toBestOfNError(e: unknown, ctx: ErrorContext): BestOfNError {
	const server = serverContext(ctx);
	const transport = transportError(e, server);
	if (transport) return transport;
	const { host } = ctx;

	if (e instanceof MalformedLineError) {
		// Mid-stream, from a host that did answer as Ollama: this request's fault, not a wrong host.
		return new BestOfNError(
			'server',
			`Ollama at ${host} sent a stream line that is not JSON before ${ctx.unfinished ?? 'the response was complete'}, so that stream was stopped (a proxy in between, or a fault of the server: see its log).`,
			{ cause: e },
		);
	}

	if (e instanceof NotOllamaResponseError) {
		const what = e.contentType ? `${e.contentType.split(';')[0]}` : 'no content type';
		return new BestOfNError(
			'unreachable',
			`${host} answered HTTP ${e.status} with ${what}, which is not Ollama; point {ollamaHost} at your Ollama server.`,
			{
				cause: e,
				setting: 'ollamaHost',
			},
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
				{
					cause: e,
					setting: 'model',
				},
			);
		}
		return new BestOfNError('server', words ? `Ollama at ${host}: ${words}` : `Ollama at ${host} answered HTTP ${e.status_code}.`, {
			cause: e,
		});
	}

	if (e instanceof Error) {
		if (e.message === STREAM_INCOMPLETE) return streamCut(server, e);
		if (e instanceof SyntaxError) {
			return new BestOfNError(
				'unreachable',
				`${host} answered with something that is not Ollama's JSON; point {ollamaHost} at your Ollama server.`,
				{
					cause: e,
					setting: 'ollamaHost',
				},
			);
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

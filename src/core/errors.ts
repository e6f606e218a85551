/**
 * Errors a person can act on. Every layer converts what went wrong into a `BestOfNError` whose
 * `message` is one sentence naming the culprit, and whose `kind` lets the UI offer the way out
 * (start Ollama, pull the model, open settings, show the log).
 */

export type ErrorKind =
	/** Nothing answered at the host: Ollama is not running or the host setting is wrong. */
	| 'unreachable'
	/** The server answered that the generation model is not installed. */
	| 'model-not-found'
	/** The server answered with an error of its own; the message carries its words. */
	| 'server'
	/** The connection ended before the response's final line. */
	| 'stream-cut'
	/** The user (or a new run) cancelled. Never shown as a failure. */
	| 'cancelled'
	/** The reward model could not be found (no such folder or Hub id, or no network to fetch it). */
	| 'reward-not-found'
	/** The reward model exists but has no ONNX export that transformers.js can load. */
	| 'reward-no-onnx'
	/** The reward model failed to load or score for another reason. */
	| 'reward-failed'
	/** The built-in generator's model failed to load or to generate for a reason other than a missing piece. */
	| 'builtin-failed'
	/** The reward worker crashed or exited. */
	| 'worker-crashed'
	/** The user's input was unusable (empty selection, empty instruction). */
	| 'bad-input';

export class BestOfNError extends Error {
	constructor(
		readonly kind: ErrorKind,
		message: string,
		options?: { cause?: unknown },
	) {
		super(message, options);
		this.name = 'BestOfNError';
	}
}

export function isCancelled(e: unknown): boolean {
	return (e instanceof BestOfNError && e.kind === 'cancelled') || (e instanceof Error && e.name === 'AbortError');
}

export function cancelledError(): BestOfNError {
	return new BestOfNError('cancelled', 'Cancelled.');
}

/** A message for anything thrown, preferring our own sentences. */
export function errorMessage(e: unknown): string {
	if (e instanceof Error) return e.message;
	return String(e);
}

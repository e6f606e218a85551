/**
 * The contract between a run and a model server. `core` states what it needs; `generation/`
 * implements it with the `ollama` client. Tests and the CLI use the same implementation.
 */

export interface ChatMessage {
	readonly role: 'system' | 'user' | 'assistant';
	readonly content: string;
}

export interface GenerationOptions {
	readonly temperature: number;
	readonly topP: number;
	readonly maxTokens: number;
	/** 0 leaves the model's default context length. */
	readonly contextLength: number;
	/** Same seed + same options gives the same text: each candidate gets its own. */
	readonly seed: number;
}

export interface GenerationRequest {
	readonly model: string;
	readonly messages: readonly ChatMessage[];
	readonly options: GenerationOptions;
}

export interface GenerationResult {
	readonly text: string;
	/** Tokens generated, as the server counted them (`eval_count`). */
	readonly tokens?: number;
	/** Server-side generation time in ms (`eval_duration`). */
	readonly evalMs?: number;
	/** Why generation stopped (`stop`, `length`), when the server says. */
	readonly doneReason?: string;
}

/**
 * Streams one completion. Calls `onDelta` with each new piece of text as it arrives. Rejects with a
 * `BestOfNError` (kind `cancelled` when `signal` aborts; the stream is closed at once in that case).
 */
export interface CandidateGenerator {
	generate(request: GenerationRequest, signal: AbortSignal, onDelta: (delta: string) => void): Promise<GenerationResult>;
}

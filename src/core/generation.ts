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
	/**
	 * The server's own generation time in ms (Ollama's `eval_duration`; the built-in model's batch),
	 * without queueing or reading the prompt: `tokens / evalMs` is the model's speed.
	 */
	readonly evalMs?: number;
	/** Why generation stopped (`stop`, `length`), when the server says. */
	readonly doneReason?: string;
}

/** Where `generateMany` reports each candidate, by its index 0…count-1. */
export interface CandidateSink {
	/**
	 * The candidate's text may start arriving now (its request is open, or its choice appeared), from a
	 * request with this seed (shared by the choices of one request with `n`).
	 */
	started(index: number, seed: number): void;
	delta(index: number, text: string): void;
	finished(index: number, result: GenerationResult): void;
	/** A `BestOfNError`; the other candidates go on. */
	failed(index: number, error: unknown): void;
}

export interface CandidateGenerator {
	/**
	 * Streams one completion. Calls `onDelta` with each new piece of text as it arrives. Rejects with a
	 * `BestOfNError` (kind `cancelled` when `signal` aborts; the stream is closed at once in that case).
	 */
	generate(request: GenerationRequest, signal: AbortSignal, onDelta: (delta: string) => void): Promise<GenerationResult>;
	/**
	 * Generates `count` candidates for one request in as few requests as the server allows (all of them
	 * in one, with OpenAI's `n`, where the server honours it), at most `concurrency` requests open at
	 * once. Where candidates go out one per request, candidate i gets seed `options.seed + i`. Each
	 * candidate gets one `finished` or `failed` unless `signal` aborts, which closes every stream at
	 * once. Resolves when every candidate has settled. Without it, a run calls `generate` per candidate.
	 */
	generateMany?(request: GenerationRequest, count: number, concurrency: number, signal: AbortSignal, sink: CandidateSink): Promise<void>;
}

/** The pickers' catalog (`modelCatalog.ts`) defines models and pull progress; a backend reports the same. */
export type { PullProgress, ServerModel } from './modelCatalog';
import type { PullProgress, ServerModel } from './modelCatalog';
import type { BackendKind } from './settings';

/**
 * A generation server as the front ends see it: candidates, the models it offers, and what only
 * some servers can do. `generation/backends.ts` builds one from the settings.
 */
export interface GenerationBackend extends CandidateGenerator {
	/** Which kind of server (the `bestOfN.backend` value). */
	readonly id: BackendKind;
	/** Where requests go, as configured (named in messages and the picker). */
	readonly host: string;
	/** For titles and messages: "Ollama at http://127.0.0.1:11434". */
	readonly serverName: string;
	/**
	 * The models the server offers now (Ollama: installed, with sizes and which are loaded; an
	 * OpenAI-compatible server: what `/v1/models` serves). Rejects with the same `BestOfNError`s as `generate`.
	 */
	listModels(signal?: AbortSignal): Promise<ServerModel[]>;
	/**
	 * Installs a model on the server, streaming progress; resolves once it is there. Only backends
	 * whose server can do it have this (Ollama); front ends offer "Pull" only then.
	 */
	readonly pullModel?: (name: string, signal: AbortSignal, onProgress: (progress: PullProgress) => void) => Promise<void>;
}

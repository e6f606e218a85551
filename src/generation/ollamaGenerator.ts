import type { ChatResponse } from 'ollama';
import { cancelledError } from '../core/errors';
import { IdleTimer } from '../core/idleTimeout';
import type { GenerationBackend, GenerationRequest, GenerationResult, PullProgress, ServerModel } from '../core/generation';
import { type Logger, nullLogger } from '../core/logger';
import { listModels, listRunning, pullModel } from './ollamaAdmin';
import { toBestOfNError } from './ollamaErrors';
import { connectOllama } from './ollamaClient';

export interface OllamaGeneratorOptions {
	/** Base URL of the Ollama server, as configured (it is named in error messages). */
	readonly host: string;
	readonly logger?: Logger;
	/** A candidate fails when nothing arrives for this long (`requestIdleSeconds`); 0 or absent: no limit of ours. */
	readonly idleMs?: number;
}

/**
 * Streams one candidate from Ollama's `/api/chat`. Each call has its own client and connection, so
 * aborting one candidate's signal closes that candidate's stream and nothing else. Ollama can pull
 * models, so this backend has `pullModel`.
 */
export class OllamaGenerator implements GenerationBackend {
	readonly id = 'ollama';
	readonly host: string;
	readonly serverName: string;
	private readonly logger: Logger;
	private readonly idleMs: number;

	constructor(options: OllamaGeneratorOptions) {
		this.host = options.host;
		this.serverName = `Ollama at ${options.host}`;
		this.logger = options.logger ?? nullLogger;
		this.idleMs = options.idleMs ?? 0;
	}

	async listModels(signal?: AbortSignal): Promise<ServerModel[]> {
		// Both at once: /api/ps is cheap, and a server that cannot say what is loaded still lists models.
		const [installed, running] = await Promise.all([
			listModels(this.host, signal),
			listRunning(this.host, signal).catch(() => undefined),
		]);
		const inMemory = running && new Set(running.map(m => m.name));
		return installed.map(m => ({
			name: m.name,
			sizeBytes: m.size,
			parameterSize: m.parameterSize,
			quantization: m.quantization,
			loaded: inMemory ? inMemory.has(m.name) : undefined,
		}));
	}

	readonly pullModel = (name: string, signal: AbortSignal, onProgress: (progress: PullProgress) => void): Promise<void> =>
		pullModel(this.host, name, signal, onProgress);

	async generate(request: GenerationRequest, signal: AbortSignal, onDelta: (delta: string) => void): Promise<GenerationResult> {
		if (signal.aborted) throw cancelledError();
		const { model, options } = request;
		const idle = new IdleTimer(this.idleMs, signal);
		const connection = connectOllama(this.host, idle.signal, () => idle.touch());
		let stopStream: (() => void) | undefined;
		const onAbort = () => stopStream?.();
		signal.addEventListener('abort', onAbort, { once: true });
		const started = Date.now();
		try {
			const stream = await connection.client.chat({
				model,
				messages: request.messages.map(m => ({ role: m.role, content: m.content })),
				stream: true,
				options: {
					seed: options.seed,
					temperature: options.temperature,
					top_p: options.topP,
					num_predict: options.maxTokens,
					...(options.contextLength > 0 ? { num_ctx: options.contextLength } : {}),
				},
			});
			stopStream = () => stream.abort();
			if (signal.aborted) stream.abort();

			let text = '';
			let final: ChatResponse | undefined;
			for await (const part of stream) {
				if (signal.aborted) break;
				const delta = part.message?.content ?? '';
				if (delta) {
					text += delta;
					onDelta(delta);
				}
				if (part.done) final = part;
			}
			if (signal.aborted) throw cancelledError();
			const evalMs = typeof final?.eval_duration === 'number' ? final.eval_duration / 1e6 : undefined;
			this.logger.debug(
				`Ollama ${model} seed ${options.seed}: ${final?.eval_count ?? '?'} tokens in ${Date.now() - started} ms${evalMs !== undefined ? `, ${Math.round(evalMs)} ms of them generating` : ''} (${final?.done_reason ?? 'no reason'}).`,
			);
			return {
				text,
				tokens: final?.eval_count,
				evalMs,
				doneReason: final?.done_reason || undefined,
			};
		} catch (e) {
			const error = toBestOfNError(idle.fired && !signal.aborted ? idle.error : e, {
				host: this.host,
				model,
				signal,
				unfinished: 'the candidate finished',
			});
			if (error.kind !== 'cancelled') this.logger.debug(`Ollama ${model} seed ${options.seed} failed: ${error.message}`, e);
			throw error;
		} finally {
			idle.stop();
			signal.removeEventListener('abort', onAbort);
			connection.close();
		}
	}
}

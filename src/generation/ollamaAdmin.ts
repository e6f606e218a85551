/**
 * The server-side chores around generation: which models are installed, which Ollama answers,
 * and pulling a model. Failures become the same `BestOfNError`s as the generator's.
 */
import { modelContextFromShow, type ModelContext } from '../core/contextBudget';
import { cancelledError } from '../core/errors';
import type { PullProgress } from '../core/modelCatalog';
import { toBestOfNError } from './ollamaErrors';
import { connectOllama } from './ollamaClient';

export interface InstalledModel {
	/** As Ollama names it, with its tag (`llama3.1:8b`, `qwen2.5-coder:latest`). */
	readonly name: string;
	/** Bytes on disk. */
	readonly size: number;
	/** As Ollama reports it, e.g. "8.0B". */
	readonly parameterSize?: string;
	readonly family?: string;
	/** As Ollama reports it, e.g. "Q4_K_M". */
	readonly quantization?: string;
	/** ISO 8601 time the model was last pulled or created. */
	readonly modifiedAt: string;
}

export type { PullProgress };

export interface RunningModel {
	readonly name: string;
	/** Bytes in memory (RAM and VRAM together), not on disk. */
	readonly size: number;
	/** ISO 8601 time Ollama unloads it unless it is used again. */
	readonly expiresAt: string;
}

export async function listModels(host: string, signal?: AbortSignal): Promise<InstalledModel[]> {
	return withClient(host, signal, 'the model list arrived', async client => {
		const { models } = await client.list();
		return (models ?? []).map(m => ({
			name: m.name,
			size: m.size,
			parameterSize: m.details?.parameter_size || undefined,
			family: m.details?.family || undefined,
			quantization: m.details?.quantization_level || undefined,
			// Typed as Date by ollama-js, but it is the JSON string the server sent.
			modifiedAt: String(m.modified_at),
		}));
	});
}

/** The models in memory now (`/api/ps`). */
export async function listRunning(host: string, signal?: AbortSignal): Promise<RunningModel[]> {
	return withClient(host, signal, 'the list of loaded models arrived', async client => {
		const { models } = await client.ps();
		return (models ?? []).map(m => ({ name: m.name, size: m.size, expiresAt: String(m.expires_at) }));
	});
}

/** The version string Ollama reports (`0.12.6`); also the cheapest "is it there?" probe. */
export async function serverVersion(host: string, signal?: AbortSignal): Promise<string> {
	return withClient(host, signal, 'its version arrived', async client => {
		const { version } = await client.version();
		return version;
	});
}

/** What `/api/show` says of `model`'s context window. An unknown model rejects with kind `model-not-found`. */
export async function modelContext(host: string, model: string, signal?: AbortSignal): Promise<ModelContext> {
	return withClient(host, signal, 'the model details arrived', async client => modelContextFromShow(await client.show({ model })), model);
}

/** Pulls `name`, reporting each progress line; resolves on Ollama's "success". */
export async function pullModel(
	host: string,
	name: string,
	signal: AbortSignal,
	onProgress: (progress: PullProgress) => void,
): Promise<void> {
	return withClient(host, signal, `pulling ${name} finished`, async client => {
		const stream = await client.pull({ model: name, stream: true });
		const stop = () => stream.abort();
		signal.addEventListener('abort', stop, { once: true });
		try {
			if (signal.aborted) stream.abort();
			for await (const line of stream) {
				if (signal.aborted) break;
				if (line.total > 0) {
					const completed = Math.min(line.total, line.completed ?? 0);
					onProgress({ status: line.status, completed, total: line.total, percent: Math.floor((100 * completed) / line.total) });
				} else {
					onProgress({ status: line.status });
				}
			}
		} finally {
			signal.removeEventListener('abort', stop);
		}
	});
}

async function withClient<T>(
	host: string,
	signal: AbortSignal | undefined,
	unfinished: string,
	run: (client: ReturnType<typeof connectOllama>['client']) => Promise<T>,
	model?: string,
): Promise<T> {
	if (signal?.aborted) throw cancelledError();
	const connection = connectOllama(host, signal);
	try {
		const result = await run(connection.client);
		if (signal?.aborted) throw cancelledError();
		return result;
	} catch (e) {
		// A model only where the call is about one: a 404 from /api/pull must not read as "pull the model".
		throw toBestOfNError(e, { host, model, signal, unfinished });
	} finally {
		connection.close();
	}
}

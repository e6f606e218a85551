/**
 * Builds the `ModelCatalog` the model pickers use for the configured generation server. One function
 * per backend; the pickers call `modelCatalogFor(settings)` and never name an engine.
 */
import type { ModelCatalog, ServerModel } from '../core/modelCatalog';
import type { Settings } from '../core/settings';
import { listModels, listRunning, pullModel } from './ollamaAdmin';

export function modelCatalogFor(settings: Settings): ModelCatalog {
	return ollamaCatalog(settings.ollamaHost);
}

export function ollamaCatalog(host: string): ModelCatalog {
	return {
		serverName: `Ollama at ${host}`,
		hostSetting: 'ollama.host',
		async listModels(signal: AbortSignal): Promise<ServerModel[]> {
			// Both at once: /api/ps is cheap, and a server that cannot say what is loaded still lists models.
			const [installed, running] = await Promise.all([listModels(host, signal), listRunning(host, signal).catch(() => undefined)]);
			const inMemory = running && new Set(running.map(m => m.name));
			return installed.map(m => ({
				name: m.name,
				sizeBytes: m.size,
				parameterSize: m.parameterSize,
				quantization: m.quantization,
				loaded: inMemory ? inMemory.has(m.name) : undefined,
			}));
		},
		pull: (name, signal, onProgress) => pullModel(host, name, signal, onProgress),
	};
}

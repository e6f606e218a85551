/**
 * The `ModelCatalog` the model pickers use for the configured generation server, built from the same
 * backend the runs use: Ollama's installed models (and pulling), or an OpenAI-compatible server's
 * `/v1/models` (which cannot pull). The pickers never name an engine.
 */
import type { GenerationBackend } from '../core/generation';
import type { ModelCatalog } from '../core/modelCatalog';
import { keyOf, type Settings } from '../core/settings';
import { createBackend, type BackendOptions } from './backends';
import { OllamaGenerator } from './ollamaGenerator';

export function modelCatalogFor(settings: Settings, options: BackendOptions = {}): ModelCatalog {
	return catalogOf(createBackend(settings, options));
}

export function catalogOf(backend: GenerationBackend): ModelCatalog {
	return {
		serverName: backend.serverName,
		hostSetting: keyOf(backend.id === 'openai' ? 'openaiBaseUrl' : backend.id === 'builtin' ? 'builtinModel' : 'ollamaHost'),
		listModels: signal => backend.listModels(signal),
		pull: backend.pullModel,
	};
}

export function ollamaCatalog(host: string): ModelCatalog {
	return catalogOf(new OllamaGenerator({ host }));
}

/**
 * The one place that turns settings into a generation backend. The extension and the CLI both call
 * `createBackend`; neither constructs a generator itself, so a new backend is a case here.
 */
import type { GenerationBackend } from '../core/generation';
import type { Logger } from '../core/logger';
import type { Settings } from '../core/settings';
import { OllamaGenerator } from './ollamaGenerator';
import { OpenAIGenerator } from './openaiGenerator';

export interface BackendOptions {
	readonly logger?: Logger;
	/**
	 * The API key for a base URL, read when a request is made: from VS Code's secret storage in the
	 * extension, `OPENAI_API_KEY` in the CLI. Never from settings.
	 */
	readonly apiKey?: (baseUrl: string) => Promise<string | undefined>;
}

export function createBackend(settings: Settings, options: BackendOptions = {}): GenerationBackend {
	switch (settings.backend) {
		case 'ollama':
			return new OllamaGenerator({ host: settings.ollamaHost, logger: options.logger });
		case 'openai': {
			const baseUrl = settings.openaiBaseUrl;
			return new OpenAIGenerator({ baseUrl, logger: options.logger, apiKey: options.apiKey && (() => options.apiKey!(baseUrl)) });
		}
		default: {
			const never: never = settings.backend;
			throw new Error(`unknown backend ${String(never)}`);
		}
	}
}

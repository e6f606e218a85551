/**
 * The one place that turns settings into a generation backend. The extension and the CLI both call
 * `createBackend`; neither constructs a generator itself, so a new backend is a case here.
 */
import type { GenerationBackend } from '../core/generation';
import type { Logger } from '../core/logger';
import { BUILTIN_HOST, type Settings } from '../core/settings';
import { BestOfNError } from '../core/errors';
import { OllamaGenerator } from './ollamaGenerator';
import { OpenAIGenerator } from './openaiGenerator';

export interface BackendOptions {
	readonly logger?: Logger;
	/**
	 * The API key for a base URL, read when a request is made: from VS Code's secret storage in the
	 * extension, `OPENAI_API_KEY` in the CLI. Never from settings.
	 */
	readonly apiKey?: (baseUrl: string) => Promise<string | undefined>;
	/**
	 * The built-in generator for these settings: the extension's warm one (kept across runs, asked for
	 * only after the person agreed to its download), or one the CLI starts for its single run.
	 */
	readonly builtin?: (settings: Settings) => GenerationBackend | undefined;
}

export function createBackend(settings: Settings, options: BackendOptions = {}): GenerationBackend {
	switch (settings.backend) {
		case 'ollama':
			return new OllamaGenerator({ host: settings.ollamaHost, logger: options.logger, idleMs: settings.requestIdleSeconds * 1000 });
		case 'openai': {
			const baseUrl = settings.openaiBaseUrl;
			return new OpenAIGenerator({
				baseUrl,
				logger: options.logger,
				apiKey: options.apiKey && (() => options.apiKey!(baseUrl)),
				idleMs: settings.requestIdleSeconds * 1000,
			});
		}
		case 'builtin':
			return options.builtin?.(settings) ?? builtinListing(settings);
		default: {
			const never: never = settings.backend;
			throw new Error(`unknown backend ${String(never)}`);
		}
	}
}

/**
 * The built-in backend where a caller only lists models (the pickers, the walkthrough): its one model,
 * without starting a worker. Generating needs the front end's generator (`BackendOptions.builtin`).
 */
function builtinListing(settings: Settings): GenerationBackend {
	const unavailable = async (): Promise<never> => {
		throw new BestOfNError(
			'builtin-failed',
			`The built-in model ${settings.builtinModel} is not downloaded yet; run Best-of-N again and agree to the download, or choose a server in {backend}.`,
			{ setting: 'backend' },
		);
	};
	return {
		id: 'builtin',
		host: BUILTIN_HOST,
		serverName: 'the built-in model',
		listModels: async () => [{ name: settings.builtinModel }],
		generate: unavailable,
	};
}

/**
 * The one place that turns settings into a generation backend. The extension and the CLI both call
 * `createBackend`; neither constructs a generator itself, so a new backend is a case here.
 */
import type { GenerationBackend } from '../core/generation';
import type { Logger } from '../core/logger';
import type { Settings } from '../core/settings';
import { OllamaGenerator } from './ollamaGenerator';

export interface BackendOptions {
	readonly logger?: Logger;
}

export function createBackend(settings: Settings, options: BackendOptions = {}): GenerationBackend {
	return new OllamaGenerator({ host: settings.ollamaHost, logger: options.logger });
}

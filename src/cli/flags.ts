/** The CLI names settings by their flags; the shared layers' errors carry a settings field, rendered here. */
import type { SettingField } from '../core/errors';

/** The flag that sets each settings field; the CLI's errors name these where the extension names settings. */
export const FLAGS: Partial<Record<SettingField, string>> = {
	backend: '--backend',
	ollamaHost: '--host',
	openaiBaseUrl: '--host',
	model: '--model',
	builtinModel: '--model',
	builtinDtype: '--builtin-dtype',
	candidates: '--n',
	temperature: '--temperature',
	maxTokens: '--max-tokens',
	concurrency: '--concurrency',
	requestIdleSeconds: '--idle-timeout',
	rewardModel: '--reward-model',
	rewardDtype: '--dtype',
	ranker: '--ranker',
};

/** A setting without a flag keeps its settings name, which says what it is. */
export function flagName(field: SettingField): string {
	return FLAGS[field] ?? `the ${field} setting`;
}

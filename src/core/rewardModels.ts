/**
 * The reward models the picker recommends, each with what is known about it (public model cards and
 * RewardBench; see README), and the one-time conversion a Hub model without ONNX weights needs.
 * Nothing here is measured by us: where a figure is not public, the note says so rather than guess.
 */

export interface RecommendedRewardModel {
	readonly id: string;
	/** Architecture, size, licence: one short line. */
	readonly facts: string;
	/** What it is good and bad at, honestly. */
	readonly note: string;
}

export const RECOMMENDED_REWARD_MODELS: readonly RecommendedRewardModel[] = [
	{
		id: 'OpenAssistant/reward-model-deberta-v3-large-v2',
		facts: 'DeBERTa-v3-large, ~435 M parameters, MIT',
		note: 'General preference model (Anthropic HH validation 69%). Weak on code and favours longer answers: treat its order as advice.',
	},
	{
		id: 'sileod/deberta-v3-large-tasksource-rlhf-reward-model',
		facts: 'DeBERTa-v3-large, same size; licence on its model card',
		note: 'Higher on Anthropic HH validation than the OpenAssistant one (75%); not measured on code here.',
	},
	{
		id: 'OpenAssistant/reward-model-deberta-v3-base',
		facts: 'DeBERTa-v3-base: smaller and faster than the large ones; licence on its model card',
		note: 'Same kind of training data as the large v2, with the same weaknesses (code, length).',
	},
];

/** `~/models/reward-model-deberta-v3-large-v2`: where the conversion of `id` is suggested to go. */
export function suggestedFolder(id: string): string {
	const name = id.split('/').filter(Boolean).at(-1) ?? 'reward-model';
	return `~/models/${name}`;
}

/** The exact `optimum-cli` line that writes an ONNX export of `model` (a Hub id or a folder) into `folder`. */
export function conversionCommand(model: string, folder: string): string {
	return `optimum-cli export onnx --model ${shellQuote(model)} --task text-classification ${shellQuote(folder)}`;
}

/** Quotes for POSIX shells and PowerShell alike when needed; `~/` stays outside quotes so the shell expands it. */
function shellQuote(value: string): string {
	if (/^[\w@%+=:,./~-]+$/.test(value)) return value;
	const home = value.startsWith('~/') ? '~/' : '';
	const rest = home ? value.slice(2) : value;
	return `${home}'${rest.replace(/'/g, `'\\''`)}'`;
}

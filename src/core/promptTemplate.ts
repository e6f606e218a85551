/**
 * Prompt templates from the settings (`bestOfN.prompts.rewrite`, `bestOfN.prompts.explain`): the user
 * message sent to the model, with `{name}` placeholders filled from the run; `{{` and `}}` stand for
 * literal braces. A placeholder nobody fills is reported and the template is not used, so a typo is
 * never sent to the model as text.
 */

export const PROMPT_PLACEHOLDERS = ['instruction', 'selection', 'language', 'fileName', 'before', 'after'] as const;
export type PromptPlaceholder = (typeof PROMPT_PLACEHOLDERS)[number];
export type PromptValues = Readonly<Record<PromptPlaceholder, string>>;

const TOKEN = /\{\{|\}\}|\{([^{}]*)\}/g;

/** The placeholders in `template` that are not known, as written (`{fielName}`), in order. */
export function unknownPlaceholders(template: string): string[] {
	const unknown: string[] = [];
	for (const m of template.matchAll(TOKEN)) {
		if (m[1] !== undefined && !(PROMPT_PLACEHOLDERS as readonly string[]).includes(m[1].trim())) unknown.push(m[0]);
	}
	return unknown;
}

export function fillTemplate(template: string, values: PromptValues): string {
	return template.replace(TOKEN, (token, name: string | undefined) => {
		if (token === '{{') return '{';
		if (token === '}}') return '}';
		const key = name!.trim() as PromptPlaceholder;
		if (!(PROMPT_PLACEHOLDERS as readonly string[]).includes(key)) throw new Error(`unknown placeholder ${token}`);
		return values[key];
	});
}

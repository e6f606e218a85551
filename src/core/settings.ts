/**
 * Settings, parsed in one place from untyped configuration values into a validated `Settings`.
 * Both the extension (from `workspace.getConfiguration('bestOfN')`) and the CLI (from flags) go through
 * `parseSettings`, so defaults, ranges and clamping cannot drift between the two front ends.
 * The defaults here must match `contributes.configuration` in package.json (a unit test checks it).
 */
import { PROMPT_PLACEHOLDERS, unknownPlaceholders } from './promptTemplate';

export type RankerMode = 'auto' | 'reward' | 'consensus';
export const RANKER_MODES: readonly RankerMode[] = ['auto', 'reward', 'consensus'];

export type RewardDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';
export const REWARD_DTYPES: readonly RewardDtype[] = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4'];

/** Which kind of server generates candidates (room is left for more). */
export type BackendKind = 'ollama' | 'openai' | 'builtin';
export const BACKENDS: readonly BackendKind[] = ['ollama', 'openai', 'builtin'];

/** The ONNX weights of the built-in generator's model (transformers.js picks the file by dtype). */
export type BuiltinDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';
export const BUILTIN_DTYPES: readonly BuiltinDtype[] = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];

export interface Settings {
	readonly backend: BackendKind;
	/** Base URL of the Ollama server; decides where the user's text is sent (backend `ollama`). */
	readonly ollamaHost: string;
	/** Base URL of an OpenAI-compatible server, ending in `/v1` as OpenAI clients take it (backend `openai`). */
	readonly openaiBaseUrl: string;
	/** Generation model name as Ollama knows it (`llama3.1:8b`). */
	readonly model: string;
	/** N: how many candidates one run asks for. */
	readonly candidates: number;
	readonly temperature: number;
	readonly topP: number;
	/** `num_predict`: the most tokens one candidate may have. */
	readonly maxTokens: number;
	/** How many candidate requests are open at once (Ollama queues beyond OLLAMA_NUM_PARALLEL). */
	readonly concurrency: number;
	/** `num_ctx`; 0 leaves the model's default. */
	readonly contextLength: number;
	/**
	 * A request to a model server (a candidate, a reward score) fails when nothing arrives for this many
	 * seconds: no answer, or an answer that stopped. 0 waits as long as Node's fetch does (5 minutes).
	 */
	readonly requestIdleSeconds: number;
	/** Hugging Face model id or local folder; empty means "no reward model". */
	readonly rewardModel: string;
	readonly rewardDtype: RewardDtype;
	readonly rewardIdleMinutes: number;
	/** The built-in generator's model: a Hub id or a local folder of a transformers.js chat model. */
	readonly builtinModel: string;
	readonly builtinDtype: BuiltinDtype;
	/** The built-in generator's worker (and the model it holds) is ended after this many minutes without a run; 0 keeps it. */
	readonly builtinIdleMinutes: number;
	readonly ranker: RankerMode;
	/** How many recent instructions are remembered for the instruction box. */
	readonly historySize: number;
	/** User-message templates (see promptTemplate.ts); empty = the built-in prompt. */
	readonly rewritePrompt: string;
	readonly explainPrompt: string;
	/** Whether accepted candidates are recorded in the local preference log. */
	readonly preferencesRecord: boolean;
	/** Glob patterns of files whose runs are never recorded. */
	readonly preferencesExclude: readonly string[];
	/** The log's size bound; past it the oldest records are dropped. */
	readonly preferencesMaxMegabytes: number;
}

export const DEFAULT_SETTINGS: Settings = {
	backend: 'ollama',
	ollamaHost: 'http://127.0.0.1:11434',
	openaiBaseUrl: 'http://127.0.0.1:8000/v1',
	model: 'llama3.1:8b',
	candidates: 4,
	temperature: 0.8,
	topP: 0.95,
	maxTokens: 1024,
	// Ollama runs one request at a time by default (OLLAMA_NUM_PARALLEL=1); a second open request
	// would only wait in its queue, with no response headers, into fetch's 5-minute header timeout.
	concurrency: 1,
	contextLength: 0,
	// Long enough for Ollama to load a model from disk before its first byte, short enough that a hung
	// server costs two minutes rather than fetch's five.
	requestIdleSeconds: 120,
	rewardModel: 'OpenAssistant/reward-model-deberta-v3-large-v2',
	rewardDtype: 'fp32',
	rewardIdleMinutes: 10,
	// Apache-2.0; its int8 export (onnx/model_quantized.onnx) is 639 MB and runs on any CPU.
	builtinModel: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct',
	builtinDtype: 'q8',
	// A 0.5B model holds about 1 GB while loaded; loading it again from disk takes seconds.
	builtinIdleMinutes: 10,
	ranker: 'auto',
	historySize: 20,
	rewritePrompt: '',
	explainPrompt: '',
	preferencesRecord: true,
	preferencesExclude: [],
	preferencesMaxMegabytes: 20,
};

/** Setting keys as they appear under the `bestOfN.` prefix, mapped to the `Settings` field they fill. */
export const SETTING_KEYS = {
	backend: 'backend',
	'ollama.host': 'ollamaHost',
	'openai.baseUrl': 'openaiBaseUrl',
	model: 'model',
	candidates: 'candidates',
	temperature: 'temperature',
	topP: 'topP',
	maxTokens: 'maxTokens',
	concurrency: 'concurrency',
	contextLength: 'contextLength',
	requestIdleSeconds: 'requestIdleSeconds',
	rewardModel: 'rewardModel',
	// Not `rewardModel.dtype`: VS Code cannot hold both a setting `x` and a setting `x.y` (the leaf hides the child).
	rewardDtype: 'rewardDtype',
	rewardIdleMinutes: 'rewardIdleMinutes',
	'builtin.model': 'builtinModel',
	'builtin.dtype': 'builtinDtype',
	'builtin.idleMinutes': 'builtinIdleMinutes',
	ranker: 'ranker',
	'instructionHistory.size': 'historySize',
	'prompts.rewrite': 'rewritePrompt',
	'prompts.explain': 'explainPrompt',
	'preferences.record': 'preferencesRecord',
	'preferences.exclude': 'preferencesExclude',
	'preferences.maxMegabytes': 'preferencesMaxMegabytes',
} as const satisfies Record<string, keyof Settings>;

/** A setting's key under the `bestOfN.` prefix. */
export type SettingKey = keyof typeof SETTING_KEYS;

/**
 * The settings that decide where the selected code is sent (the backend and its server) or which code
 * runs on this machine (a model folder holds code transformers.js executes). package.json lists each in
 * `restrictedConfigurations`, so an untrusted workspace cannot set them, and keeps them window-scoped
 * (see CONTRIBUTING); `test/unit/manifest.test.ts` holds package.json to this list.
 */
export const RESTRICTED_SETTING_KEYS: readonly SettingKey[] = ['backend', 'ollama.host', 'openai.baseUrl', 'rewardModel', 'builtin.model'];

export const LIMITS = {
	candidates: { min: 1, max: 16 },
	temperature: { min: 0, max: 2 },
	topP: { min: 0, max: 1 },
	maxTokens: { min: 16, max: 32768 },
	concurrency: { min: 1, max: 16 },
	contextLength: { min: 0, max: 1048576 },
	requestIdleSeconds: { min: 0, max: 3600 },
	rewardIdleMinutes: { min: 0, max: 1440 },
	builtinIdleMinutes: { min: 0, max: 1440 },
	historySize: { min: 0, max: 200 },
	preferencesMaxMegabytes: { min: 1, max: 1024 },
} as const;

/** A value that was ignored or clamped, as data: each front end words it with its own name for the setting. */
export interface SettingProblem {
	readonly field: keyof Settings;
	/** The value as given. */
	readonly value: unknown;
	/** What is wrong, completing "<name> …": "must be between 1 and 16", "is not an http(s) URL". */
	readonly problem: string;
	/** What is used instead. */
	readonly using: string;
}

export interface ParsedSettings {
	readonly settings: Settings;
	/** One human sentence per value that was ignored or clamped, for the log. */
	readonly problems: string[];
	/** The same as data. */
	readonly issues: SettingProblem[];
}

/**
 * Turns raw values (keyed as in package.json, without the prefix) into `Settings`. Never throws:
 * a bad value falls back to the default or is clamped, and the reason is reported in `problems`.
 */
export function parseSettings(raw: Readonly<Record<string, unknown>>): ParsedSettings {
	const issues: SettingProblem[] = [];
	const report = (key: SettingKey, problem: string, using: unknown) =>
		issues.push({ field: SETTING_KEYS[key], value: raw[key], problem, using: String(using) });
	const num = (key: SettingKey, field: keyof typeof LIMITS, integer: boolean): number => {
		const fallback = DEFAULT_SETTINGS[field];
		const value = raw[key];
		if (value === undefined || value === null) return fallback;
		if (typeof value !== 'number' || !Number.isFinite(value)) {
			report(key, 'must be a number', fallback);
			return fallback;
		}
		const { min, max } = LIMITS[field];
		let v = integer ? Math.round(value) : value;
		if (v < min || v > max) {
			v = Math.min(max, Math.max(min, v));
			report(key, `must be between ${min} and ${max}`, v);
		}
		return v;
	};
	const str = (key: SettingKey, fallback: string, allowEmpty: boolean): string => {
		const value = raw[key];
		if (value === undefined || value === null) return fallback;
		if (typeof value !== 'string') {
			report(key, 'must be a string', `"${fallback}"`);
			return fallback;
		}
		const v = value.trim();
		if (!v && !allowEmpty) {
			report(key, 'is empty', `"${fallback}"`);
			return fallback;
		}
		return v;
	};
	const oneOf = <T extends string>(key: SettingKey, options: readonly T[], fallback: T): T => {
		const value = raw[key];
		if (value === undefined || value === null) return fallback;
		if (typeof value === 'string' && (options as readonly string[]).includes(value)) return value as T;
		report(key, `must be one of ${options.join(', ')}`, fallback);
		return fallback;
	};

	const template = (key: SettingKey): string => {
		const value = str(key, '', true);
		const unknown = unknownPlaceholders(value);
		if (unknown.length === 0) return value;
		report(
			key,
			`has unknown placeholders ${unknown.join(', ')} (known: ${PROMPT_PLACEHOLDERS.map(p => `{${p}}`).join(', ')})`,
			'the built-in prompt',
		);
		return '';
	};
	const bool = (key: SettingKey, fallback: boolean): boolean => {
		const value = raw[key];
		if (value === undefined || value === null) return fallback;
		if (typeof value === 'boolean') return value;
		report(key, 'must be true or false', fallback);
		return fallback;
	};
	const strings = (key: SettingKey): string[] => {
		const value = raw[key];
		if (value === undefined || value === null) return [];
		if (Array.isArray(value) && value.every(v => typeof v === 'string')) return value.filter(v => v.trim());
		report(key, 'must be a list of glob patterns', 'none');
		return [];
	};

	let ollamaHost = str('ollama.host', DEFAULT_SETTINGS.ollamaHost, false);
	const normalized = normalizeHost(ollamaHost);
	if (normalized === undefined) {
		report('ollama.host', 'is not an http(s) URL', DEFAULT_SETTINGS.ollamaHost);
		ollamaHost = DEFAULT_SETTINGS.ollamaHost;
	} else {
		ollamaHost = normalized;
	}

	let openaiBaseUrl = str('openai.baseUrl', DEFAULT_SETTINGS.openaiBaseUrl, false);
	const normalizedBase = normalizeBaseUrl(openaiBaseUrl);
	if (normalizedBase === undefined) {
		report('openai.baseUrl', 'is not an http(s) URL', DEFAULT_SETTINGS.openaiBaseUrl);
		openaiBaseUrl = DEFAULT_SETTINGS.openaiBaseUrl;
	} else {
		openaiBaseUrl = normalizedBase;
	}

	const settings: Settings = {
		backend: oneOf('backend', BACKENDS, DEFAULT_SETTINGS.backend),
		ollamaHost,
		openaiBaseUrl,
		model: str('model', DEFAULT_SETTINGS.model, false),
		candidates: num('candidates', 'candidates', true),
		temperature: num('temperature', 'temperature', false),
		topP: num('topP', 'topP', false),
		maxTokens: num('maxTokens', 'maxTokens', true),
		concurrency: num('concurrency', 'concurrency', true),
		contextLength: num('contextLength', 'contextLength', true),
		requestIdleSeconds: num('requestIdleSeconds', 'requestIdleSeconds', false),
		rewardModel: str('rewardModel', DEFAULT_SETTINGS.rewardModel, true),
		rewardDtype: oneOf('rewardDtype', REWARD_DTYPES, DEFAULT_SETTINGS.rewardDtype),
		rewardIdleMinutes: num('rewardIdleMinutes', 'rewardIdleMinutes', false),
		builtinModel: str('builtin.model', DEFAULT_SETTINGS.builtinModel, false),
		builtinDtype: oneOf('builtin.dtype', BUILTIN_DTYPES, DEFAULT_SETTINGS.builtinDtype),
		builtinIdleMinutes: num('builtin.idleMinutes', 'builtinIdleMinutes', false),
		ranker: oneOf('ranker', RANKER_MODES, DEFAULT_SETTINGS.ranker),
		historySize: num('instructionHistory.size', 'historySize', true),
		rewritePrompt: template('prompts.rewrite'),
		explainPrompt: template('prompts.explain'),
		preferencesRecord: bool('preferences.record', DEFAULT_SETTINGS.preferencesRecord),
		preferencesExclude: strings('preferences.exclude'),
		preferencesMaxMegabytes: num('preferences.maxMegabytes', 'preferencesMaxMegabytes', false),
	};
	const problems = issues.map(
		i =>
			`bestOfN.${keyOf(i.field)}${typeof i.value === 'string' && i.problem.startsWith('is not') ? ` "${i.value}"` : ''} ${i.problem}; using ${i.using}.`,
	);
	return { settings, problems, issues };
}

/** Where the user's text is sent for generation with these settings. */
export function generationHost(settings: Settings): string {
	if (settings.backend === 'builtin') return BUILTIN_HOST;
	return settings.backend === 'openai' ? settings.openaiBaseUrl : settings.ollamaHost;
}

/** Where the built-in generator runs, as the picker and the log name it: nothing is sent anywhere. */
export const BUILTIN_HOST = 'this machine (built-in model)';

/** The settings a run uses: with the built-in backend, the model is `builtinModel` (not a server's model name). */
export function runSettings(settings: Settings): Settings {
	return settings.backend === 'builtin' ? { ...settings, model: settings.builtinModel } : settings;
}

/** An OpenAI base URL as typed (`gpu-box:8000/v1`, `https://api.example.com/v1/`), without the trailing slash. */
export function normalizeBaseUrl(input: string): string | undefined {
	let text = input.trim();
	if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
	try {
		const url = new URL(text);
		if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
		if (!url.hostname || url.search || url.hash) return undefined;
		return url.toString().replace(/\/+$/, '');
	} catch {
		return undefined;
	}
}

/** The package.json key (without `bestOfN.`) of a settings field. */
export function keyOf(field: keyof Settings): string {
	return Object.entries(SETTING_KEYS).find(([, f]) => f === field)?.[0] ?? field;
}

/**
 * Accepts what people type for a host (`localhost`, `box:11434`, `http://box:11434/`) and returns a
 * normalized base URL without a trailing slash, or undefined when it is not an http(s) URL.
 */
export function normalizeHost(input: string): string | undefined {
	let text = input.trim();
	const typedScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
	if (!typedScheme) text = `http://${text}`;
	try {
		const url = new URL(text);
		// "localhost" means Ollama's port, as the ollama CLI reads OLLAMA_HOST; an explicit scheme keeps 80/443.
		if (!typedScheme && !url.port) url.port = '11434';
		if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
		if (!url.hostname) return undefined;
		return url.toString().replace(/\/+$/, '');
	} catch {
		return undefined;
	}
}

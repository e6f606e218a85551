/**
 * The same best-of-N pipeline without VS Code:
 *   node dist/cli.js rewrite --instruction TEXT [--input FILE] [--n N] [--backend ollama|openai|builtin] [--host URL] [--model NAME]
 *   node dist/cli.js explain [--input FILE] [--language ID] (and the same options)
 *                            [--reward-model ID_OR_PATH_OR_URL] [--dtype fp32|fp16|q8|int8|uint8|q4]
 *                            [--ranker auto|reward|consensus] [--seed N] [--json]
 * Reads the text from FILE or stdin. Absent flags take the extension's defaults (model, N, reward
 * model, ranker). Replies are cleaned and scores printed by the same core code as in the picker. Exit status: 0 when at least one candidate was produced (failures
 * are reported), 1 when the run could not produce any, 2 for bad arguments or input, 130 when cancelled
 * with Ctrl+C (SIGINT). Errors are one line on stderr naming the culprit. With `--backend openai`,
 * `--host` is the server's OpenAI base URL (`http://gpu-box:8000/v1`) and its key, if it needs one, is
 * read from `OPENAI_API_KEY`. With `--backend builtin`, `--model` is a Hub id or folder of a small chat
 * model that transformers.js runs on this machine (no server, no `--host`); a Hub model is downloaded
 * once into the cache, its size said on stderr first.
 *
 * The status is set as `process.exitCode`, never with `process.exit()`: Node may write stdout to a pipe
 * asynchronously (macOS, Windows, and on Linux too: a shell pipe kept 64 KiB of an 8 MiB write), and
 * exiting at once drops what is still queued, cutting a large `--json` output short. So nothing may keep
 * the event loop alive once `main` has returned: the reward worker is disposed, the SIGINT handler is
 * removed, and stdin is only touched when the text is read from it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BestOfNError, describeError, errorMessage } from '../core/errors';
import type { PickerState } from '../core/protocol';
import type { RewardScorer } from '../core/reward';
import { formatScore } from '../core/scoreFormat';
import { BestOfNRun } from '../core/run';
import { runLimitError } from '../core/runLimits';
import { forTerminal, jsonForTerminal } from '../core/terminalText';
import { explainTask } from '../core/tasks/explain';
import { rewriteTask } from '../core/tasks/rewrite';
import { BACKENDS, BUILTIN_DTYPES, parseSettings, RANKER_MODES, REWARD_DTYPES, runSettings, type Settings } from '../core/settings';
import { createBackend } from '../generation/backends';
import { builtinModelCached, formatBytes, planBuiltinDownload } from '../generation/builtinDownload';
import { BuiltinGenerator } from '../generation/builtinGenerator';
import { RewardWorkerClient } from '../reward/rewardClient';
import { locateModel } from '../reward/scorer';
import { isRewardServer, ServedRewardScorer } from '../reward/servedScorer';
import { FLAGS, flagName } from './flags';
import { EVAL_USAGE, evalMain, PREFERENCES_USAGE, preferencesMain } from './preferencesCli';

const USAGE = `usage: best-of-n rewrite --instruction TEXT [--input FILE] [--n N] [--backend ${BACKENDS.join('|')}] [--host URL] [--model NAME]
                         [--builtin-dtype ${BUILTIN_DTYPES.join('|')}]
       best-of-n explain [--input FILE] [--language ID] [and the options below]
                         [--reward-model ID_OR_PATH_OR_URL] [--dtype ${REWARD_DTYPES.join('|')}]
                         [--ranker ${RANKER_MODES.join('|')}] [--seed N] [--temperature T] [--max-tokens K]
                         [--concurrency C] [--idle-timeout SECONDS] [--language ID] [--json] [--raw]
${PREFERENCES_USAGE}
${EVAL_USAGE}`;

/** Ollama's seeds; candidate i gets seed + i, as in the extension's runs. */
const MAX_SEED = 2 ** 31 - 1;

class UsageError extends Error {}

/** Runs the CLI and returns its exit status; the caller sets it as `process.exitCode`. */
export async function main(argv: string[], stdin?: NodeJS.ReadableStream): Promise<number> {
	if (argv[0] === 'preferences') return preferencesMain(argv.slice(1));
	if (argv[0] === 'eval') {
		return evalMain(argv.slice(1), (model, dtype) => createScorer(parseSettings({ rewardModel: model, rewardDtype: dtype }).settings));
	}
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				instruction: { type: 'string', short: 'i' },
				input: { type: 'string' },
				n: { type: 'string', short: 'n' },
				backend: { type: 'string' },
				'builtin-dtype': { type: 'string' },
				host: { type: 'string' },
				model: { type: 'string', short: 'm' },
				'reward-model': { type: 'string' },
				dtype: { type: 'string' },
				ranker: { type: 'string' },
				temperature: { type: 'string' },
				'max-tokens': { type: 'string' },
				concurrency: { type: 'string' },
				'idle-timeout': { type: 'string' },
				language: { type: 'string' },
				seed: { type: 'string' },
				json: { type: 'boolean' },
				raw: { type: 'boolean' },
				help: { type: 'boolean', short: 'h' },
			},
		});
	} catch (e) {
		return fail(2, `${errorMessage(e)}\n${USAGE}`);
	}
	const { values, positionals } = parsed;
	if (values.help) {
		process.stdout.write(`${USAGE}\n`);
		return 0;
	}
	try {
		const command = positionals[0];
		if ((command !== 'rewrite' && command !== 'explain') || positionals.length > 1) {
			throw new UsageError(`expected the command "rewrite", "explain", "preferences export" or "eval"\n${USAGE}`);
		}
		if (command === 'rewrite' && !values.instruction?.trim()) throw new UsageError('--instruction is required and must not be empty');
		if (command === 'explain' && values.instruction !== undefined) throw new UsageError('explain takes no --instruction');
		if (values.ranker !== undefined && !(RANKER_MODES as readonly string[]).includes(values.ranker)) {
			throw new UsageError(`--ranker must be one of ${RANKER_MODES.join(', ')}, not "${values.ranker}"`);
		}
		const settings = runSettings(settingsFrom(values));
		const seed = seedFrom(values.seed);
		const text = await readInput(values.input, stdin);
		if (!text.trim()) throw new UsageError(values.input ? `the input file ${values.input} is empty` : 'the input on stdin is empty');
		const refused = runLimitError(settings, text.length, 'input');
		if (refused) throw new UsageError(describeError(refused, flagName));

		const wantsReward = settings.ranker !== 'consensus' && settings.rewardModel !== '';
		if (settings.ranker === 'reward' && !wantsReward) throw new UsageError('--ranker reward needs --reward-model');
		const scorer = wantsReward ? createScorer(settings) : undefined;
		const builtin = settings.backend === 'builtin' ? await createBuiltin(settings) : undefined;
		try {
			// A reward model the user named, or `--ranker reward`, must load: fail fast rather than rank
			// another way. The default model under `auto` falls back to consensus as in the extension,
			// and the output says so.
			if (scorer && (settings.ranker === 'reward' || values['reward-model'] !== undefined)) {
				await loadOrExplain(scorer, settings.rewardModel);
			}
			const run = new BestOfNRun({
				runId: 1,
				task:
					command === 'rewrite'
						? rewriteTask({
								instruction: values.instruction!.trim(),
								text,
								languageId: values.language ?? languageOf(values.input),
							})
						: explainTask({
								text,
								languageId: values.language ?? languageOf(values.input),
								fileName: values.input ? path.basename(values.input) : '',
								before: '',
								after: '',
							}),
				settings,
				// The key comes from the environment, as OpenAI's own clients read it; never from a flag.
				generator: createBackend(settings, { apiKey: async () => process.env.OPENAI_API_KEY, builtin: () => builtin! }),
				scorer,
				rankerReason: settings.ranker === 'consensus' ? '--ranker consensus' : 'empty --reward-model',
				seed,
				nameSetting: flagName,
			});
			const stop = () => run.cancel();
			// Once: a second Ctrl+C while the run winds down kills the process the default way.
			process.once('SIGINT', stop);
			let result;
			try {
				result = await run.start();
			} finally {
				process.off('SIGINT', stop);
			}
			const { state, error } = result;
			if (error) return fail(1, describeError(error, flagName) + remedyFor(error));
			if (state.phase === 'cancelled') return fail(130, 'cancelled');
			// Model and server text is made inert for the terminal unless --raw (JSON stays lossless either way).
			const out = values.raw ? (t: string) => t : forTerminal;
			process.stdout.write(
				values.json
					? `${(values.raw ? (t: string) => t : jsonForTerminal)(JSON.stringify(toJson(state), null, 2))}\n`
					: out(toText(state)),
			);
			if (values.json && state.notice) process.stderr.write(out(`best-of-n: ${state.notice.text}\n`));
			const failed = state.candidates.filter(c => c.status === 'failed');
			for (const c of failed) process.stderr.write(out(`candidate ${c.id + 1} failed: ${c.error}\n`));
			return 0;
		} finally {
			scorer?.dispose?.();
			builtin?.dispose();
		}
	} catch (e) {
		if (e instanceof UsageError) return fail(2, e.message);
		return fail(1, describeError(e, flagName));
	}
}

function settingsFrom(values: Record<string, string | boolean | undefined>): Settings {
	const number = (flag: string): number | undefined => {
		const v = values[flag];
		if (v === undefined) return undefined;
		const n = Number(v);
		if (typeof v !== 'string' || !v.trim() || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, not "${v}"`);
		return n;
	};
	const backend = values.backend;
	if (backend !== undefined && !(BACKENDS as readonly string[]).includes(String(backend))) {
		throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, not "${String(backend)}"`);
	}
	const { settings, issues } = parseSettings({
		backend,
		// --host is the server of the chosen backend: Ollama's host, or the OpenAI base URL (…/v1).
		[backend === 'openai' ? 'openai.baseUrl' : 'ollama.host']: values.host,
		// With the built-in backend, --model names its model: a Hub id or a folder.
		[backend === 'builtin' ? 'builtin.model' : 'model']: values.model,
		'builtin.dtype': values['builtin-dtype'],
		candidates: number('n'),
		temperature: number('temperature'),
		maxTokens: number('max-tokens'),
		concurrency: number('concurrency'),
		requestIdleSeconds: number('idle-timeout'),
		// Absent flags take the extension's defaults (DEFAULT_SETTINGS): the same reward model and ranker.
		rewardModel: values['reward-model'],
		rewardDtype: values.dtype,
		ranker: values.ranker,
	});
	// A CLI user typed these values: out-of-range is an error here, not something to clamp silently,
	// so the settings' "; using <fallback>." does not apply and the typed value is quoted instead.
	const issue = issues[0];
	if (issue) {
		const typed = String(values[FLAGS[issue.field]?.slice(2) ?? ''] ?? issue.value);
		throw new UsageError(
			`${flagName(issue.field)} ${issue.problem}${issue.problem.startsWith('must') ? `, not "${typed}"` : ` ("${typed}")`}`,
		);
	}
	return settings;
}

/** `Number('abc')` is NaN and Ollama would pick a random seed: a typed seed must be one it uses. */
function seedFrom(value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	const seed = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
	if (!(seed <= MAX_SEED)) throw new UsageError(`--seed must be a whole number from 0 to ${MAX_SEED}, not "${value}"`);
	return seed;
}

function createScorer(settings: Settings): RewardScorer & { dispose?(): void } {
	if (isRewardServer(settings.rewardModel)) {
		return new ServedRewardScorer({
			url: settings.rewardModel,
			apiKey: async () => process.env.OPENAI_API_KEY,
			idleMs: settings.requestIdleSeconds * 1000,
		});
	}
	const location = locateModel(settings.rewardModel);
	return new RewardWorkerClient({
		workerPath: path.join(__dirname, 'rewardWorker.js'),
		request: {
			model: location.source === 'local' ? location.dir : location.id,
			dtype: settings.rewardDtype,
			cacheDir: cacheDir(),
			allowRemote: location.source === 'hub',
			threads: 0,
		},
		idleMs: 0,
	});
}

/** The CLI's cache of downloaded models (reward and built-in), as XDG places caches. */
function cacheDir(): string {
	return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'best-of-n', 'models');
}

/**
 * The built-in generator for one run. A Hub model not yet in the cache is sized first and the size
 * said on stderr before the download starts (asking for `--backend builtin` is the consent).
 */
async function createBuiltin(settings: Settings): Promise<BuiltinGenerator> {
	const location = locateModel(settings.builtinModel);
	const model = location.source === 'local' ? location.dir : location.id;
	if (!builtinModelCached(model, settings.builtinDtype, cacheDir())) {
		const plan = await planBuiltinDownload(model, settings.builtinDtype, cacheDir());
		process.stderr.write(`best-of-n: downloading ${model} (${formatBytes(plan.bytes)}) into ${cacheDir()}\n`);
	}
	return new BuiltinGenerator({
		workerPath: path.join(__dirname, 'generatorWorker.js'),
		request: { model, dtype: settings.builtinDtype, cacheDir: cacheDir(), allowRemote: location.source === 'hub', threads: 0 },
		idleMs: 0,
	});
}

/** The CLI fails fast on an unusable reward model instead of silently ranking another way. */
async function loadOrExplain(scorer: RewardScorer, name: string): Promise<void> {
	try {
		await scorer.load(new AbortController().signal);
	} catch (e) {
		if (e instanceof BestOfNError) throw e;
		throw new BestOfNError('reward-failed', `Could not load the reward model ${name}: ${errorMessage(e)}`, { setting: 'rewardModel' });
	}
}

async function readInput(file: string | undefined, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
	if (file !== undefined) {
		try {
			return fs.readFileSync(file, 'utf8');
		} catch (e) {
			throw new UsageError(`cannot read the input file ${file}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
		}
	}
	if ((stdin as NodeJS.ReadStream).isTTY) throw new UsageError('give the text with --input FILE or on stdin');
	const chunks: Buffer[] = [];
	for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
	return Buffer.concat(chunks).toString('utf8');
}

const EXTENSION_LANGUAGES: Record<string, string> = {
	'.ts': 'typescript',
	'.tsx': 'typescriptreact',
	'.js': 'javascript',
	'.jsx': 'javascriptreact',
	'.py': 'python',
	'.rs': 'rust',
	'.go': 'go',
	'.java': 'java',
	'.c': 'c',
	'.h': 'c',
	'.cpp': 'cpp',
	'.cs': 'csharp',
	'.rb': 'ruby',
	'.md': 'markdown',
	'.txt': 'plaintext',
	'.sh': 'shellscript',
	'.json': 'json',
	'.html': 'html',
	'.css': 'css',
};

function languageOf(file: string | undefined): string {
	return (file && EXTENSION_LANGUAGES[path.extname(file).toLowerCase()]) || 'plaintext';
}

export function toJson(state: PickerState) {
	const done = state.candidates.filter(c => c.status === 'done');
	const failed = state.candidates.filter(c => c.status === 'failed');
	return {
		ranker: state.ranker.kind,
		rankerLabel: state.ranker.label,
		rankerReason: state.ranker.reason,
		model: state.model,
		host: state.host,
		requested: state.requested,
		elapsedMs: state.elapsedMs,
		candidates: done.map(c => ({
			text: c.text,
			score: c.score ?? null,
			rank: c.rank ?? null,
			count: c.count,
			tokens: c.tokens ?? null,
			durationMs: c.durationMs ?? null,
			evalMs: c.evalMs ?? null,
			doneReason: c.doneReason ?? null,
			scoreError: c.scoreError ?? null,
		})),
		failed: failed.length,
		errors: failed.map(c => c.error ?? 'failed'),
		notice: state.notice ? state.notice.text : null,
	};
}

function toText(state: PickerState): string {
	const done = state.candidates.filter(c => c.status === 'done');
	const failed = state.candidates.length - done.length;
	const ranker = state.ranker.kind === 'reward' ? `reward model ${state.ranker.label}` : state.ranker.label;
	// A notice says why the ranker is not the one asked for; the reason would only repeat it.
	const reason = state.notice ? '' : ` (${state.ranker.reason})`;
	const lines = [
		`${done.length} of ${state.requested} candidates from ${state.model}, ranked by ${ranker}${reason}` +
			(failed ? `, ${failed} failed` : ''),
	];
	if (state.notice) lines.push(state.notice.text);
	for (const c of done) {
		const score = c.score === undefined ? 'unscored' : `score ${formatScore(c.score, state.ranker.kind)}`;
		lines.push('', `#${c.rank ?? '-'}  ${score}${c.count > 1 ? `  (×${c.count})` : ''}`);
		lines.push(
			...c.text
				.replace(/\n$/, '')
				.split('\n')
				.map(l => `    ${l}`),
		);
	}
	return `${lines.join('\n')}\n`;
}

/** The CLI's own way out where it is not a flag. */
function remedyFor(error: BestOfNError): string {
	return error.kind === 'unauthorized' ? ' Set OPENAI_API_KEY in the environment to the key for that server.' : '';
}

function fail(code: number, message: string): number {
	// A message can quote a server's reply; it never reaches the terminal with escapes in it.
	process.stderr.write(forTerminal(`best-of-n: ${message}\n`));
	return code;
}

if (require.main === module) {
	// Not process.exit(): the process ends once stdout and stderr have been flushed (see the header).
	main(process.argv.slice(2)).then(
		code => {
			process.exitCode = code;
		},
		e => {
			process.stderr.write(`best-of-n: ${errorMessage(e)}\n`);
			process.exitCode = 1;
		},
	);
}

/**
 * The same best-of-N pipeline without VS Code:
 *   node dist/cli.js rewrite --instruction TEXT [--input FILE] [--n N] [--host URL] [--model NAME]
 *                            [--reward-model ID_OR_PATH] [--ranker auto|reward|consensus] [--json]
 * Reads the text from FILE or stdin. Exit 0 when at least one candidate was produced (failures are
 * reported), 1 when the run could not produce any, 2 for bad arguments or input. Errors are one line
 * on stderr naming the culprit.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BestOfNError, errorMessage } from '../core/errors';
import type { PickerState } from '../core/protocol';
import type { RewardScorer } from '../core/reward';
import { BestOfNRun } from '../core/run';
import { parseSettings, RANKER_MODES, type Settings } from '../core/settings';
import { OllamaGenerator } from '../generation/ollamaGenerator';
import { RewardWorkerClient } from '../reward/rewardClient';
import { locateModel } from '../reward/scorer';

const USAGE = `usage: best-of-n rewrite --instruction TEXT [--input FILE] [--n N] [--host URL] [--model NAME]
                         [--reward-model ID_OR_PATH] [--ranker auto|reward|consensus]
                         [--temperature T] [--max-tokens K] [--concurrency C] [--language ID] [--json]`;

class UsageError extends Error {}

export async function main(argv: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				instruction: { type: 'string', short: 'i' },
				input: { type: 'string' },
				n: { type: 'string', short: 'n' },
				host: { type: 'string' },
				model: { type: 'string', short: 'm' },
				'reward-model': { type: 'string' },
				ranker: { type: 'string' },
				temperature: { type: 'string' },
				'max-tokens': { type: 'string' },
				concurrency: { type: 'string' },
				language: { type: 'string' },
				seed: { type: 'string' },
				json: { type: 'boolean' },
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
		if (positionals[0] !== 'rewrite' || positionals.length > 1) throw new UsageError(`expected the command "rewrite"\n${USAGE}`);
		if (!values.instruction?.trim()) throw new UsageError('--instruction is required and must not be empty');
		if (values.ranker !== undefined && !(RANKER_MODES as readonly string[]).includes(values.ranker)) {
			throw new UsageError(`--ranker must be one of ${RANKER_MODES.join(', ')}, not "${values.ranker}"`);
		}
		const settings = settingsFrom(values);
		const text = await readInput(values.input, stdin);
		if (!text.trim()) throw new UsageError(values.input ? `the input file ${values.input} is empty` : 'the input on stdin is empty');

		const wantsReward = settings.ranker !== 'consensus' && settings.rewardModel !== '';
		if (settings.ranker === 'reward' && !wantsReward) throw new UsageError('--ranker reward needs --reward-model');
		const scorer = wantsReward ? createScorer(settings) : undefined;
		try {
			if (scorer) await loadOrExplain(scorer, settings.rewardModel);
			const run = new BestOfNRun({
				runId: 1,
				input: { instruction: values.instruction.trim(), text, languageId: values.language ?? languageOf(values.input) },
				settings,
				generator: new OllamaGenerator({ host: settings.ollamaHost }),
				scorer,
				rankerReason: settings.ranker === 'consensus' ? '--ranker consensus' : 'no --reward-model given',
				seed: values.seed !== undefined ? Number(values.seed) : undefined,
			});
			const stop = () => run.cancel();
			process.once('SIGINT', stop);
			const { state, error } = await run.start();
			process.off('SIGINT', stop);
			if (error) return fail(1, error.message);
			if (state.phase === 'cancelled') return fail(130, 'cancelled');
			process.stdout.write(values.json ? `${JSON.stringify(toJson(state), null, 2)}\n` : toText(state));
			const failed = state.candidates.filter(c => c.status === 'failed');
			for (const c of failed) process.stderr.write(`candidate ${c.id + 1} failed: ${c.error}\n`);
			return 0;
		} finally {
			scorer?.dispose();
		}
	} catch (e) {
		if (e instanceof UsageError) return fail(2, e.message);
		return fail(1, errorMessage(e));
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
	const { settings, problems } = parseSettings({
		'ollama.host': values.host,
		model: values.model,
		candidates: number('n'),
		temperature: number('temperature'),
		maxTokens: number('max-tokens'),
		concurrency: number('concurrency'),
		// The CLI ranks by a reward model only when one is named.
		rewardModel: values['reward-model'] ?? '',
		ranker: values.ranker,
	});
	// A CLI user typed these values: out-of-range is an error here, not something to clamp silently.
	if (problems.length > 0) throw new UsageError(problems[0].replace(/^bestOfN\.(\S+)/, (_, k: string) => `--${flagFor(k)}`));
	return settings;
}

function flagFor(key: string): string {
	return ({ 'ollama.host': 'host', candidates: 'n', maxTokens: 'max-tokens' } as Record<string, string>)[key] ?? key;
}

function createScorer(settings: Settings): RewardWorkerClient {
	const location = locateModel(settings.rewardModel);
	return new RewardWorkerClient({
		workerPath: path.join(__dirname, 'rewardWorker.js'),
		request: {
			model: location.source === 'local' ? location.dir : location.id,
			dtype: settings.rewardDtype,
			cacheDir: path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'best-of-n', 'models'),
			allowRemote: location.source === 'hub',
			threads: 0,
		},
		idleMs: 0,
	});
}

/** The CLI fails fast on an unusable reward model instead of silently ranking another way. */
async function loadOrExplain(scorer: RewardScorer, name: string): Promise<void> {
	try {
		await scorer.load(new AbortController().signal);
	} catch (e) {
		throw new BestOfNError('reward-failed', e instanceof BestOfNError ? e.message : `Could not load the reward model ${name}: ${errorMessage(e)}`);
	}
}

async function readInput(file: string | undefined, stdin: NodeJS.ReadableStream): Promise<string> {
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
	'.ts': 'typescript', '.tsx': 'typescriptreact', '.js': 'javascript', '.jsx': 'javascriptreact', '.py': 'python',
	'.rs': 'rust', '.go': 'go', '.java': 'java', '.c': 'c', '.h': 'c', '.cpp': 'cpp', '.cs': 'csharp', '.rb': 'ruby',
	'.md': 'markdown', '.txt': 'plaintext', '.sh': 'shellscript', '.json': 'json', '.html': 'html', '.css': 'css',
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
			doneReason: c.doneReason ?? null,
			scoreError: c.scoreError ?? null,
		})),
		failed: failed.length,
		errors: failed.map(c => c.error ?? 'failed'),
		notice: state.notice?.text ?? null,
	};
}

function toText(state: PickerState): string {
	const done = state.candidates.filter(c => c.status === 'done');
	const failed = state.candidates.length - done.length;
	const ranker = state.ranker.kind === 'reward' ? `reward model ${state.ranker.label}` : state.ranker.label;
	const lines = [
		`${done.length} of ${state.requested} candidates from ${state.model}, ranked by ${ranker} (${state.ranker.reason})` +
			(failed ? `, ${failed} failed` : ''),
	];
	if (state.notice) lines.push(state.notice.text);
	for (const c of done) {
		const score = c.score === undefined ? 'unscored' : `score ${c.score >= 0 ? '+' : ''}${c.score.toFixed(3)}`;
		lines.push('', `#${c.rank ?? '-'}  ${score}${c.count > 1 ? `  (×${c.count})` : ''}`);
		lines.push(...c.text.replace(/\n$/, '').split('\n').map(l => `    ${l}`));
	}
	return `${lines.join('\n')}\n`;
}

/** Messages from the shared layers name the extension's settings; a CLI user sets flags. */
const FLAGS: [RegExp, string][] = [
	[/bestOfN\.ollama\.host/g, '--host'],
	[/bestOfN\.rewardModel\b/g, '--reward-model'],
	[/bestOfN\.model\b/g, '--model'],
	[/bestOfN\.ranker\b/g, '--ranker'],
	[/choose the consensus ranker/g, 'use --ranker consensus'],
];

function fail(code: number, message: string): number {
	for (const [pattern, flag] of FLAGS) message = message.replace(pattern, flag);
	process.stderr.write(`best-of-n: ${message}\n`);
	return code;
}

if (require.main === module) {
	main(process.argv.slice(2)).then(
		code => process.exit(code),
		e => {
			process.stderr.write(`best-of-n: ${errorMessage(e)}\n`);
			process.exit(1);
		},
	);
}

/**
 * The preference log from the command line:
 *   best-of-n preferences export [--log FILE] [--out FILE] [--task T] [--since DATE] [--until DATE]
 *                                [--min-candidates K] [--format standard|conversational]
 *   best-of-n eval --reward-model ID_OR_FOLDER_OR_URL --data FILE.jsonl [--dtype D] [--json]
 * Each returns an exit status (0 ok, 1 failed, 2 bad arguments or input, 130 cancelled); output is
 * the data on stdout, one-line messages on stderr.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { describeError, errorMessage, isCancelled } from '../core/errors';
import { describeRate, evaluatePairs, evaluationJson } from '../core/evaluate';
import { filterRecords, parseDateBound, parseLog, type PreferenceFilter } from '../core/preferences';
import type { RewardScorer } from '../core/reward';
import { REWARD_DTYPES, type RewardDtype } from '../core/settings';
import { parsePreferenceJsonl, PreferenceDataError, toJsonl, toTrlRows, TRL_FORMATS, type TrlFormat } from '../core/trl';
import { flagName } from './flags';
import { candidateLogPaths, findPreferenceLog } from './preferenceLogPath';

export const PREFERENCES_USAGE = `usage: best-of-n preferences export [--log FILE] [--out FILE] [--task T] [--since DATE] [--until DATE]
                                     [--min-candidates K] [--format ${TRL_FORMATS.join('|')}]`;
export const EVAL_USAGE = `usage: best-of-n eval --reward-model ID_OR_FOLDER_OR_URL --data FILE.jsonl [--dtype ${REWARD_DTYPES.join('|')}] [--json]`;

class UsageError extends Error {}

function fail(code: number, message: string): number {
	process.stderr.write(`best-of-n: ${message}\n`);
	return code;
}

export function preferencesMain(argv: string[]): number {
	let values;
	try {
		const parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				log: { type: 'string' },
				out: { type: 'string', short: 'o' },
				task: { type: 'string' },
				since: { type: 'string' },
				until: { type: 'string' },
				'min-candidates': { type: 'string' },
				format: { type: 'string' },
				help: { type: 'boolean', short: 'h' },
			},
		});
		values = parsed.values;
		if (values.help) {
			process.stdout.write(`${PREFERENCES_USAGE}\n`);
			return 0;
		}
		if (parsed.positionals[0] !== 'export' || parsed.positionals.length > 1)
			throw new UsageError(`expected "preferences export"\n${PREFERENCES_USAGE}`);
	} catch (e) {
		return fail(2, e instanceof UsageError ? e.message : `${errorMessage(e)}\n${PREFERENCES_USAGE}`);
	}
	try {
		const filter = filterFrom(values);
		const format = (values.format ?? 'standard') as TrlFormat;
		if (!TRL_FORMATS.includes(format))
			throw new UsageError(`--format must be one of ${TRL_FORMATS.join(', ')}, not "${values.format}"`);
		const log = values.log ?? defaultLog();
		let text: string;
		try {
			text = fs.readFileSync(log, 'utf8');
		} catch (e) {
			throw new UsageError(`cannot read the preference log ${log}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
		}
		const { records, skipped } = parseLog(text);
		const chosen = filterRecords(records, filter);
		const rows = toTrlRows(chosen, format);
		const jsonl = toJsonl(rows);
		if (values.out) fs.writeFileSync(values.out, jsonl, 'utf8');
		else process.stdout.write(jsonl);
		process.stderr.write(
			`exported ${rows.length} pairs from ${chosen.length} of ${records.length} picks in ${log}` +
				(values.out ? ` to ${values.out}` : '') +
				(skipped ? ` (${skipped} unreadable lines skipped)` : '') +
				'\n',
		);
		return 0;
	} catch (e) {
		if (e instanceof UsageError) return fail(2, e.message);
		return fail(1, errorMessage(e));
	}
}

function filterFrom(values: Record<string, string | boolean | undefined>): PreferenceFilter {
	const date = (flag: 'since' | 'until'): number | undefined => {
		const v = values[flag];
		if (typeof v !== 'string') return undefined;
		const time = parseDateBound(v, flag);
		if (time === undefined) throw new UsageError(`--${flag} must be a date like 2026-03-01 or an ISO timestamp, not "${v}"`);
		return time;
	};
	const k = values['min-candidates'];
	let minCandidates: number | undefined;
	if (typeof k === 'string') {
		minCandidates = /^\s*\d+\s*$/.test(k) ? Number(k) : NaN;
		if (!(minCandidates >= 1)) throw new UsageError(`--min-candidates must be a whole number of at least 1, not "${k}"`);
	}
	return {
		...(typeof values.task === 'string' ? { task: values.task } : {}),
		since: date('since'),
		until: date('until'),
		minCandidates,
	};
}

function defaultLog(): string {
	const found = findPreferenceLog();
	if (!found) {
		throw new UsageError(
			`no preference log found; looked in:\n  ${candidateLogPaths().join('\n  ')}\nname one with --log FILE (in VS Code: Best-of-N: Export Preferences…)`,
		);
	}
	if (found.others > 0)
		process.stderr.write(
			`best-of-n: ${found.others + 1} preference logs found; reading the newest, ${found.file} (choose with --log)\n`,
		);
	return found.file;
}

/** Builds the scorer for a reward model (the CLI's own factory, shared with `rewrite`). */
export type ScorerFactory = (model: string, dtype: RewardDtype) => RewardScorer & { dispose?(): void };

export async function evalMain(argv: string[], createScorer: ScorerFactory): Promise<number> {
	let values;
	try {
		const parsed = parseArgs({
			args: argv,
			allowPositionals: false,
			options: {
				'reward-model': { type: 'string' },
				data: { type: 'string' },
				dtype: { type: 'string' },
				json: { type: 'boolean' },
				help: { type: 'boolean', short: 'h' },
			},
		});
		values = parsed.values;
		if (values.help) {
			process.stdout.write(`${EVAL_USAGE}\n`);
			return 0;
		}
		if (!values['reward-model']?.trim()) throw new UsageError(`--reward-model is required\n${EVAL_USAGE}`);
		if (!values.data) throw new UsageError(`--data is required\n${EVAL_USAGE}`);
		if (values.dtype !== undefined && !(REWARD_DTYPES as readonly string[]).includes(values.dtype)) {
			throw new UsageError(`--dtype must be one of ${REWARD_DTYPES.join(', ')}, not "${values.dtype}"`);
		}
	} catch (e) {
		return fail(2, e instanceof UsageError ? e.message : `${errorMessage(e)}\n${EVAL_USAGE}`);
	}
	let pairs;
	try {
		pairs = parsePreferenceJsonl(fs.readFileSync(values.data, 'utf8'));
	} catch (e) {
		if (e instanceof PreferenceDataError) return fail(2, `${values.data}: ${e.message}`);
		return fail(2, `cannot read --data ${values.data}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
	}
	if (pairs.length === 0) return fail(2, `${values.data} holds no preference pairs`);

	const model = values['reward-model'].trim();
	const scorer = createScorer(model, (values.dtype ?? 'fp32') as RewardDtype);
	const controller = new AbortController();
	const stop = () => controller.abort();
	process.once('SIGINT', stop);
	try {
		await scorer.load(controller.signal);
		const result = await evaluatePairs(scorer, pairs, controller.signal);
		if (values.json) {
			process.stdout.write(`${JSON.stringify(evaluationJson(result), null, 2)}\n`);
		} else {
			const lines = [
				`${model} on ${values.data}: pairwise accuracy ${describeRate(result.overall)} (ties count half: ${result.ties})`,
			];
			for (const [name, rate] of result.subsets) lines.push(`  ${name}: ${describeRate(rate)}`);
			process.stdout.write(`${lines.join('\n')}\n`);
		}
		return 0;
	} catch (e) {
		if (isCancelled(e) || controller.signal.aborted) return fail(130, 'cancelled');
		return fail(1, describeError(e, flagName));
	} finally {
		process.off('SIGINT', stop);
		scorer.dispose?.();
	}
}

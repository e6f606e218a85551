import * as assert from 'node:assert/strict';
import {
	agreementTrend,
	consensusVersusReward,
	loggedPairwiseAccuracy,
	pairwiseAccuracy,
	pickedRankDistribution,
	rankingReport,
	topOneAgreement,
	wilson,
} from '../../src/core/agreement';
import { isExcluded } from '../../src/core/exclude';
import {
	buildPreferenceRecord,
	filterRecords,
	parseDateBound,
	parseLog,
	serializeRecord,
	trimLog,
	withRecord,
	type AcceptedRun,
	type PreferenceRecord,
} from '../../src/core/preferences';
import type { CandidateView } from '../../src/core/protocol';
import { parseReportMessage } from '../../src/core/reportProtocol';
import { parsePreferenceJsonl, toJsonl, toTrlRows } from '../../src/core/trl';
import { agreementLine } from '../../src/webview/view';
import { at } from '../fixtures/present';

function candidate(
	id: number,
	text: string,
	rank?: number,
	score?: number,
	extra: Partial<CandidateView> = {},
): CandidateView & { seed?: number } {
	return { id, status: 'done', text, rank, score, count: 1, ...extra };
}

function accepted(overrides: Partial<AcceptedRun> = {}): AcceptedRun {
	return {
		time: new Date('2026-03-02T10:00:00Z'),
		task: 'rewrite',
		instruction: 'make it shorter',
		messages: [
			{ role: 'system', content: 'You rewrite text.' },
			{ role: 'user', content: 'Instruction: make it shorter\n\n<<<\nlong text\n>>>' },
		],
		prompt: 'make it shorter\n\nlong text',
		languageId: 'plaintext',
		model: 'llama3.1:8b',
		backend: 'ollama',
		host: 'http://127.0.0.1:11434',
		ranker: { kind: 'reward', label: 'org/rm' },
		candidates: [
			{ ...candidate(2, 'short', 1, 2.5), seed: 12 },
			{ ...candidate(0, 'brief', 2, 1.0), seed: 10 },
			{ ...candidate(1, 'terse', 3, -0.5), seed: 11 },
			{ id: 3, status: 'failed', text: '', error: 'boom', count: 1 },
		],
		chosen: 0,
		...overrides,
	};
}

/** A record as the log would hold it, built from a short description. */
function record(
	time: string,
	ranks: { text: string; rank?: number; score?: number }[],
	chosenIndex: number,
	ranker = 'org/rm',
): PreferenceRecord {
	const built = buildPreferenceRecord(
		accepted({
			time: new Date(time),
			ranker: ranker === 'consensus' ? { kind: 'consensus', label: 'consensus' } : { kind: 'reward', label: ranker },
			candidates: ranks.map((c, i) => candidate(i, c.text, c.rank, c.score)),
			chosen: chosenIndex,
		}),
	);
	assert.ok(built);
	return built;
}

describe('preference record', () => {
	it('keeps what was asked, every completed candidate with seed, score and rank, the ranker and the pick', () => {
		const r = buildPreferenceRecord(accepted());
		assert.ok(r);
		assert.equal(r.v, 1);
		assert.equal(r.time, '2026-03-02T10:00:00.000Z');
		assert.equal(r.task, 'rewrite');
		assert.equal(r.instruction, 'make it shorter');
		assert.equal(r.messages.length, 2);
		assert.equal(r.prompt, 'make it shorter\n\nlong text');
		assert.deepEqual([r.languageId, r.model, r.backend, r.host], ['plaintext', 'llama3.1:8b', 'ollama', 'http://127.0.0.1:11434']);
		assert.deepEqual(r.ranker, { kind: 'reward', label: 'org/rm' });
		assert.equal(r.rewardModel, 'org/rm');
		assert.deepEqual(r.candidates, [
			{ id: 2, text: 'short', seed: 12, score: 2.5, rank: 1, count: 1 },
			{ id: 0, text: 'brief', seed: 10, score: 1, rank: 2, count: 1 },
			{ id: 1, text: 'terse', seed: 11, score: -0.5, rank: 3, count: 1 },
		]);
		assert.equal(r.chosen, 0);
	});

	it('has no record when the chosen candidate did not complete', () => {
		assert.equal(buildPreferenceRecord(accepted({ chosen: 3 })), undefined);
	});

	it('a consensus run names no reward model', () => {
		const r = buildPreferenceRecord(accepted({ ranker: { kind: 'consensus', label: 'consensus' } }));
		assert.equal(r?.rewardModel, undefined);
	});

	it('reads back what it writes, one line per record, skipping torn and foreign lines', () => {
		const a = buildPreferenceRecord(accepted())!;
		const b = buildPreferenceRecord(accepted({ chosen: 1, time: new Date('2026-03-03T00:00:00Z') }))!;
		const text = serializeRecord(a) + serializeRecord(b) + '{"v":2,"future":true}\n' + serializeRecord(a).slice(0, 40);
		assert.equal(serializeRecord(a).split('\n').length, 2, 'one line, newline-terminated');
		const { records, skipped } = parseLog(text);
		assert.deepEqual(records, [a, b]);
		assert.equal(skipped, 2);
	});

	it('skips a record whose ranks are not 1…n, and the rank distribution stays as long as the ranking', () => {
		const a = buildPreferenceRecord(accepted())!;
		const withRank = (rank: number) =>
			JSON.stringify({ ...a, candidates: a.candidates.map(c => (c.id === a.chosen ? { ...c, rank } : c)) });
		for (const rank of [0, -1, 2.5, 4, 1e9]) {
			const { records, skipped } = parseLog(withRank(rank));
			assert.deepEqual([records.length, skipped], [0, 1], `rank ${rank}`);
			assert.deepEqual(rankingReport(records).rankDistribution, [], `rank ${rank}`);
		}
		assert.deepEqual(pickedRankDistribution(parseLog(withRank(3)).records), [0, 0, 1]);
	});

	it('rejects a record whose chosen id is not among its candidates', () => {
		const a = { ...buildPreferenceRecord(accepted())!, chosen: 9 };
		assert.equal(parseLog(JSON.stringify(a)).records.length, 0);
	});
});

describe('one record per run', () => {
	// An explanation's Show Other Candidates lets the person choose again from the same run.
	const first = buildPreferenceRecord(accepted({ run: 'run-a', chosen: 2 }))!;
	const again = buildPreferenceRecord(accepted({ run: 'run-a', chosen: 1, time: new Date('2026-03-02T10:05:00Z') }))!;
	const other = buildPreferenceRecord(accepted({ run: 'run-b', chosen: 0, time: new Date('2026-03-02T10:01:00Z') }))!;

	function logOf(...records: PreferenceRecord[]): string {
		return records.reduce((text, r) => withRecord(text, r).text, '');
	}

	it('keeps the run key in the record and reads it back', () => {
		assert.equal(first.run, 'run-a');
		assert.deepEqual(parseLog(serializeRecord(first)).records, [first]);
		assert.equal(parseLog(JSON.stringify({ ...first, run: 7 })).records.length, 0, 'a run key is a string');
	});

	it('a second pick from the same run replaces the first: one record, the latest choice, at the end', () => {
		const step = withRecord(logOf(first, other), again);
		assert.equal(step.replaced, 1);
		const { records, skipped } = parseLog(step.text);
		assert.equal(skipped, 0);
		assert.deepEqual(
			records.map(r => [r.run, r.chosen]),
			[
				['run-b', 0],
				['run-a', 1],
			],
		);
	});

	it('exports the pairs of the latest choice only, and counts the run once in the agreement', () => {
		const { records } = parseLog(logOf(first, other, again));
		const rows = toTrlRows(records.filter(r => r.run === 'run-a')) as { chosen: string; rejected: string }[];
		// Candidates: short (id 2, rank 1), brief (id 0), terse (id 1); the latest pick is terse.
		assert.deepEqual(
			rows.map(r => [r.chosen, r.rejected]),
			[
				['terse', 'short'],
				['terse', 'brief'],
			],
		);
		const agreement = at(topOneAgreement(records), 0);
		// run-b chose brief (rank 2) and run-a, once, terse (rank 3): two runs, neither the ranker's #1.
		assert.deepEqual([agreement.n, agreement.k], [2, 0]);
	});

	it('never merges records without a run key (older logs), and keeps lines it cannot read', () => {
		const { run: _, ...old } = first;
		const torn = serializeRecord(first).slice(0, 60);
		assert.ok(torn.includes('run-a'));
		const next = withRecord(`${serializeRecord(old)}${torn}\n`, again);
		assert.equal(next.replaced, 0);
		const { records, skipped } = parseLog(next.text);
		assert.deepEqual(
			records.map(r => [r.run, r.chosen]),
			[
				[undefined, 2],
				['run-a', 1],
			],
		);
		assert.equal(skipped, 1, 'the torn line is still there');
	});
});

describe('preference log bounds', () => {
	const line = (i: number) => `{"n":${i},"pad":"${'x'.repeat(20)}"}`;
	const log = Array.from({ length: 10 }, (_, i) => `${line(i)}\n`).join('');
	const lineBytes = Buffer.byteLength(`${line(0)}\n`);

	it('drops the oldest whole lines until the log fits', () => {
		const trimmed = trimLog(log, lineBytes * 3 + 5);
		assert.deepEqual(
			trimmed
				.trim()
				.split('\n')
				.map(l => JSON.parse(l).n),
			[7, 8, 9],
		);
		assert.ok(Buffer.byteLength(trimmed) <= lineBytes * 3 + 5);
	});

	it('leaves a log that fits untouched, and empties one whose only line is too big', () => {
		assert.equal(trimLog(log, 10_000), log);
		assert.equal(trimLog(`${line(1)}\n`, 5), '');
	});

	it('counts bytes, not characters', () => {
		const wide = `{"t":"${'é'.repeat(10)}"}\n`; // 10 characters, 20 bytes of text
		assert.equal(trimLog(wide + wide, Buffer.byteLength(wide) + 3), wide);
	});
});

describe('preference filters', () => {
	const records = [
		record(
			'2026-03-01T23:59:00Z',
			[
				{ text: 'a', rank: 1 },
				{ text: 'b', rank: 2 },
			],
			0,
		),
		record(
			'2026-03-02T08:00:00Z',
			[
				{ text: 'a', rank: 1 },
				{ text: 'a', rank: 2 },
				{ text: 'c', rank: 3 },
			],
			0,
		),
		{
			...record(
				'2026-03-05T08:00:00Z',
				[
					{ text: 'x', rank: 1 },
					{ text: 'y', rank: 2 },
					{ text: 'z', rank: 3 },
				],
				1,
			),
			task: 'explain',
		},
	];

	it('by task, by inclusive date range, by distinct candidates', () => {
		assert.equal(filterRecords(records, { task: 'explain' }).length, 1);
		const since = parseDateBound('2026-03-02', 'since')!;
		const until = parseDateBound('2026-03-02', 'until')!;
		assert.deepEqual(
			filterRecords(records, { since, until }).map(r => r.time),
			['2026-03-02T08:00:00.000Z'],
		);
		// The second run had three candidates but only two distinct texts.
		assert.deepEqual(
			filterRecords(records, { minCandidates: 3 }).map(r => r.task),
			['explain'],
		);
	});

	it('reads dates and timestamps, and nothing else', () => {
		assert.equal(parseDateBound('2026-03-02', 'since'), Date.parse('2026-03-02T00:00:00Z'));
		assert.equal(parseDateBound('2026-03-02', 'until'), Date.parse('2026-03-03T00:00:00Z') - 1);
		assert.equal(parseDateBound('2026-03-02T12:30:00Z', 'until'), Date.parse('2026-03-02T12:30:00Z'));
		assert.equal(parseDateBound('yesterday', 'since'), undefined);
		assert.equal(parseDateBound('2026-13-45', 'since'), undefined);
	});
});

describe('exclusion patterns', () => {
	const file = { absolute: '/home/me/proj/secrets/keys.txt', relative: 'secrets/keys.txt' };

	it('match relative to the workspace folder, by name anywhere, or absolutely', () => {
		assert.equal(isExcluded(file, ['secrets/**']), true);
		assert.equal(isExcluded(file, ['**/keys.*']), true);
		assert.equal(isExcluded(file, ['*.txt']), true);
		assert.equal(isExcluded(file, ['/home/me/**']), true);
		assert.equal(isExcluded({ absolute: '/p/.env' }, ['.env']), true, 'dot files match');
	});

	it('leave other files alone', () => {
		assert.equal(isExcluded(file, []), false);
		assert.equal(isExcluded(file, ['', '  ']), false);
		assert.equal(isExcluded(file, ['other/**', '*.md', 'keys']), false);
		assert.equal(isExcluded({ absolute: '/x/SECRETS/a' }, ['**/secrets/**']), false);
		assert.equal(isExcluded({ absolute: '/x/SECRETS/a' }, ['**/secrets/**'], true), true);
	});
});

describe('TRL export', () => {
	const r = buildPreferenceRecord(
		accepted({
			candidates: [candidate(0, 'short', 1), candidate(1, 'brief', 2), candidate(2, 'short', 3), candidate(3, 'terse', 4)],
			chosen: 1,
		}),
	)!;
	const lone = record(
		'2026-03-02T10:00:00Z',
		[
			{ text: 'same', rank: 1 },
			{ text: 'same', rank: 2 },
		],
		0,
	);

	it('standard form: one row per distinct rejected text, exactly prompt, chosen and rejected strings', () => {
		const rows = parsedBack(toJsonl(toTrlRows([r, lone])));
		assert.deepEqual(rows, [
			{ prompt: 'make it shorter\n\nlong text', chosen: 'brief', rejected: 'short' },
			{ prompt: 'make it shorter\n\nlong text', chosen: 'brief', rejected: 'terse' },
		]);
		for (const row of rows) {
			// TRL's documented preference columns (dataset formats guide, "Preference", explicit prompt).
			assert.deepEqual(Object.keys(row).sort(), ['chosen', 'prompt', 'rejected']);
			for (const key of ['prompt', 'chosen', 'rejected'] as const) assert.equal(typeof row[key], 'string');
		}
	});

	it('conversational form: the chat sent as prompt, one assistant message each side', () => {
		const rows = parsedBack(toJsonl(toTrlRows([r], 'conversational')));
		assert.equal(rows.length, 2);
		assert.deepEqual(rows[0], {
			prompt: [
				{ role: 'system', content: 'You rewrite text.' },
				{ role: 'user', content: 'Instruction: make it shorter\n\n<<<\nlong text\n>>>' },
			],
			chosen: [{ role: 'assistant', content: 'brief' }],
			rejected: [{ role: 'assistant', content: 'short' }],
		});
	});

	it('what it exports reads back as the same pairs, in either form', () => {
		for (const format of ['standard', 'conversational'] as const) {
			const pairs = parsePreferenceJsonl(toJsonl(toTrlRows([r], format)));
			assert.deepEqual(
				pairs.map(p => [p.chosen, p.rejected]),
				[
					['brief', 'short'],
					['brief', 'terse'],
				],
			);
		}
		assert.equal(at(parsePreferenceJsonl(toJsonl(toTrlRows([r]))), 0).prompt, 'make it shorter\n\nlong text');
	});

	function parsedBack(jsonl: string): Record<string, unknown>[] {
		assert.ok(jsonl.endsWith('\n'));
		return jsonl
			.trim()
			.split('\n')
			.map(l => JSON.parse(l));
	}
});

describe('reading preference JSONL', () => {
	it('takes an implicit prompt as the shared head of chosen and rejected', () => {
		const [p] = parsePreferenceJsonl('{"chosen":"Q: sky? A: blue","rejected":"Q: sky? A: green"}\n');
		assert.deepEqual(p, { prompt: 'Q: sky? A: ', chosen: 'blue', rejected: 'green' });
	});

	it('takes an implicit conversational prompt from the turns before the answer', () => {
		const row = {
			chosen: [
				{ role: 'user', content: 'sky?' },
				{ role: 'assistant', content: 'blue' },
			],
			rejected: [
				{ role: 'user', content: 'sky?' },
				{ role: 'assistant', content: 'green' },
			],
			subset: 'colours',
		};
		assert.deepEqual(parsePreferenceJsonl(JSON.stringify(row)), [
			{ prompt: 'sky?', chosen: 'blue', rejected: 'green', subset: 'colours' },
		]);
	});

	it('names the line of a bad row', () => {
		assert.throws(
			() => parsePreferenceJsonl('{"prompt":"a","chosen":"b","rejected":"c"}\n\n{"prompt":"a"}\n'),
			/line 3: needs "chosen"/,
		);
		assert.throws(() => parsePreferenceJsonl('{"chosen":"b",'), /line 1: not valid JSON/);
		assert.throws(() => parsePreferenceJsonl('{"chosen":[{"role":"user","content":"x"}],"rejected":[]}'), /must end with an assistant/);
	});
});

describe('agreement arithmetic (hand-computed)', () => {
	const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 5e-4, `${actual} ≉ ${expected}`);

	it('Wilson 95% interval', () => {
		// 8/10: p = .8, z² = 3.8415; centre (.8 + .19207)/1.38415 = .71674, half-width .22658.
		const [lo, hi] = wilson(8, 10);
		close(lo, 0.4902);
		close(hi, 0.9433);
		// 0/5: the lower bound is 0 and the upper z²/(n + z²) = 3.8415/8.8415.
		const [lo0, hi0] = wilson(0, 5);
		assert.equal(lo0, 0);
		close(hi0, 0.4345);
		assert.deepEqual(wilson(0, 0), [0, 1]);
	});

	it('pairwise accuracy counts a tie as half', () => {
		const acc = pairwiseAccuracy([
			{ chosen: 2, rejected: 1 },
			{ chosen: 1, rejected: 1 },
			{ chosen: 0, rejected: 1 },
			{ chosen: 3, rejected: 2 },
		]);
		assert.equal(acc.k, 2.5);
		assert.equal(acc.n, 4);
		assert.equal(acc.rate, 0.625);
		close(acc.ci95[0], 0.2194);
		close(acc.ci95[1], 0.9081);
	});

	const three = [
		{ text: 'a', rank: 1, score: 3 },
		{ text: 'b', rank: 2, score: 2 },
		{ text: 'c', rank: 3, score: 1 },
	];
	// The pick at rank 1, 1, 2, 3 by the reward model; at rank 1 by consensus.
	const log = [
		record('2026-03-02T10:00:00Z', three, 0),
		record('2026-03-02T11:00:00Z', three, 0),
		record('2026-03-03T10:00:00Z', three, 1),
		record('2026-03-09T10:00:00Z', three, 2),
		record('2026-03-09T11:00:00Z', three, 0, 'consensus'),
		// One distinct choice: says nothing about the ranker.
		record(
			'2026-03-09T12:00:00Z',
			[
				{ text: 'z', rank: 1 },
				{ text: 'z', rank: 2 },
			],
			1,
		),
	];

	it('top-1 agreement per ranker with n and interval', () => {
		const rows = topOneAgreement(log);
		assert.deepEqual(
			rows.map(r => [r.ranker, r.kind, r.k, r.n]),
			[
				['org/rm', 'reward', 2, 4],
				['consensus', 'consensus', 1, 1],
			],
		);
		assert.deepEqual(at(rows, 0).ci95, wilson(2, 4));
	});

	it('distribution of the picked rank', () => {
		assert.deepEqual(pickedRankDistribution(log), [3, 1, 1]);
	});

	it('trend by day and by week (weeks start Monday)', () => {
		assert.deepEqual(
			agreementTrend(log, 'day').map(p => [p.period, p.k, p.n]),
			[
				['2026-03-02', 2, 2],
				['2026-03-03', 0, 1],
				['2026-03-09', 1, 2],
			],
		);
		assert.deepEqual(
			agreementTrend(log, 'week').map(p => [p.period, p.k, p.n]),
			[
				['2026-03-02', 2, 3],
				['2026-03-09', 1, 2],
			],
		);
	});

	it("the ranker's pairwise accuracy on the log", () => {
		// Chosen #1 twice (2 wins each), #2 once (1 win, 1 loss), #3 once (2 losses); consensus run: 2 wins.
		const acc = loggedPairwiseAccuracy(log);
		assert.equal(acc.n, 10);
		assert.equal(acc.k, 7);
	});

	it('consensus recomputed on the reward model’s own runs, side by side', () => {
		// consensus.test.ts: consensus ranks the first of these first; here the reward model prefers the odd one out.
		const texts = [
			'function add(a, b) { return a + b; }',
			'function add(a, b) { return a + b + 0; }',
			'print("hello world")',
			'function add(x, y) { return x + y; }',
		];
		const ranked = texts.map((text, i) => ({ text, rank: [2, 3, 1, 4][i], score: [1, 0, 2, -1][i] }));
		// First run: the person agrees with consensus; second: with the reward model.
		const rows = consensusVersusReward([record('2026-03-02T10:00:00Z', ranked, 0), record('2026-03-02T11:00:00Z', ranked, 2)]);
		assert.equal(rows.length, 1);
		assert.equal(at(rows, 0).rewardModel, 'org/rm');
		assert.deepEqual([at(rows, 0).reward.k, at(rows, 0).reward.n], [1, 2]);
		assert.deepEqual([at(rows, 0).consensus.k, at(rows, 0).consensus.n], [1, 2]);
	});
});

describe('ranking report', () => {
	it('an empty log is a report with nothing judged', () => {
		const report = rankingReport([]);
		assert.equal(report.picks, 0);
		assert.equal(report.judged, 0);
		assert.deepEqual(report.rankers, []);
		assert.deepEqual(report.rankDistribution, []);
		assert.equal(report.pairwise.n, 0);
	});

	it('accepts only the messages the report page may send', () => {
		assert.deepEqual(parseReportMessage({ type: 'ready' }), { type: 'ready' });
		assert.deepEqual(parseReportMessage({ type: 'export', extra: '<script>' }), { type: 'export' });
		for (const bad of [null, 'ready', { type: 'runCommand', command: 'x' }, { type: 1 }])
			assert.equal(parseReportMessage(bad), undefined);
	});

	it("the picker header's agreement line", () => {
		assert.equal(
			agreementLine({ agreed: 8, runs: 10, ci95: wilson(8, 10) }),
			'agreed with your pick 8 of 10 times (80%, 95% CI 49%–94%)',
		);
	});
});

/**
 * The run's state machine against scripted generators and scorers. The real Ollama client and the
 * real reward worker are exercised in generation.test.ts and reward.test.ts, and the whole pipeline in cli.test.ts; here
 * the point is ordering, collapsing, failure handling and cancellation, which need exact control.
 */
import * as assert from 'node:assert/strict';
import { BestOfNError, cancelledError } from '../../src/core/errors';
import type { CandidateGenerator, GenerationRequest } from '../../src/core/generation';
import type { PickerState } from '../../src/core/protocol';
import type { RewardPair, RewardScorer } from '../../src/core/reward';
import { BestOfNRun, rewardModelLabel } from '../../src/core/run';
import { DEFAULT_SETTINGS, type Settings } from '../../src/core/settings';
import { RUN_LIMITS, runLimitError } from '../../src/core/runLimits';
import { rewriteTask } from '../../src/core/tasks/rewrite';
import { at } from '../fixtures/present';

const task = rewriteTask({ instruction: 'improve', text: 'old text', languageId: 'plaintext' });

/** Produces `texts[seed - base]` in two deltas after `delayMs`, honouring the abort signal. */
function scriptedGenerator(texts: (string | BestOfNError)[], delayMs = 5, base = 100) {
	const seen: GenerationRequest[] = [];
	let open = 0;
	let maxOpen = 0;
	const gen: CandidateGenerator = {
		async generate(request, signal, onDelta) {
			seen.push(request);
			open++;
			maxOpen = Math.max(maxOpen, open);
			try {
				const text = at(texts, request.options.seed - base, 'the scripted texts');
				await new Promise<void>((resolve, reject) => {
					const t = setTimeout(resolve, delayMs);
					signal.addEventListener(
						'abort',
						() => {
							clearTimeout(t);
							reject(cancelledError());
						},
						{ once: true },
					);
				});
				if (text instanceof BestOfNError) throw text;
				onDelta(text.slice(0, 2));
				onDelta(text.slice(2));
				return { text, tokens: text.length };
			} finally {
				open--;
			}
		},
	};
	return {
		gen,
		seen,
		get open() {
			return open;
		},
		get maxOpen() {
			return maxOpen;
		},
	};
}

/** Scores a response by how many times it contains "good". */
function countingScorer(fail?: (pair: RewardPair) => boolean): RewardScorer & { calls: number; pairs: number } {
	return {
		calls: 0,
		pairs: 0,
		async load() {
			return { id: 'test-rm', maxLength: 512, source: 'local' as const };
		},
		async score(pairs) {
			this.calls++;
			this.pairs += pairs.length;
			if (fail && pairs.some(fail)) throw new BestOfNError('worker-crashed', 'The reward worker stopped unexpectedly.');
			return pairs.map(p => (p.response.match(/good/g) ?? []).length - 1);
		},
	};
}

const settings = (over: Partial<Settings> = {}): Settings => ({ ...DEFAULT_SETTINGS, concurrency: 2, ...over });

describe('BestOfNRun', () => {
	it('ranks by reward score, best first, with ranks 1..n', async () => {
		const g = scriptedGenerator(['bad', 'good good', 'good', 'good good good']);
		const run = new BestOfNRun({ runId: 1, task, settings: settings(), generator: g.gen, scorer: countingScorer(), seed: 100 });
		const { state, error } = await run.start();
		assert.equal(error, undefined);
		assert.equal(state.phase, 'done');
		assert.equal(state.ranker.kind, 'reward');
		assert.deepEqual(
			state.candidates.map(c => c.text),
			['good good good', 'good good', 'good', 'bad'],
		);
		assert.deepEqual(
			state.candidates.map(c => c.rank),
			[1, 2, 3, 4],
		);
		assert.deepEqual(
			state.candidates.map(c => c.score),
			[2, 1, 0, -1],
		);
	});

	it('reports the scoring phase between the last candidate and the final ranking', async () => {
		const g = scriptedGenerator(['good', 'bad', 'good good', 'x']);
		let release!: () => void;
		const gate = new Promise<void>(r => (release = r));
		const scorer = countingScorer();
		const slowLoad: RewardScorer = {
			load: async () => {
				await gate;
				return scorer.load(new AbortController().signal);
			},
			score: (p, s) => scorer.score(p, s),
		};
		const run = new BestOfNRun({ runId: 1, task, settings: settings(), generator: g.gen, scorer: slowLoad, seed: 100 });
		const phases: string[] = [];
		run.onState(s => phases.push(s.phase));
		const done = run.start();
		while (!phases.includes('scoring')) await new Promise(r => setTimeout(r, 5));
		assert.ok(
			run.snapshot().candidates.every(c => c.status === 'done' && c.rank === undefined),
			'all generated, none ranked yet',
		);
		release();
		const { state } = await done;
		assert.equal(state.phase, 'done');
		assert.deepEqual(
			state.candidates.map(c => c.rank),
			[1, 2, 3, 4],
		);
	});

	it('gives each candidate its own seed and respects concurrency', async () => {
		const g = scriptedGenerator(['a', 'b', 'c', 'd', 'e'], 10);
		const run = new BestOfNRun({ runId: 1, task, settings: settings({ candidates: 5, concurrency: 2 }), generator: g.gen, seed: 100 });
		await run.start();
		assert.deepEqual(g.seen.map(r => r.options.seed).sort(), [100, 101, 102, 103, 104]);
		assert.equal(g.maxOpen, 2);
	});

	it('streams text into snapshots before the candidate completes, coalescing token bursts', async () => {
		// 40 tokens 2 ms apart, then the end: the picker must see the text grow, in far fewer snapshots than tokens.
		const tokens = Array.from({ length: 40 }, (_, i) => `t${i} `);
		const gen: CandidateGenerator = {
			async generate(_request, _signal, onDelta) {
				for (const t of tokens) {
					onDelta(t);
					await new Promise(r => setTimeout(r, 2));
				}
				return { text: tokens.join('') };
			},
		};
		const run = new BestOfNRun({ runId: 1, task, settings: settings({ candidates: 1 }), generator: gen, seed: 100 });
		const partials: string[] = [];
		run.onState(s => {
			const c = s.candidates[0];
			if (c?.status === 'streaming' && c.text) partials.push(c.text);
		});
		const { state } = await run.start();
		assert.ok(partials.length >= 1, 'saw the text while it streamed');
		// Every partial is a prefix; at least one came before the last token. (The generator still waits
		// 2 ms after its last token, so on a loaded machine a flush may show the whole text as streaming.)
		const full = tokens.join('');
		assert.ok(partials.every(p => full.startsWith(p)) && partials.some(p => p.length < full.length), JSON.stringify(partials));
		assert.ok(partials.length < tokens.length / 2, `${partials.length} snapshots for ${tokens.length} tokens`);
		assert.equal(at(state.candidates, 0).text, tokens.join('').trimEnd());
	});

	it("shows a candidate's first words at once, without waiting for the stream's coalescing", async () => {
		let seenAtFirstWords: string | undefined;
		let shownBeforeWords = '';
		const gen: CandidateGenerator = {
			async generate(_request, _signal, onDelta) {
				onDelta('\n');
				shownBeforeWords = latest;
				onDelta('Hello');
				// Synchronously: the snapshot with the first words was already handed out.
				seenAtFirstWords = latest;
				onDelta(' world');
				return { text: '\nHello world' };
			},
		};
		let latest = '';
		const run = new BestOfNRun({ runId: 1, task, settings: settings({ candidates: 1 }), generator: gen, seed: 100 });
		run.onState(s => (latest = s.candidates[0]?.text ?? ''));
		await run.start();
		assert.equal(shownBeforeWords, '', 'whitespace alone is not shown at once');
		assert.equal(seenAtFirstWords, 'Hello');
	});

	it('shows the first text at once when the reply opens with what cleaning hides (a fence)', async () => {
		const shown: string[] = [];
		let atFirstCode: string | undefined;
		const gen: CandidateGenerator = {
			async generate(_request, _signal, onDelta) {
				onDelta('```');
				onDelta('js\n');
				onDelta('const');
				// Synchronously, not after the stream's coalescing: the code's first word was handed out.
				atFirstCode = shown.at(-1);
				onDelta(' x = 1;\n```');
				return { text: '```js\nconst x = 1;\n```' };
			},
		};
		const js = rewriteTask({ instruction: 'improve', text: 'var x = 1;', languageId: 'javascript' });
		const run = new BestOfNRun({ runId: 1, task: js, settings: settings({ candidates: 1 }), generator: gen, seed: 100 });
		run.onState(s => shown.push(s.candidates[0]?.text ?? ''));
		const { state } = await run.start();
		assert.equal(atFirstCode, 'const');
		assert.ok(!shown.some(t => t.includes('`')), `the fence is never shown: ${JSON.stringify(shown)}`);
		assert.equal(at(state.candidates, 0).text, 'const x = 1;');
	});

	it("passes on each candidate's server generation time, when the server gives one", async () => {
		const generator: CandidateGenerator = {
			generate: async request => ({ text: `text ${request.options.seed}`, evalMs: request.options.seed === 100 ? 250 : undefined }),
		};
		const run = new BestOfNRun({ runId: 1, task, settings: settings({ candidates: 2 }), generator, seed: 100 });
		const { state } = await run.start();
		assert.deepEqual(state.candidates.map(c => [c.text, c.evalMs]).sort(), [
			['text 100', 250],
			['text 101', undefined],
		]);
	});

	it('collapses identical candidates into one with a count and scores it once', async () => {
		const g = scriptedGenerator(['same good', 'other', 'same good', 'same good']);
		const scorer = countingScorer();
		const run = new BestOfNRun({ runId: 1, task, settings: settings(), generator: g.gen, scorer, seed: 100 });
		const { state } = await run.start();
		assert.equal(state.candidates.length, 2);
		assert.equal(at(state.candidates, 0).text, 'same good');
		assert.equal(at(state.candidates, 0).count, 3);
		assert.equal(scorer.pairs, 2);
	});

	it('candidates that complete while a score is in progress are scored together in the next call, each with its own score', async () => {
		const g = scriptedGenerator(['good', 'bad', 'good good', 'good good good'], 5);
		const scorer = countingScorer();
		const calls: string[][] = [];
		let release!: () => void;
		const gate = new Promise<void>(r => (release = r));
		const gated: RewardScorer = {
			load: s => scorer.load(s),
			async score(pairs, signal) {
				calls.push(pairs.map(p => p.response));
				// The first call holds the scorer until every other candidate has completed.
				if (calls.length === 1) await gate;
				return scorer.score(pairs, signal);
			},
		};
		const run = new BestOfNRun({ runId: 1, task, settings: settings({ concurrency: 4 }), generator: g.gen, scorer: gated, seed: 100 });
		const done = run.start();
		while (run.snapshot().candidates.filter(c => c.status === 'done').length < 4) await new Promise(r => setTimeout(r, 5));
		release();
		const { state } = await done;
		assert.equal(calls.length, 2, JSON.stringify(calls));
		assert.equal(at(calls, 0).length, 1);
		assert.equal(at(calls, 1).length, 3);
		assert.deepEqual(
			state.candidates.map(c => [c.text, c.score]),
			[
				['good good good', 2],
				['good good', 1],
				['good', 0],
				['bad', -1],
			],
		);
	});

	it('a scorer that takes concurrent calls (a server) gets one call per candidate', async () => {
		const g = scriptedGenerator(['good', 'bad', 'good good'], 5);
		const scorer = countingScorer();
		const concurrent: RewardScorer = { concurrent: true, load: s => scorer.load(s), score: (p, s) => scorer.score(p, s) };
		const run = new BestOfNRun({
			runId: 1,
			task,
			settings: settings({ candidates: 3, concurrency: 3 }),
			generator: g.gen,
			scorer: concurrent,
			seed: 100,
		});
		const { state } = await run.start();
		assert.equal(scorer.calls, 3);
		assert.deepEqual(
			state.candidates.map(c => c.score),
			[1, 0, -1],
		);
	});

	it('ranks by consensus without a scorer and says why', async () => {
		const g = scriptedGenerator(['return a + b;', 'return a + b ;', 'print(1)', 'return b + a;']);
		const run = new BestOfNRun({
			runId: 1,
			task,
			settings: settings(),
			generator: g.gen,
			rankerReason: 'bestOfN.ranker is "consensus"',
			seed: 100,
		});
		const { state } = await run.start();
		assert.equal(state.ranker.kind, 'consensus');
		assert.equal(state.ranker.reason, 'bestOfN.ranker is "consensus"');
		assert.equal(at(state.candidates, -1).text, 'print(1)');
		assert.deepEqual(
			state.candidates.map(c => c.rank),
			[1, 2, 3, 4],
		);
	});

	it('falls back to consensus when the reward model does not load (auto)', async () => {
		const g = scriptedGenerator(['a', 'b', 'c', 'd']);
		const scorer: RewardScorer = {
			load: async () => {
				throw new BestOfNError('reward-no-onnx', 'X has no ONNX export.');
			},
			score: async () => {
				throw new Error('must not be called');
			},
		};
		const run = new BestOfNRun({ runId: 1, task, settings: settings(), generator: g.gen, scorer, seed: 100 });
		const { state, error } = await run.start();
		assert.equal(error, undefined);
		assert.equal(state.ranker.kind, 'consensus');
		assert.match(state.ranker.reason, /X has no ONNX export/);
		assert.equal(state.notice?.severity, 'warning');
		assert.equal(state.notice?.action, 'setupReward', 'the notice offers to set up a reward model');
		assert.ok(state.candidates.every(c => c.rank !== undefined));
	});

	it('says on a run without a scorer that a reward model would rank, with the action, only when asked to', async () => {
		const reason = 'reward model unavailable, X has no ONNX export.';
		const withNotice = await new BestOfNRun({
			runId: 1,
			task,
			settings: settings(),
			generator: scriptedGenerator(['a', 'b']).gen,
			rankerReason: reason,
			rankerNotice: 'Ranked by consensus: X has no ONNX export.',
			seed: 100,
		}).start();
		assert.deepEqual(withNotice.state.notice, {
			severity: 'warning',
			text: 'Ranked by consensus: X has no ONNX export.',
			action: 'setupReward',
		});
		assert.equal(withNotice.state.ranker.reason, reason);
		const chosen = await new BestOfNRun({
			runId: 2,
			task,
			settings: settings({ ranker: 'consensus' }),
			generator: scriptedGenerator(['a', 'b']).gen,
			rankerReason: 'bestOfN.ranker is set to consensus',
			seed: 100,
		}).start();
		assert.equal(chosen.state.notice, undefined, 'consensus chosen on purpose is not nagged about');
	});

	it('keeps candidates usable when the scorer crashes mid-run, re-ranking by consensus', async () => {
		const g = scriptedGenerator(['good one', 'crash here', 'good two', 'good three']);
		const scorer = countingScorer(p => p.response.includes('crash'));
		const run = new BestOfNRun({ runId: 1, task, settings: settings({ concurrency: 1 }), generator: g.gen, scorer, seed: 100 });
		const { state } = await run.start();
		assert.equal(state.phase, 'done');
		assert.equal(state.ranker.kind, 'consensus');
		assert.match(state.notice!.text, /reward worker stopped/);
		assert.equal(state.candidates.length, 4);
		assert.ok(state.candidates.every(c => c.status === 'done' && c.rank !== undefined));
	});

	it('ranks the survivors and reports the failures when some candidates fail', async () => {
		const g = scriptedGenerator(['good', new BestOfNError('server', 'Ollama at h: out of memory'), 'good good', 'bad']);
		const run = new BestOfNRun({ runId: 1, task, settings: settings(), generator: g.gen, scorer: countingScorer(), seed: 100 });
		const { state, error } = await run.start();
		assert.equal(error, undefined);
		assert.equal(state.phase, 'done');
		assert.deepEqual(
			state.candidates.map(c => c.status),
			['done', 'done', 'done', 'failed'],
		);
		assert.equal(at(state.candidates, 3).error, 'Ollama at h: out of memory');
	});

	it('stops at the first unreachable-server error instead of repeating it N times', async () => {
		const unreachable = new BestOfNError('unreachable', 'Could not reach Ollama at http://h.');
		const g = scriptedGenerator([unreachable, unreachable, unreachable, unreachable, unreachable, unreachable], 5);
		const run = new BestOfNRun({ runId: 1, task, settings: settings({ candidates: 6, concurrency: 1 }), generator: g.gen, seed: 100 });
		const { state, error } = await run.start();
		assert.equal(state.phase, 'failed');
		assert.equal(error?.kind, 'unreachable');
		assert.equal(g.seen.length, 1);
		assert.equal(state.notice?.text, 'Could not reach Ollama at http://h.');
		assert.equal(at(state.candidates, 0).status, 'failed', 'the row with the reason leads');
		assert.ok(state.candidates.slice(1).every(c => c.status === 'cancelled'));
	});

	it('cancel aborts every open stream at once and ends as cancelled', async () => {
		const g = scriptedGenerator(['a', 'b', 'c', 'd'], 10_000);
		const run = new BestOfNRun({ runId: 1, task, settings: settings({ concurrency: 4 }), generator: g.gen, seed: 100 });
		const done = run.start();
		await new Promise(r => setTimeout(r, 20));
		assert.equal(g.open, 4);
		const t0 = Date.now();
		run.cancel();
		const { state } = await done;
		assert.ok(Date.now() - t0 < 500);
		assert.equal(g.open, 0);
		assert.equal(state.phase, 'cancelled');
		assert.ok(state.candidates.every(c => c.status === 'cancelled'));
	});

	it('snapshots are self-contained for the picker', async () => {
		const g = scriptedGenerator(['a', 'b', 'c', 'd']);
		const states: PickerState[] = [];
		const run = new BestOfNRun({ runId: 7, task, settings: settings(), generator: g.gen, seed: 100 });
		run.onState(s => states.push(s));
		await run.start();
		const last = at(states, -1);
		assert.equal(last.runId, 7);
		assert.equal(last.original, 'old text');
		assert.equal(last.task.title, 'improve');
		assert.equal(last.task.kind, 'rewrite');
		assert.equal(last.requested, 4);
		assert.equal(typeof last.elapsedMs, 'number');
		assert.equal(run.candidateText(at(last.candidates, 0).id), at(last.candidates, 0).text);
	});
});

/**
 * A model server and a reward model on one fake clock: each delta advances it by `gapMs`, or by
 * `slowGapMs` while a score runs (a server sharing the scorer's CPU); a score lasts `scoreMs` of it.
 * Nothing here is timed: the run reads only this clock.
 */
function sharedClock(options: { gapMs: number; slowGapMs: number; scoreMs: number; tokens: number }) {
	const clock = { t: 0 };
	let open = 0;
	let scoring = 0;
	const calls: string[][] = [];
	const tick = () => new Promise<void>(resolve => setImmediate(resolve));
	const generator: CandidateGenerator = {
		async generate(request, signal, onDelta) {
			open++;
			try {
				const words: string[] = [];
				for (let i = 0; i < options.tokens; i++) {
					await tick();
					if (signal.aborted) throw cancelledError();
					clock.t += scoring > 0 ? options.slowGapMs : options.gapMs;
					const word = i === 0 ? `seed${request.options.seed}` : i % 7 === 0 ? ' good' : ' word';
					words.push(word);
					onDelta(word);
				}
				return { text: words.join(''), tokens: options.tokens };
			} finally {
				open--;
			}
		},
	};
	const scorer: RewardScorer = {
		async load() {
			return { id: 'test-rm', maxLength: 512, source: 'local' as const };
		},
		async score(pairs) {
			calls.push(pairs.map(p => p.response.split(' ')[0] ?? ''));
			scoring++;
			const until = clock.t + options.scoreMs;
			// The score ends once the clock passes its time, or at once when no stream is left to move it.
			while (clock.t < until && open > 0) await tick();
			clock.t = Math.max(clock.t, until);
			scoring--;
			return pairs.map(p => (p.response.match(/good/g) ?? []).length);
		},
	};
	return { clock, calls, generator, scorer, now: () => clock.t };
}

describe('holding scores while they slow the model server', () => {
	const three = settings({ candidates: 3, concurrency: 1 });
	const runOn = (fake: ReturnType<typeof sharedClock>, options: { holdScoresWhenServerSlows?: boolean } = {}) =>
		new BestOfNRun({
			runId: 1,
			task,
			settings: three,
			generator: fake.generator,
			scorer: fake.scorer,
			seed: 100,
			now: fake.now,
			...options,
		});

	it('scores the rest after generation, in one call, once a score is measured to slow the streams', async () => {
		const fake = sharedClock({ gapMs: 20, slowGapMs: 200, scoreMs: 600, tokens: 40 });
		const states: PickerState[] = [];
		const run = runOn(fake);
		run.onState(s => states.push(s));
		const { state } = await run.start();
		// The first as it completed; the second held while the third streamed, then both together.
		assert.deepEqual(fake.calls, [['seed100'], ['seed101', 'seed102']]);
		assert.ok(state.candidates.every(c => c.score !== undefined && !c.scoreHeld));
		// While the third streamed, the picker said the second's score waits, not that it is missing.
		const waiting = states.find(s => s.candidates.some(c => c.status === 'streaming'));
		assert.ok(waiting, 'a snapshot while the third streams');
		const held = states.filter(s => s.candidates.some(c => c.scoreHeld));
		assert.ok(held.length > 0, 'a snapshot shows a held score');
		for (const s of held) {
			const c = s.candidates.find(x => x.scoreHeld);
			assert.equal(c?.text.startsWith('seed101'), true);
			assert.equal(c?.score, undefined);
			assert.ok(s.candidates.some(x => x.status === 'streaming' || x.status === 'queued'));
		}
		assert.equal(run.paceReading().held, 1);
	});

	it('scores each candidate as it completes when the streams keep their pace through a score', async () => {
		const fake = sharedClock({ gapMs: 20, slowGapMs: 20, scoreMs: 600, tokens: 40 });
		const states: PickerState[] = [];
		const run = runOn(fake);
		run.onState(s => states.push(s));
		await run.start();
		assert.deepEqual(fake.calls, [['seed100'], ['seed101'], ['seed102']]);
		assert.ok(states.every(s => s.candidates.every(c => !c.scoreHeld)));
		assert.equal(run.paceReading().held, 0);
	});

	it('scores as each completes when told not to hold, slowed or not (the bench\'s "before")', async () => {
		const fake = sharedClock({ gapMs: 20, slowGapMs: 200, scoreMs: 600, tokens: 40 });
		const run = runOn(fake, { holdScoresWhenServerSlows: false });
		await run.start();
		assert.deepEqual(fake.calls, [['seed100'], ['seed101'], ['seed102']]);
		assert.ok((run.paceReading().firstRatio ?? 1) < 0.5);
	});

	it('a cancelled run drops what it held: no score call after the cancel, nothing left saying it waits', async () => {
		const fake = sharedClock({ gapMs: 20, slowGapMs: 200, scoreMs: 600, tokens: 40 });
		const run = runOn(fake);
		run.onState(s => {
			if (s.candidates.some(c => c.scoreHeld)) run.cancel();
		});
		const { state } = await run.start();
		assert.equal(state.phase, 'cancelled');
		assert.deepEqual(fake.calls, [['seed100']]);
		assert.ok(state.candidates.every(c => !c.scoreHeld));
	});
});

describe('rewardModelLabel', () => {
	it('names a folder by its last segment and a Hub id as it is', () => {
		assert.equal(rewardModelLabel('/home/me/models/oasst-rm/'), 'oasst-rm');
		assert.equal(rewardModelLabel('~/models/rm'), 'rm');
		assert.equal(rewardModelLabel('C:\\models\\rm'), 'rm');
		assert.equal(rewardModelLabel('OpenAssistant/reward-model-deberta-v3-large-v2'), 'OpenAssistant/reward-model-deberta-v3-large-v2');
	});
});

describe('run limits', () => {
	it('refuses N × maxTokens past the cap before anything is asked, naming both settings', async () => {
		assert.equal(runLimitError(settings({ candidates: 16, maxTokens: 4096 }), 10), undefined, '16 × 4096 is allowed');
		const g = scriptedGenerator(['a', 'b']);
		const over = settings({ candidates: 16, maxTokens: 8192 });
		const { state, error } = await new BestOfNRun({ runId: 1, task, settings: over, generator: g.gen, seed: 100 }).start();
		assert.equal(state.phase, 'failed');
		assert.equal(g.seen.length, 0, 'nothing was asked of the server');
		assert.equal(error?.setting, 'candidates');
		assert.equal(
			state.notice?.text,
			'One run would ask for 131,072 tokens (bestOfN.candidates 16 × bestOfN.maxTokens 8,192), more than the 65,536 a run may ask for. Lower bestOfN.candidates or bestOfN.maxTokens.',
		);
	});

	it('refuses a selection past the cap, saying its size and that nothing was sent', async () => {
		const big = rewriteTask({ instruction: 'improve', text: 'x'.repeat(RUN_LIMITS.selectionCharacters + 1), languageId: 'plaintext' });
		const fits = rewriteTask({ instruction: 'improve', text: 'x'.repeat(RUN_LIMITS.selectionCharacters), languageId: 'plaintext' });
		const g = scriptedGenerator(['a', 'b', 'c', 'd']);
		assert.equal(runLimitError(settings(), fits.source.length), undefined);
		const { state, error } = await new BestOfNRun({ runId: 1, task: big, settings: settings(), generator: g.gen, seed: 100 }).start();
		assert.equal(state.phase, 'failed');
		assert.equal(error?.kind, 'bad-input');
		assert.equal(g.seen.length, 0);
		assert.match(
			state.notice!.text,
			/^The selection has 262,145 characters, more than the 262,144 one run may send .*nothing was sent\.$/,
		);
	});

	it('stops the candidate whose text passes what N × maxTokens can hold; the others stay whole', async () => {
		// A server that ignores the token limit: candidate 2 streams on and on.
		let open = 0;
		const endless: CandidateGenerator = {
			async generate(request, signal, onDelta) {
				open++;
				try {
					if (request.options.seed !== 101) {
						onDelta('short answer');
						return { text: `short answer ${request.options.seed}` };
					}
					while (!signal.aborted) {
						onDelta('blah '.repeat(100));
						await new Promise(r => setImmediate(r));
					}
					throw cancelledError();
				} finally {
					open--;
				}
			},
		};
		const s = settings({ candidates: 3, concurrency: 1, maxTokens: 64 });
		const { state, error } = await new BestOfNRun({ runId: 1, task, settings: s, generator: endless, seed: 100 }).start();
		assert.equal(error, undefined);
		assert.equal(state.phase, 'done');
		assert.equal(open, 0, 'its request was stopped');
		const byId = [...state.candidates].sort((a, b) => a.id - b.id);
		assert.deepEqual(
			byId.map(c => c.status),
			['done', 'failed', 'done'],
		);
		const stopped = at(byId, 1);
		assert.equal(stopped.text, '', 'its text is let go');
		assert.equal(
			stopped.error,
			`Stopped: the run's candidates reached ${(3 * 64 * RUN_LIMITS.charactersPerToken).toLocaleString('en-US')} characters, more than bestOfN.candidates 3 × bestOfN.maxTokens 64 tokens can hold, so the server is not keeping to the token limit. If the text is real, raise bestOfN.maxTokens.`,
		);
		assert.deepEqual([at(byId, 0).text, at(byId, 2).text], ['short answer 100', 'short answer 102']);
	});
});

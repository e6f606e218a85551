import * as assert from 'node:assert/strict';
import type { CandidateView, PickerState } from '../../src/core/protocol';
import { Disposable } from '../../src/vscode/dispose';
import { buildPickerHtml, pickerPlaceholder } from '../../src/vscode/pickerHtml';
import { pickerNews, SnapshotSender, type Timers } from '../../src/vscode/snapshotSender';
import { DiffCache } from '../../src/webview/diffCache';
import { keyAction, type KeyPress } from '../../src/webview/keyboard';
import { restorePersisted } from '../../src/webview/persisted';
import { scoreMeaning, tiedIds, tieTitle } from '../../src/webview/score';
import {
	acceptBlockedHint,
	announceCandidate,
	builtinLine,
	canAccept,
	detailPlaceholder,
	diffRows,
	diffStats,
	formatElapsed,
	formatProgress,
	formatScore,
	formatStats,
	moveSelection,
	pendingScoreNote,
	previewLine,
	rankerLine,
	reconcileSelection,
	rowPreview,
	runningElapsed,
	runProgress,
	statusLabel,
	type Selection,
} from '../../src/webview/view';

const original = `function total(items) {
  let sum = 0;
  for (let i = 0; i < items.length; i++) {
    sum += items[i].price;
  }
  return sum;
}
`;

const rewrite = `function total(items: Item[]): number {
  return items.reduce((sum, item) => sum + item.price, 0);
}`;

function cand(id: number, over: Partial<CandidateView> = {}): CandidateView {
	return { id, status: 'done', text: `text ${id}`, count: 1, ...over };
}

function snapshot(candidates: CandidateView[], over: Partial<PickerState> = {}): PickerState {
	return {
		runId: 1,
		runKey: 'run-1',
		phase: 'generating',
		task: {
			kind: 'rewrite',
			title: 'Use reduce',
			diffable: true,
			acceptLabel: 'Accept',
			acceptHint: 'Replace the selection with this candidate (Enter)',
			detail: 'code',
		},
		original,
		languageId: 'typescript',
		model: 'qwen2.5-coder:7b',
		host: 'http://localhost:11434',
		requested: 4,
		ranker: { kind: 'reward', label: 'OpenAssistant/reward-model-deberta-v3-large-v2', reason: 'reward model loaded' },
		candidates,
		startedAt: 0,
		...over,
	};
}

describe('picker view', () => {
	describe('formatting', () => {
		it('signs reward scores and leaves consensus similarities bare', () => {
			assert.equal(formatScore(1.234, 'reward'), '+1.23');
			assert.equal(formatScore(-0.42, 'reward'), '\u22120.42');
			assert.equal(formatScore(0.001, 'reward'), '0.00');
			assert.equal(formatScore(0.8712, 'consensus'), '0.87');
			assert.equal(formatScore(undefined, 'reward'), '');
			assert.equal(formatScore(Number.NaN, 'reward'), '');
			assert.equal(formatScore(1.25, 'reward', 1), '+1.3');
		});
		it('formats elapsed time in seconds, then minutes', () => {
			assert.equal(formatElapsed(12_345), '12.3 s');
			assert.equal(formatElapsed(0), '0.0 s');
			assert.equal(formatElapsed(-5), '0.0 s');
			assert.equal(formatElapsed(59_990), '1 m 00 s');
			assert.equal(formatElapsed(125_000), '2 m 05 s');
		});
		it('shows a running time in whole seconds, and says when that text next changes', () => {
			assert.deepEqual(runningElapsed(12_345), { text: '12 s', changesInMs: 655, redrawInMs: 905 });
			assert.deepEqual(runningElapsed(0), { text: '0 s', changesInMs: 1000, redrawInMs: 1250 });
			assert.deepEqual(runningElapsed(-5), { text: '0 s', changesInMs: 1000, redrawInMs: 1250 });
			assert.deepEqual(runningElapsed(Number.NaN), { text: '0 s', changesInMs: 1000, redrawInMs: 1250 });
			// Never rounded up: the clock shows a second only once it has passed.
			assert.deepEqual(runningElapsed(59_990), { text: '59 s', changesInMs: 10, redrawInMs: 260 });
			assert.deepEqual(runningElapsed(60_000), { text: '1 m 00 s', changesInMs: 1000, redrawInMs: 1250 });
			assert.deepEqual(runningElapsed(125_500), { text: '2 m 05 s', changesInMs: 500, redrawInMs: 750 });
			// At each change the text is new: ticking at changesInMs shows every second once.
			let at = 700;
			const shown: string[] = [];
			for (let i = 0; i < 4; i++) {
				const r = runningElapsed(at);
				shown.push(r.text);
				at += r.changesInMs;
			}
			assert.deepEqual(shown, ['0 s', '1 s', '2 s', '3 s']);
		});
		it('redraws the running time on its own a quarter second after it changes, so the snapshots streaming meanwhile draw it', () => {
			// Nothing streaming: redrawn only at its own timer, every second shown once, each at most 250 ms late.
			let at = 700;
			const shown: string[] = [];
			for (let i = 0; i < 4; i++) {
				const r = runningElapsed(at);
				shown.push(`${r.text} at ${at}`);
				at += r.redrawInMs;
			}
			assert.deepEqual(shown, ['0 s at 700', '1 s at 1250', '2 s at 2250', '3 s at 3250']);
			// Snapshots drawn every 100 ms: each draw shows the text of its time, and the timer never comes due.
			const timerAt = 900 + runningElapsed(900).redrawInMs;
			const drawnBefore = [1000, 1100].map(t => `${runningElapsed(t).text} at ${t}`);
			assert.deepEqual(drawnBefore, ['1 s at 1000', '1 s at 1100']);
			assert.ok(timerAt > 1100, 'the second changed at 1000; the next snapshot at 1100 drew it before the timer');
		});
		it('counts progress over generations, duplicates included', () => {
			const s = snapshot([cand(0, { count: 2 }), cand(1), cand(2, { status: 'failed', error: 'timeout' })], { requested: 4 });
			assert.equal(formatProgress(s), '3 of 4 done · 1 failed');
			const running = snapshot([cand(0), cand(1, { status: 'streaming' }), cand(2, { status: 'queued' })], { requested: 3 });
			assert.equal(formatProgress(running), '1 of 3 done');
		});
		it("fills the run's bar as generations stream and end, then as their scores come in", () => {
			const at = (candidates: CandidateView[], over: Partial<PickerState> = {}) => runProgress(snapshot(candidates, over));
			assert.equal(at([]), 0);
			const queued = [0, 1, 2, 3].map(id => cand(id, { status: 'queued', text: '' }));
			assert.equal(at(queued), 0);
			const streaming = [0, 1, 2, 3].map(id => cand(id, { status: 'streaming' }));
			assert.equal(at(streaming), 0.25, 'each streaming generation is half generated, none scored');
			const generated = [0, 1, 2, 3].map(id => cand(id));
			assert.equal(at(generated), 0.5);
			const oneScored = [cand(0, { score: 1.2 }), cand(1), cand(2), cand(3)];
			assert.equal(at(oneScored), 0.625, "the first score moves the bar, as the candidate's number shows");
			const ended = [
				cand(0, { score: 1 }),
				cand(1, { scoreError: 'too long' }),
				cand(2, { status: 'failed', error: 'x' }),
				cand(3, { count: 1, score: 0 }),
			];
			assert.equal(at(ended), 1, 'a failure or a score error leaves nothing to wait for');
			// Unranked runs fill with generation alone; a collapsed duplicate stands for its count.
			assert.equal(
				at([cand(0, { count: 2 }), cand(1, { status: 'streaming' })], { ranker: { kind: 'none', label: '', reason: '' } }),
				0.625,
			);
		});
		it('says the built-in model is in use, how fast it went here, and how to do better', () => {
			const line = builtinLine({ tokensPerSecond: 12.345 });
			assert.equal(line.speed, 'Built-in model · 12.3 tokens/s on this machine');
			assert.match(line.hint, /model server \(bestOfN\.backend\).*bigger model \(bestOfN\.builtin\.model\)/);
			assert.equal(builtinLine({}).speed, 'Built-in model · speed measured after its first run');
		});
		it('labels statuses, including a cut candidate', () => {
			assert.equal(statusLabel(cand(0, { doneReason: 'length' })), 'cut at token limit');
			assert.equal(statusLabel(cand(0, { doneReason: 'stop' })), '');
			assert.equal(statusLabel(cand(0, { status: 'failed', error: 'model not found' })), 'failed: model not found');
			assert.equal(statusLabel(cand(0, { status: 'streaming' })), 'streaming');
		});
		it('says a held score waits for generation to end, and nothing once it came or the run ended', () => {
			const held = cand(0, { scoreHeld: true });
			assert.match(pendingScoreNote(held, 'generating') ?? '', /^Scored when generation ends: .*slowed the model server/);
			assert.equal(pendingScoreNote(cand(0), 'generating'), undefined);
			assert.equal(pendingScoreNote({ ...held, score: 1.5 }, 'generating'), undefined);
			assert.equal(pendingScoreNote(held, 'cancelled'), undefined);
		});
		it('says what actually ranked the run, not what was configured', () => {
			const reward = { kind: 'reward', label: 'OpenAssistant/rm', reason: 'OpenAssistant/rm, pairs up to 512 tokens' } as const;
			const ranked = [cand(0, { score: 1.2, rank: 1 }), cand(1, { score: -0.3, rank: 2 })];
			assert.deepEqual(rankerLine(snapshot(ranked, { phase: 'done', ranker: reward })), {
				text: 'Ranked by reward model OpenAssistant/rm',
				title: 'OpenAssistant/rm, pairs up to 512 tokens',
			});
			assert.equal(
				rankerLine(snapshot([cand(0, { status: 'streaming' })], { ranker: reward })).text,
				'Ranking by reward model OpenAssistant/rm',
			);
			// The server was unreachable: nothing was generated, so nothing was ranked, whatever the setting says.
			const unreachable = 'Could not reach Ollama at http://127.0.0.1:9. Start it with `ollama serve`.';
			const failed = snapshot([cand(0, { status: 'failed', error: unreachable }), cand(1, { status: 'cancelled' })], {
				phase: 'failed',
				ranker: reward,
				notice: { severity: 'error', text: unreachable },
			});
			assert.equal(rankerLine(failed).text, 'Not ranked');
			const consensus = {
				kind: 'consensus',
				label: 'consensus',
				reason: 'no reward model configured (bestOfN.rewardModel)',
			} as const;
			assert.equal(
				rankerLine(snapshot(ranked, { phase: 'done', ranker: consensus })).text,
				'Ranked by consensus — no reward model configured (bestOfN.rewardModel)',
			);
			// When the notice tells why, the header does not say it again (it stays in the tooltip).
			const fallback = { kind: 'consensus', label: 'consensus', reason: 'reward model unavailable, no ONNX weights' } as const;
			const warned = snapshot(ranked, {
				phase: 'done',
				ranker: fallback,
				notice: { severity: 'warning', text: 'Ranked by consensus: no ONNX weights' },
			});
			assert.deepEqual(rankerLine(warned), { text: 'Ranked by consensus', title: 'reward model unavailable, no ONNX weights' });
			const none = { kind: 'none', label: 'unranked', reason: 'cancelled before the reward model loaded' } as const;
			assert.equal(
				rankerLine(snapshot([cand(0)], { phase: 'cancelled', ranker: none })).text,
				'Not ranked — cancelled before the reward model loaded',
			);
		});
		it('explains the score column for each ranker', () => {
			assert.match(
				scoreMeaning({ kind: 'reward', label: 'OpenAssistant/rm', reason: '' }),
				/^Reward model OpenAssistant\/rm: its raw logit .* Higher is better/,
			);
			assert.match(
				scoreMeaning({ kind: 'consensus', label: 'consensus', reason: '' }),
				/^Consensus: mean similarity to the other candidates, from 0 .* to 1 /,
			);
		});
		it('finds ties at the precision shown, and only there', () => {
			const scored = [
				cand(0, { score: 0.871 }),
				cand(1, { score: 0.8749 }),
				cand(2, { score: 0.866 }),
				cand(3, { score: 0.5 }),
				cand(4),
			];
			assert.deepEqual([...tiedIds(scored, 'consensus')].sort(), [0, 1, 2]);
			assert.deepEqual(
				[...tiedIds([cand(0, { score: 0.004 }), cand(1, { score: -0.004 })], 'reward')].sort(),
				[0, 1],
				'+0.00 and −0.00 read alike',
			);
			assert.deepEqual([...tiedIds([cand(0, { score: 1.25 }), cand(1, { score: 1.24 })], 'reward')], []);
			assert.deepEqual([...tiedIds([cand(0), cand(1)], 'none')], [], 'no scores, no ties');
			assert.equal(
				tieTitle('0.87', [1, 2]),
				'Tie: rows 1 and 2 both score 0.87 as shown, so their order is not a ranking (the first to finish leads).',
			);
			assert.match(tieTitle('0.87', [1, 2, 3]), /^Tie: rows 1, 2 and 3 all score 0\.87/);
		});
		it('tells a run-level failure once: in the notice, not again on the row and in the detail pane', () => {
			const why = 'Could not reach Ollama at http://127.0.0.1:9.';
			const failedRow = cand(0, { status: 'failed', error: why, text: '' });
			const s = snapshot([failedRow], { phase: 'failed', notice: { severity: 'error', text: why } });
			assert.deepEqual(rowPreview(failedRow, s), { text: '', error: true });
			assert.equal(detailPlaceholder(failedRow, s), 'This candidate failed: the message above says why.');
			// A failure of one candidate alone (no notice about it) is told on its row.
			const alone = snapshot([failedRow, cand(1)], { phase: 'done' });
			assert.deepEqual(rowPreview(failedRow, alone), { text: why, error: true });
			assert.equal(detailPlaceholder(failedRow, alone), `Failed: ${why}`);
		});
		it('lets only finished candidates be accepted, scored or not', () => {
			assert.equal(canAccept(cand(0)), true);
			assert.equal(canAccept(cand(0, { scoreError: 'scorer crashed' })), true);
			for (const status of ['queued', 'streaming', 'failed', 'cancelled'] as const) {
				assert.equal(canAccept(cand(0, { status })), false, status);
			}
			const s = snapshot([cand(0), cand(1, { status: 'streaming' })]);
			assert.equal(acceptBlockedHint(s, 1), "Candidate 2 is still streaming and can't be accepted yet.");
		});
		it('announces position and score briefly', () => {
			const s = snapshot([cand(3, { score: 1.23, rank: 1 }), cand(1, { score: -0.4, rank: 2 }), cand(0), cand(2)]);
			assert.equal(announceCandidate(s, 3), 'Candidate 1 of 4, score +1.2');
			assert.equal(announceCandidate(snapshot([cand(0, { status: 'streaming' })]), 0), 'Candidate 1 of 1, streaming');
		});
	});

	describe('line diff', () => {
		it('shows a realistic rewrite as removed and added lines around the unchanged end', () => {
			const rows = diffRows(original, rewrite);
			assert.deepEqual(rows, [
				{ kind: 'del', text: 'function total(items) {' },
				{ kind: 'del', text: '  let sum = 0;' },
				{ kind: 'del', text: '  for (let i = 0; i < items.length; i++) {' },
				{ kind: 'del', text: '    sum += items[i].price;' },
				{ kind: 'del', text: '  }' },
				{ kind: 'del', text: '  return sum;' },
				{ kind: 'add', text: 'function total(items: Item[]): number {' },
				{ kind: 'add', text: '  return items.reduce((sum, item) => sum + item.price, 0);' },
				{ kind: 'same', text: '}' },
			]);
			assert.deepEqual(diffStats(rows), { added: 2, removed: 6 });
			assert.equal(formatStats(diffStats(rows)), '+2 \u22126');
		});
		it('ignores a missing final newline and CRLF line ends', () => {
			const rows = diffRows('a\nb\n', 'a\r\nb');
			assert.deepEqual(rows, [
				{ kind: 'same', text: 'a' },
				{ kind: 'same', text: 'b' },
			]);
			assert.equal(formatStats(diffStats(rows)), 'no changes');
		});
		it('previews the first added line of a finished candidate', () => {
			const c = cand(0, { text: rewrite });
			assert.equal(previewLine(c, diffRows(original, rewrite)), 'function total(items: Item[]): number {');
			assert.equal(previewLine(cand(1, { status: 'streaming', text: 'function total(\n  items' })), 'items');
		});
		it('previews the first changed line that says something, not a brace, a comment opener or a directive', () => {
			const selection =
				"'use strict';\nfunction total(items) {\n  let sum = 0;\n  for (const i of items) sum += i.price;\n  return sum;\n}\n";
			const preview = (text: string) => previewLine(cand(0, { text }), diffRows(selection, text));
			// A doc comment added above: `/**` is the first changed line, the comment's words come next.
			const documented = `'use strict';\n/**\n * Sums the prices.\n */\nfunction total(items) {\n  return items.reduce((s, i) => s + i.price, 0);\n}`;
			assert.equal(preview(documented), 'return items.reduce((s, i) => s + i.price, 0);');
			// Only a comment added: its words, not its opener.
			assert.equal(preview(`/**\n * Sums the prices.\n */\n${selection}`), '* Sums the prices.');
			// A reply whose every line changed (CRLF? re-indented) still skips the directive and the braces.
			const reindented = "\t'use strict';\n\t{\n\tfunction total(items) {\n\t}";
			assert.equal(preview(reindented), 'function total(items) {');
			// Only lines removed: nothing was added, so the candidate's first meaningful line.
			assert.equal(preview("'use strict';\nfunction total(items) {\n  return sum;\n}\n"), 'function total(items) {');
			assert.equal(preview('}'), '}', 'a candidate of only a brace still shows it');
		});
	});

	describe('active candidate', () => {
		const none: Selection = { pinned: false };

		it('follows the best candidate until the user picks one', () => {
			// Before ranking: the first finished candidate, in request order.
			let sel = reconcileSelection(none, snapshot([cand(0, { status: 'streaming' }), cand(1), cand(2)]));
			assert.equal(sel.activeId, 1);
			// Ranking reorders and the unpinned selection lands on rank 1.
			const ranked = snapshot([cand(2, { rank: 1, score: 2.3 }), cand(1, { rank: 2, score: 0.1 }), cand(0, { rank: 3, score: -1 })], {
				phase: 'done',
			});
			sel = reconcileSelection(sel, ranked);
			assert.equal(sel.activeId, 2);
		});
		it('keeps the user’s choice by id while it exists, falls back to the best when it goes', () => {
			const s1 = snapshot([cand(0), cand(1), cand(2)]);
			let sel = moveSelection(reconcileSelection(none, s1), s1, 'next');
			assert.deepEqual(sel, { runId: 1, activeId: 1, pinned: true });
			const s2 = snapshot([cand(2, { rank: 1 }), cand(1, { rank: 2 }), cand(0, { rank: 3 })]);
			sel = reconcileSelection(sel, s2);
			assert.equal(sel.activeId, 1);
			// Candidate 1 turned out to duplicate 2 and was collapsed into it.
			const s3 = snapshot([cand(2, { rank: 1, count: 2 }), cand(0, { rank: 2 })]);
			sel = reconcileSelection(sel, s3);
			assert.deepEqual(sel, { runId: 1, activeId: 2, pinned: false });
		});
		it('starts over on a new run', () => {
			const s1 = snapshot([cand(0), cand(1)]);
			const pinned = moveSelection(reconcileSelection(none, s1), s1, 'last');
			const s2 = snapshot([cand(0, { rank: 2 }), cand(1, { rank: 1 })], { runId: 2 });
			assert.deepEqual(reconcileSelection(pinned, s2), { runId: 2, activeId: 1, pinned: false });
		});
		it('wraps arrow moves like a quick pick', () => {
			const s = snapshot([cand(5), cand(6), cand(7)]);
			const first: Selection = { runId: 1, activeId: 5, pinned: false };
			assert.equal(moveSelection(first, s, 'previous').activeId, 7);
			assert.equal(moveSelection({ ...first, activeId: 7 }, s, 'next').activeId, 5);
			assert.equal(moveSelection(first, s, 'last').activeId, 7);
			assert.equal(moveSelection({ ...first, activeId: 7 }, s, 'first').activeId, 5);
		});
	});
});

describe('picker key map', () => {
	const press = (key: string, over: Partial<KeyPress> = {}, onButton = false) =>
		keyAction({ key, ctrlKey: false, metaKey: false, altKey: false, isComposing: false, defaultPrevented: false, ...over }, onButton);

	it('moves with arrows and j/k, jumps with Home/End, pages the detail pane', () => {
		assert.deepEqual(press('ArrowDown'), { kind: 'move', move: 'next' });
		assert.deepEqual(press('j'), { kind: 'move', move: 'next' });
		assert.deepEqual(press('ArrowUp'), { kind: 'move', move: 'previous' });
		assert.deepEqual(press('k'), { kind: 'move', move: 'previous' });
		assert.deepEqual(press('Home'), { kind: 'move', move: 'first' });
		assert.deepEqual(press('End'), { kind: 'move', move: 'last' });
		assert.deepEqual(press('PageDown'), { kind: 'page', direction: 1 });
		assert.deepEqual(press('PageUp'), { kind: 'page', direction: -1 });
	});
	it('maps the legend’s letters, Enter and Esc', () => {
		assert.deepEqual(press('Enter'), { kind: 'accept' });
		assert.deepEqual(press('Escape'), { kind: 'escape' });
		assert.deepEqual(press('v'), { kind: 'toggleView' });
		assert.deepEqual(press('w'), { kind: 'toggleWrap' });
		assert.deepEqual(press('d'), { kind: 'openDiff' });
		assert.deepEqual(press('c'), { kind: 'copy' });
		assert.deepEqual(press('r'), { kind: 'regenerate' });
		// as the legend shows them: Shift or Caps Lock gives capitals
		assert.deepEqual(press('V'), { kind: 'toggleView' });
		assert.deepEqual(press('D'), { kind: 'openDiff' });
	});
	it('moves to rows 1 to 9 by digit, without applying', () => {
		assert.deepEqual(press('1'), { kind: 'moveTo', index: 0 });
		assert.deepEqual(press('9'), { kind: 'moveTo', index: 8 });
		assert.equal(press('0'), undefined);
		assert.equal(press('F1'), undefined);
	});
	it('applies only on Enter: no other key a person might type accepts a candidate', () => {
		const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
		const named = ['Tab', 'Backspace', 'Delete', 'Insert', 'ArrowLeft', 'ArrowRight', 'F2', 'ContextMenu', 'Space', 'NumpadEnter'];
		for (const key of [...printable, ...named, 'é', 'ß', '€']) {
			for (const shiftLike of [key, key.toUpperCase()]) {
				const action = press(shiftLike);
				assert.notEqual(action?.kind, 'accept', `${JSON.stringify(shiftLike)} accepts`);
			}
		}
		assert.deepEqual(press('Enter'), { kind: 'accept' });
	});
	it('leaves other keys, chords, composition and handled keys to someone else', () => {
		for (const key of ['x', 'X', ' ', 'Tab', 'constructor', 'toString']) assert.equal(press(key), undefined, key);
		for (const over of [{ ctrlKey: true }, { metaKey: true }, { altKey: true }, { isComposing: true }, { defaultPrevented: true }]) {
			assert.equal(press('Enter', over), undefined, JSON.stringify(over));
			assert.equal(press('1', over), undefined, JSON.stringify(over));
		}
	});
	it('lets a focused button keep Enter and Space, but not the other keys', () => {
		assert.equal(press('Enter', {}, true), undefined);
		assert.equal(press(' ', {}, true), undefined);
		assert.deepEqual(press('ArrowDown', {}, true), { kind: 'move', move: 'next' });
		assert.deepEqual(press('Escape', {}, true), { kind: 'escape' });
	});
});

describe('picker diff cache', () => {
	it('returns the same rows until the candidate’s text or the original changes', () => {
		const cache = new DiffCache();
		const first = cache.of(cand(0, { text: rewrite }), original);
		assert.deepEqual(first, diffRows(original, rewrite));
		assert.equal(cache.of(cand(0, { text: rewrite, rank: 1 }), original), first, 'same text: same array');
		const grown = cache.of(cand(0, { text: `${rewrite}\n// done` }), original);
		assert.notEqual(grown, first);
		assert.notEqual(cache.of(cand(0, { text: `${rewrite}\n// done` }), 'other'), grown);
	});
	it('forgets a candidate on delete and everything on clear', () => {
		const cache = new DiffCache();
		const a = cache.of(cand(0), original);
		const b = cache.of(cand(1), original);
		cache.delete(0);
		assert.notEqual(cache.of(cand(0), original), a);
		assert.equal(cache.of(cand(1), original), b);
		cache.clear();
		assert.notEqual(cache.of(cand(1), original), b);
	});
});

describe('picker persisted state', () => {
	it('starts unpinned in the text view, wrapping, when nothing (or garbage) was stored', () => {
		const fresh = {
			v: 1,
			selection: { runId: undefined, activeId: undefined, pinned: false },
			mode: 'text',
			wrap: true,
			announcedRunId: undefined,
		};
		for (const stored of [undefined, null, 42, 'diff', [], {}, { selection: 'x', mode: 'Diff' }]) {
			assert.deepEqual(restorePersisted(stored), fresh, JSON.stringify(stored));
		}
	});
	it('keeps what it wrote, and only finite numbers and a literal true', () => {
		const kept = { v: 1, selection: { runId: 3, activeId: 2, pinned: true }, mode: 'diff', wrap: false, announcedRunId: 3 };
		assert.deepEqual(restorePersisted(kept), kept);
		assert.deepEqual(restorePersisted({ selection: { runId: Number.NaN, activeId: '2', pinned: 'yes' }, announcedRunId: Infinity }), {
			v: 1,
			selection: { runId: undefined, activeId: undefined, pinned: false },
			mode: 'text',
			wrap: true,
			announcedRunId: undefined,
		});
	});
});

describe('picker html', () => {
	const nonce = 'q1w2e3r4t5y6u7i8o9p0aa==';
	const html = buildPickerHtml({
		cspSource: 'https://abc.vscode-cdn.net',
		nonce,
		scriptUri: 'https://abc.vscode-cdn.net/ext/dist/picker.js',
		styleUri: 'https://abc.vscode-cdn.net/ext/media/picker.css',
		title: 'Rewrite <selection>',
	});
	const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1]?.replace(/&#39;/g, "'");

	it('has a strict CSP', () => {
		assert.ok(csp, 'CSP meta tag');
		const directives = csp.split(';').map(d => d.trim());
		assert.ok(directives.includes("default-src 'none'"));
		assert.ok(directives.includes(`script-src 'nonce-${nonce}'`));
		assert.ok(directives.includes('style-src https://abc.vscode-cdn.net'));
		assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
		assert.doesNotMatch(csp, /connect-src/);
	});
	it('loads only the nonce’d script and no inline script or style', () => {
		const scripts = html.match(/<script\b[^>]*>/g) ?? [];
		assert.equal(scripts.length, 1);
		assert.ok(scripts[0].includes(`nonce="${nonce}"`));
		assert.ok(scripts[0].includes('src="https://abc.vscode-cdn.net/ext/dist/picker.js"'));
		assert.match(html, /<script\b[^>]*><\/script>/, 'the script tag has no inline body');
		assert.doesNotMatch(html, /<style\b/);
		assert.doesNotMatch(html, /\sstyle=/);
		assert.doesNotMatch(html, /\son[a-z]+=/i);
		assert.ok(html.includes('Rewrite &lt;selection&gt;'));
	});
	it('refuses a nonce or source that could break out of the policy', () => {
		const base = { cspSource: 'https://x', scriptUri: 's', styleUri: 'c' };
		assert.throws(() => buildPickerHtml({ ...base, nonce: "x' 'unsafe-inline" }));
		assert.throws(() => buildPickerHtml({ ...base, nonce, cspSource: "https://x; script-src 'unsafe-inline'" }));
	});
	it('writes the first state as an inert JSON block that hostile text cannot end', () => {
		const hostile = 'a</script><script>window.pwned = 1</script><!-- <script> </SCRIPT > & \u2028 \u2029 end';
		const state = snapshot([cand(0, { text: hostile })], {
			original: `<!--${hostile}`,
			task: { ...snapshot([]).task, title: hostile },
		});
		const page = buildPickerHtml({
			cspSource: 'https://x',
			nonce,
			scriptUri: 'https://x/picker.js',
			styleUri: 'https://x/picker.css',
			state,
		});
		const tags = page.match(/<script\b[^>]*>/gi) ?? [];
		assert.deepEqual(tags, [
			'<script type="application/json" id="bestofn-state">',
			`<script nonce="${nonce}" src="https://x/picker.js">`,
		]);
		const block = /<script type="application\/json" id="bestofn-state">([^]*?)<\/script/i.exec(page)?.[1] ?? '';
		assert.doesNotMatch(block, /[<>&\u2028\u2029]/);
		assert.deepEqual(JSON.parse(block), state, 'the block ends where the host ended it and reads back as the same state');
		assert.equal(page.split(/<\/script/i).length, 3, 'two closing tags: the block and the bundle');
		assert.match(csp ?? '', /script-src 'nonce-/);
	});
});

describe('picker html: the static first paint', () => {
	const nonce = 'q1w2e3r4t5y6u7i8o9p0aa==';
	const hostile = 'a</script><script>window.pwned = 1</script><!-- <img src=x onerror=alert(1)> & "q" \'s\'';
	const state = snapshot([cand(0, { text: `model ${hostile}` }), cand(1, { status: 'queued', text: '' })], {
		requested: 3,
		task: { ...snapshot([]).task, title: `Rewrite ${hostile}` },
	});
	const page = buildPickerHtml({
		cspSource: 'https://abc.vscode-cdn.net',
		nonce,
		scriptUri: 'https://abc.vscode-cdn.net/ext/dist/picker.js',
		styleUri: 'https://abc.vscode-cdn.net/ext/media/picker.css',
		state,
		placeholder: pickerPlaceholder(state),
	});
	/** What the page shows before any script: the markup inside #app, as the HTML carries it. */
	const app = /<div id="app">([^]*?)<\/div>\n(?:<script|$)/.exec(page)?.[1] ?? '';

	it('shows the run, what it is doing and a row per candidate to come, as a busy status, before any script', () => {
		assert.match(app, /^<div class="boot" role="status" aria-busy="true">/);
		assert.ok(app.includes('>Generating 3 candidates…<'), app);
		assert.equal(app.match(/class="boot-row"/g)?.length, 3);
		assert.match(app, /<div class="boot-rows" aria-hidden="true">/, 'the empty rows are not read out');
		// Before the data block and the bundle, so it is parsed (and can be drawn) before the script loads.
		assert.ok(page.indexOf('class="boot"') < page.indexOf('<script'));
	});

	it("escapes the person's heading, and carries no model text", () => {
		assert.ok(
			app.includes(
				'Rewrite a&lt;/script&gt;&lt;script&gt;window.pwned = 1&lt;/script&gt;&lt;!-- &lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot; &#39;s&#39;',
			),
			app,
		);
		assert.doesNotMatch(app, /<(?!\/?(?:div|p)\b)/, 'no element but its own divs and paragraphs');
		assert.doesNotMatch(app, /model a/, "no candidate's text");
	});

	it('keeps the strict CSP with it: no inline style or script, nothing but the nonce’d bundle runs', () => {
		assert.match(app, /class="boot-status"/, 'the page carries the static first paint');
		const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(page)?.[1]?.replace(/&#39;/g, "'") ?? '';
		assert.equal(
			csp,
			`default-src 'none'; style-src https://abc.vscode-cdn.net; script-src 'nonce-${nonce}'; img-src https://abc.vscode-cdn.net; font-src https://abc.vscode-cdn.net`,
		);
		// Tags only: the escaped heading may say "onerror=" as text.
		for (const tag of page.match(/<[a-z][^>]*>/gi) ?? []) assert.doesNotMatch(tag, /^<style\b|\sstyle=|\son[a-z]+=/i, tag);
		assert.deepEqual(page.match(/<script\b[^>]*>/gi), [
			'<script type="application/json" id="bestofn-state">',
			`<script nonce="${nonce}" src="https://abc.vscode-cdn.net/ext/dist/picker.js">`,
		]);
	});

	it('says one candidate, caps the rows a huge N draws, and says only "Loading…" past generating', () => {
		assert.equal(pickerPlaceholder(snapshot([], { requested: 1 })).status, 'Generating 1 candidate…');
		const many = buildPickerHtml({
			cspSource: 'https://x',
			nonce,
			scriptUri: 's',
			styleUri: 'c',
			placeholder: pickerPlaceholder(snapshot([], { requested: 64 })),
		});
		assert.equal(many.match(/class="boot-row"/g)?.length, 12);
		assert.equal(pickerPlaceholder(snapshot([], { phase: 'scoring' })).status, 'Loading…');
		const none = buildPickerHtml({ cspSource: 'https://x', nonce, scriptUri: 's', styleUri: 'c' });
		assert.match(none, /<div id="app"><\/div>/, 'a page asked for no static part (the report) has none');
	});
});

describe('snapshot sender', () => {
	class FakeTimers implements Timers {
		time = 0;
		private queue: { at: number; fn: () => void; handle: number }[] = [];
		private next = 1;
		now(): number {
			return this.time;
		}
		setTimeout(fn: () => void, ms: number): unknown {
			const handle = this.next++;
			this.queue.push({ at: this.time + ms, fn, handle });
			return handle;
		}
		clearTimeout(handle: unknown): void {
			this.queue = this.queue.filter(t => t.handle !== handle);
		}
		advance(ms: number): void {
			this.time += ms;
			for (const t of this.queue.filter(t => t.at <= this.time)) {
				this.queue = this.queue.filter(q => q !== t);
				t.fn();
			}
		}
	}

	function setup() {
		const timers = new FakeTimers();
		const posted: number[] = [];
		const sender = new SnapshotSender<number>(v => posted.push(v), 100, timers);
		return { timers, posted, sender };
	}

	it('holds everything until ready, then posts the latest', () => {
		const { posted, sender } = setup();
		sender.update(1);
		sender.update(2);
		assert.deepEqual(posted, []);
		sender.ready();
		assert.deepEqual(posted, [2]);
	});
	it('posts at most every 100 ms and always ends on the newest snapshot', () => {
		const { timers, posted, sender } = setup();
		sender.ready();
		sender.update(1);
		timers.advance(10);
		sender.update(2);
		sender.update(3);
		assert.deepEqual(posted, [1]);
		timers.advance(89);
		assert.deepEqual(posted, [1]);
		timers.advance(1);
		assert.deepEqual(posted, [1, 3]);
		timers.advance(500);
		assert.deepEqual(posted, [1, 3]);
		sender.update(4);
		assert.deepEqual(posted, [1, 3, 4]);
	});
	it('re-posts the latest snapshot when a reloaded webview says ready again', () => {
		const { timers, posted, sender } = setup();
		sender.ready();
		sender.update(1);
		sender.notReady();
		sender.update(2);
		timers.advance(1000);
		assert.deepEqual(posted, [1]);
		sender.ready();
		assert.deepEqual(posted, [1, 2]);
		sender.notReady();
		sender.ready();
		assert.deepEqual(posted, [1, 2, 2]);
	});
	it('posts news at once, inside the interval, and paces the stream after it from there', () => {
		const { timers, posted, sender } = setup();
		sender.ready();
		sender.update(1);
		timers.advance(10);
		sender.update(2);
		sender.update(3, true);
		timers.advance(0);
		assert.deepEqual(posted, [1, 3], 'news does not wait out the interval');
		sender.update(4);
		timers.advance(99);
		assert.deepEqual(posted, [1, 3]);
		timers.advance(1);
		assert.deepEqual(posted, [1, 3, 4]);
	});
	it('posts news that comes in one turn of the event loop together, as the newest snapshot', () => {
		const { timers, posted, sender } = setup();
		sender.ready();
		sender.update(1);
		timers.advance(10);
		// The first words of three streams, read from their sockets in the same turn.
		sender.update(2, true);
		sender.update(3, true);
		sender.update(4, true);
		sender.update(5);
		assert.deepEqual(posted, [1], 'nothing posted before the turn ends');
		timers.advance(0);
		assert.deepEqual(posted, [1, 5], 'one post, with all of it');
		sender.update(6, true);
		timers.advance(0);
		assert.deepEqual(posted, [1, 5, 6], 'news in a later turn is posted at once again');
		sender.update(7, true);
		sender.notReady();
		timers.advance(1000);
		assert.deepEqual(posted, [1, 5, 6], 'a webview that went away gets nothing');
		sender.ready();
		assert.deepEqual(posted, [1, 5, 6, 7]);
	});
	it('holds news too until the webview is ready', () => {
		const { posted, sender } = setup();
		sender.update(1, true);
		assert.deepEqual(posted, []);
		sender.ready();
		assert.deepEqual(posted, [1]);
	});
	it("calls a candidate's first text, a status, a score and a phase news, and more text of a stream not", () => {
		const streaming = snapshot([cand(0, { status: 'streaming', text: '' }), cand(1, { status: 'streaming', text: 'a' })], {
			phase: 'generating',
		});
		const more = snapshot([cand(0, { status: 'streaming', text: '' }), cand(1, { status: 'streaming', text: 'a b' })], {
			phase: 'generating',
		});
		assert.equal(pickerNews(undefined, streaming), true);
		assert.equal(pickerNews(streaming, more), false);
		const firstText = snapshot([cand(0, { status: 'streaming', text: 'x' }), cand(1, { status: 'streaming', text: 'a b' })], {
			phase: 'generating',
		});
		assert.equal(pickerNews(more, firstText), true);
		const done = snapshot([cand(0, { status: 'done', text: 'x' }), cand(1, { status: 'streaming', text: 'a b' })], {
			phase: 'generating',
		});
		assert.equal(pickerNews(firstText, done), true);
		const scored = snapshot([cand(0, { status: 'done', text: 'x', score: 0.5 }), cand(1, { status: 'streaming', text: 'a b' })], {
			phase: 'generating',
		});
		assert.equal(pickerNews(done, scored), true);
		assert.equal(pickerNews(scored, { ...scored, phase: 'scoring' }), true);
		assert.equal(pickerNews(scored, { ...scored, runId: scored.runId + 1 }), true);
	});
	it("gathers a candidate's first text for the others' first texts, up to 16 ms, and posts them together", () => {
		const { timers, posted, sender } = setup();
		sender.ready();
		sender.update(1, true);
		timers.advance(0);
		assert.deepEqual(posted, [1]);
		timers.advance(200);
		sender.update(2, 'gather');
		timers.advance(0);
		assert.deepEqual(posted, [1], 'a first text waits for the others');
		timers.advance(5);
		sender.update(3, 'gather');
		sender.update(4);
		timers.advance(5);
		assert.deepEqual(posted, [1], 'a second first text does not push the post back, nor does more text');
		sender.update(5, true);
		timers.advance(0);
		assert.deepEqual(posted, [1, 5], 'the last first text (news that cannot wait) posts all of them at once');
		timers.advance(200);
		sender.update(6, 'gather');
		timers.advance(15);
		assert.deepEqual(posted, [1, 5]);
		timers.advance(1);
		assert.deepEqual(posted, [1, 5, 6], 'a first text whose company never comes waits 16 ms, no more');
		sender.update(7, true);
		sender.update(8, 'gather');
		timers.advance(0);
		assert.deepEqual(posted, [1, 5, 6, 8], 'news already due at once takes a first text with it');
	});
	it('shows the first texts of streams the host reads a few ms apart in one message', () => {
		const { timers, posted, sender } = setup();
		const streaming = [0, 1, 2, 3].map(id => cand(id, { status: 'streaming', text: '' }));
		let last: PickerState | undefined;
		const update = (state: PickerState) => {
			sender.update(JSON.stringify(state.candidates.map(c => c.text)) as unknown as number, pickerNews(last, state));
			last = state;
		};
		sender.ready();
		update(snapshot(streaming));
		timers.advance(300);
		// The server wrote the four first tokens together; the extension host read them 0, 3, 7 and 12 ms later.
		const texts = ['', '', '', ''];
		const reads: ReadonlyArray<readonly [id: number, after: number]> = [
			[2, 0],
			[0, 3],
			[3, 4],
			[1, 5],
		];
		for (const [id, after] of reads) {
			timers.advance(after);
			texts[id] = `words of ${id}`;
			update(snapshot(streaming.map(c => ({ ...c, text: texts[c.id] ?? '' }))));
		}
		timers.advance(0);
		assert.deepEqual(
			posted.slice(1).map(p => JSON.parse(String(p)) as string[]),
			[['words of 0', 'words of 1', 'words of 2', 'words of 3']],
			'one message, all four texts',
		);
	});
	it('calls a first text while other candidates stream without text "gather", the last one and one with a status news at once', () => {
		const waiting = snapshot([cand(0, { status: 'streaming', text: '' }), cand(1, { status: 'streaming', text: '' })]);
		const one = snapshot([cand(0, { status: 'streaming', text: 'x' }), cand(1, { status: 'streaming', text: '' })]);
		const both = snapshot([cand(0, { status: 'streaming', text: 'x' }), cand(1, { status: 'streaming', text: 'y' })]);
		assert.equal(pickerNews(waiting, one), 'gather');
		assert.equal(pickerNews(one, both), true);
		const oneDone = snapshot([cand(0, { status: 'done', text: 'x' }), cand(1, { status: 'streaming', text: '' })]);
		assert.equal(pickerNews(waiting, oneDone), true, 'a status does not wait');
		const queued = snapshot([cand(0, { status: 'streaming', text: 'x' }), cand(1, { status: 'queued', text: '' })]);
		assert.equal(
			pickerNews(snapshot([cand(0, { status: 'streaming', text: '' }), cand(1, { status: 'queued', text: '' })]), queued),
			true,
			'a queued candidate has no request open: nothing to wait for',
		);
	});
	it('does not post again the snapshot the page drew from its HTML, but anything newer', () => {
		const { timers, posted, sender } = setup();
		sender.update(1);
		sender.ready(1);
		timers.advance(1000);
		assert.deepEqual(posted, [], 'the page has it');
		sender.update(2);
		assert.deepEqual(posted, [2]);
		const late = setup();
		late.sender.update(1);
		late.sender.update(2);
		late.sender.ready(1);
		assert.deepEqual(late.posted, [2], 'newer than the page: posted at once');
		late.sender.notReady();
		late.sender.ready();
		assert.deepEqual(late.posted, [2, 2], 'a reloaded page gets the newest');
	});
	it('posts nothing after dispose', () => {
		const { timers, posted, sender } = setup();
		sender.ready();
		sender.update(1);
		sender.update(2);
		sender.dispose();
		timers.advance(1000);
		sender.ready();
		assert.deepEqual(posted, [1]);
	});
});

describe('Disposable', () => {
	class Owner extends Disposable {
		register(d: { dispose(): void }) {
			return this._register(d);
		}
	}
	it('disposes what it owns once, in reverse order, even past a failing child', () => {
		const order: string[] = [];
		const owner = new Owner();
		owner.register({ dispose: () => order.push('a') });
		owner.register({
			dispose: () => {
				order.push('b');
				throw new Error('boom');
			},
		});
		owner.register({ dispose: () => order.push('c') });
		assert.throws(() => owner.dispose(), /boom/);
		owner.dispose();
		assert.deepEqual(order, ['c', 'b', 'a']);
		let late = false;
		owner.register({ dispose: () => (late = true) });
		assert.equal(late, true);
	});
});

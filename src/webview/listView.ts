/**
 * The candidate list: a listbox that keeps focus while its active row is named by
 * `aria-activedescendant`. Rows are kept by candidate id across snapshots, so a streaming update
 * touches only text and a ranking only moves nodes.
 */
import type { CandidateView, PickerState } from '../core/protocol';
import type { DiffCache } from './diffCache';
import { el, setAttr, setText, show } from './dom';
import { formatScore, scoreMeaning, tiedIds, tieTitle } from './score';
import { canAccept, diffStats, formatStats, isRunning, pendingScoreNote, rowPreview, statusLabel } from './view';
import { showHidden } from '../core/hiddenText';

export interface ListActions {
	select(id: number): void;
	accept(id: number): void;
}

interface Row {
	readonly root: HTMLElement;
	/** The row's position, 1 first: what its digit key selects, ranked or not. */
	readonly number: HTMLElement;
	readonly score: HTMLElement;
	readonly tie: HTMLElement;
	readonly preview: HTMLElement;
	readonly count: HTMLElement;
	readonly status: HTMLElement;
	readonly stats: HTMLElement;
}

function rowElementId(id: number): string {
	return `candidate-${id}`;
}

export interface ListView {
	readonly root: HTMLElement;
	/** Shown instead of rows, beside the list rather than in it: a listbox holds only options. */
	readonly empty: HTMLElement;
	focus(): void;
	/** Scrolls the row into view, if it is there. */
	reveal(id: number): void;
	render(s: PickerState, activeId: number | undefined): void;
}

export function createListView(diffs: DiffCache, actions: ListActions): ListView {
	const root = el('div', 'list', { role: 'listbox', tabindex: '0', 'aria-label': 'Candidates' });
	const empty = el('div', 'list-empty');
	const rows = new Map<number, Row>();

	function createRow(id: number): Row {
		const row = el('div', 'row', { role: 'option', id: rowElementId(id), 'aria-selected': 'false' });
		const number = el('span', 'row-number', { 'aria-hidden': 'true' });
		const score = el('span', 'score');
		const preview = el('span', 'preview');
		const meta = el('span', 'row-meta');
		const tie = el('span', 'tie');
		tie.textContent = 'tie';
		const count = el('span', 'badge count');
		const status = el('span', 'status');
		const stats = el('span', 'stats');
		meta.append(tie, count, status, stats);
		row.append(number, score, preview, meta);
		row.addEventListener('click', () => actions.select(id));
		row.addEventListener('dblclick', () => actions.accept(id));
		return { root: row, number, score, tie, preview, count, status, stats };
	}

	/** Per snapshot: which rows share a shown score, and the words for it. */
	interface Ties {
		readonly ids: ReadonlySet<number>;
		title(id: number): string;
	}

	function ties(s: PickerState): Ties {
		const ids = tiedIds(s.candidates, s.ranker.kind);
		return {
			ids,
			title(id) {
				const shown = formatScore(s.candidates.find(c => c.id === id)?.score, s.ranker.kind);
				const positions = s.candidates.flatMap((c, i) =>
					ids.has(c.id) && formatScore(c.score, s.ranker.kind) === shown ? [i + 1] : [],
				);
				return tieTitle(shown, positions);
			},
		};
	}

	function renderRow(row: Row, c: CandidateView, position: number, s: PickerState, active: boolean, tied: Ties): void {
		row.root.className = `row status-${c.status}${active ? ' active' : ''}${canAccept(c) ? '' : ' unacceptable'}`;
		setAttr(row.root, 'aria-selected', String(active));
		setText(row.number, String(position + 1));
		const score = formatScore(c.score, s.ranker.kind);
		// A dash only once scoring is over (or failed); during the run a missing score is just pending.
		const unscored = c.status === 'done' && !score && s.ranker.kind !== 'none' && (!isRunning(s.phase) || !!c.scoreError);
		setText(row.score, score || (unscored ? '—' : ''));
		setAttr(
			row.score,
			'title',
			score
				? scoreMeaning(s.ranker)
				: unscored
					? c.scoreError
						? `Not scored: ${c.scoreError}`
						: 'Not scored yet'
					: pendingScoreNote(c, s.phase),
		);
		const isTied = tied.ids.has(c.id);
		show(row.tie, isTied);
		setAttr(row.tie, 'title', isTied ? tied.title(c.id) : undefined);
		const done = c.status === 'done';
		const diff = done && s.task.diffable ? diffs.of(c, s.original) : undefined;
		const preview = rowPreview(c, s, diff);
		setText(row.preview, showHidden(preview.text));
		row.preview.classList.toggle('error', preview.error);
		setText(row.count, c.count > 1 ? `×${c.count}` : '');
		setAttr(row.count, 'title', c.count > 1 ? `${c.count} candidates had exactly this text` : undefined);
		show(row.count, c.count > 1);
		const status = c.status === 'failed' ? 'failed' : statusLabel(c);
		setText(row.status, status);
		show(row.status, status !== '');
		setText(row.stats, diff ? formatStats(diffStats(diff)) : '');
		show(row.stats, diff !== undefined);
	}

	function render(s: PickerState, activeId: number | undefined): void {
		const seen = new Set<number>();
		const tied = ties(s);
		let cursor: ChildNode | null = root.firstChild;
		for (const [position, c] of s.candidates.entries()) {
			seen.add(c.id);
			let row = rows.get(c.id);
			if (!row) {
				row = createRow(c.id);
				rows.set(c.id, row);
			}
			renderRow(row, c, position, s, c.id === activeId, tied);
			// Move rows only when the order changed (ranking), so streaming updates touch text alone.
			if (row.root === cursor) cursor = cursor.nextSibling;
			else root.insertBefore(row.root, cursor);
		}
		for (const [id, row] of rows) {
			if (!seen.has(id)) {
				row.root.remove();
				rows.delete(id);
				diffs.delete(id);
			}
		}
		const activeRow = activeId === undefined ? undefined : rows.get(activeId);
		setAttr(root, 'aria-activedescendant', activeRow ? rowElementId(activeId!) : undefined);
		show(empty, s.candidates.length === 0);
		setText(empty, isRunning(s.phase) ? 'Waiting for the model…' : 'No candidates.');
	}

	return {
		root,
		empty,
		focus: () => root.focus(),
		reveal: id => rows.get(id)?.root.scrollIntoView({ block: 'nearest' }),
		render,
	};
}

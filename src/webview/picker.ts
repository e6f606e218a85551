/**
 * The picker webview (browser bundle). It speaks first (`ready`), then redraws from every `state`
 * snapshot; the only state of its own is which candidate is active and the detail view mode, kept
 * in `vscode.setState` so a hidden-and-reshown panel comes back where the user left it.
 *
 * Model output is untrusted text: it only ever reaches the page through text nodes.
 */
import type { CandidateView, HostToWebview, PickerState, WebviewToHost } from '../core/protocol';
import {
	acceptBlockedHint,
	announceCandidate,
	canAccept,
	diffRows,
	diffStats,
	formatElapsed,
	formatProgress,
	formatScore,
	formatStats,
	isRunning,
	lineCount,
	modelLine,
	moveSelection,
	phaseLabel,
	previewLine,
	rankerLine,
	reconcileSelection,
	statusLabel,
	type DiffRow,
	type Move,
	type Selection,
	type ViewMode,
} from './view';

interface VsCodeApi {
	postMessage(message: WebviewToHost): void;
	getState(): unknown;
	setState(state: Persisted): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface Persisted {
	readonly v: 1;
	readonly selection: Selection;
	readonly mode: ViewMode;
	/** The run whose "Ranking complete" was already spoken, so a reload does not repeat it. */
	readonly announcedRunId?: number;
}

const vscode = acquireVsCodeApi();

function restore(): Persisted {
	const s = vscode.getState() as Partial<Persisted> | undefined;
	const sel = s?.selection;
	const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
	return {
		v: 1,
		selection: { runId: num(sel?.runId), activeId: num(sel?.activeId), pinned: sel?.pinned === true },
		mode: s?.mode === 'diff' ? 'diff' : 'text',
		announcedRunId: num(s?.announcedRunId),
	};
}

let persisted = restore();
let selection = persisted.selection;
let mode: ViewMode = persisted.mode;
let state: PickerState | undefined;

function persist(): void {
	persisted = { v: 1, selection, mode, announcedRunId: persisted.announcedRunId };
	vscode.setState(persisted);
}

function post(message: WebviewToHost): void {
	vscode.postMessage(message);
}

// ---- DOM helpers: every string from the host goes through textContent or a Text node --------------

function el<K extends keyof HTMLElementTagNameMap>(
	tag: K,
	className?: string,
	attrs?: Record<string, string>,
): HTMLElementTagNameMap[K] {
	const node = document.createElement(tag);
	if (className) node.className = className;
	for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, v);
	return node;
}

function setText(node: HTMLElement, text: string): void {
	if (node.textContent !== text) node.textContent = text;
}

function setAttr(node: HTMLElement, name: string, value: string | undefined): void {
	if (value === undefined) {
		if (node.hasAttribute(name)) node.removeAttribute(name);
	} else if (node.getAttribute(name) !== value) {
		node.setAttribute(name, value);
	}
}

function show(node: HTMLElement, visible: boolean): void {
	if (node.hidden === visible) node.hidden = !visible;
}

function button(label: string, className: string, onClick: () => void, title?: string): HTMLButtonElement {
	const b = el('button', `btn ${className}`, { type: 'button' });
	b.textContent = label;
	if (title) b.title = title;
	b.addEventListener('click', () => {
		onClick();
		list.focus();
	});
	return b;
}

// ---- the page, built once; renders only update it ----------------------------------------------

const app = document.getElementById('app') ?? document.body;

const header = el('header', 'header');
const busyBar = el('div', 'busy-bar', { 'aria-hidden': 'true' });
const titleRow = el('div', 'title-row');
const instruction = el('h1', 'instruction');
const cancelButton = button('Cancel', 'secondary', () => post({ type: 'cancel' }), 'Stop generating (Esc)');
const regenerateButton = button('Regenerate', 'secondary', () => regenerate(), 'Run the same instruction again (R)');
titleRow.append(instruction, cancelButton, regenerateButton);
const metaRow = el('div', 'meta-row');
const modelText = el('span', 'model');
const rankerText = el('span', 'ranker');
metaRow.append(modelText, rankerText);
const loadingRow = el('div', 'loading-row');
const statusRow = el('div', 'status-row');
const phaseText = el('span', 'phase');
const progressText = el('span', 'progress');
const elapsedText = el('span', 'elapsed');
statusRow.append(phaseText, progressText, elapsedText);
const notice = el('div', 'notice', { role: 'status' });
const noticeText = el('span', 'notice-text');
const showLogButton = button('Show Log', 'link', () => post({ type: 'showLog' }));
notice.append(noticeText, showLogButton);
header.append(busyBar, titleRow, metaRow, loadingRow, statusRow, notice);

const list = el('div', 'list', { role: 'listbox', tabindex: '0', 'aria-label': 'Candidates' });
const listEmpty = el('div', 'list-empty');

const detail = el('section', 'detail', { 'aria-label': 'Active candidate' });
const detailHead = el('div', 'detail-head');
const detailTitle = el('span', 'detail-title');
const toggle = el('div', 'toggle', { role: 'group', 'aria-label': 'View (V)' });
const textTab = button('Text', 'tab', () => setMode('text'));
const diffTab = button('Diff', 'tab', () => setMode('diff'));
toggle.append(textTab, diffTab);
const acceptButton = button('Accept', 'primary', () => acceptActive(), 'Replace the selection with this candidate (Enter)');
const openDiffButton = button('Open Diff', 'secondary', () => openDiff(), 'Compare in the diff editor (D)');
const copyButton = button('Copy', 'secondary', () => copy(), 'Copy to the clipboard (C)');
const detailActions = el('div', 'detail-actions');
detailActions.append(toggle, acceptButton, openDiffButton, copyButton);
detailHead.append(detailTitle, detailActions);
const detailBody = el('div', 'detail-body', { tabindex: '-1' });
const pre = el('pre', 'code text-view');
const preText = document.createTextNode('');
pre.append(preText);
const diffView = el('div', 'code diff-view', { role: 'list', 'aria-label': 'Line diff against the selection' });
const detailPlaceholder = el('div', 'placeholder');
detailBody.append(pre, diffView, detailPlaceholder);
detail.append(detailHead, detailBody);

const hint = el('div', 'hint', { role: 'status', 'aria-live': 'polite' });
const announcer = el('div', 'sr-only', { 'aria-live': 'polite' });

const footer = el('footer', 'legend', { 'aria-label': 'Keyboard shortcuts' });
function legendItem(keys: string, label: string): { root: HTMLElement; label: HTMLElement } {
	const root = el('span', 'legend-item');
	const k = el('kbd');
	k.textContent = keys;
	const l = el('span');
	l.textContent = label;
	root.append(k, l);
	footer.append(root);
	return { root, label: l };
}
legendItem('↑↓', 'move');
legendItem('Enter', 'accept');
legendItem('1–9', 'accept row');
legendItem('V', 'text/diff');
legendItem('D', 'diff editor');
legendItem('C', 'copy');
const regenerateLegend = legendItem('R', 'regenerate');
const escLegend = legendItem('Esc', 'cancel');

app.append(header, list, listEmpty, detail, hint, footer, announcer);

// ---- rendering --------------------------------------------------------------------------------

interface Row {
	readonly root: HTMLElement;
	readonly rank: HTMLElement;
	readonly score: HTMLElement;
	readonly preview: HTMLElement;
	readonly count: HTMLElement;
	readonly spinner: HTMLElement;
	readonly status: HTMLElement;
	readonly stats: HTMLElement;
}

const rows = new Map<number, Row>();

/** Diff of each candidate against the original, recomputed only when its text changes. */
const diffCache = new Map<number, { text: string; original: string; rows: DiffRow[] }>();

function diffOf(c: CandidateView, original: string): DiffRow[] {
	const hit = diffCache.get(c.id);
	if (hit && hit.text === c.text && hit.original === original) return hit.rows;
	const computed = diffRows(original, c.text);
	diffCache.set(c.id, { text: c.text, original, rows: computed });
	return computed;
}

function rowElementId(id: number): string {
	return `candidate-${id}`;
}

function createRow(id: number): Row {
	const root = el('div', 'row', { role: 'option', id: rowElementId(id), 'aria-selected': 'false' });
	const rank = el('span', 'rank');
	const score = el('span', 'score');
	const preview = el('span', 'preview');
	const meta = el('span', 'row-meta');
	const count = el('span', 'badge count');
	const spinner = el('span', 'spinner', { 'aria-hidden': 'true' });
	const status = el('span', 'status');
	const stats = el('span', 'stats');
	meta.append(count, spinner, status, stats);
	root.append(rank, score, preview, meta);
	root.addEventListener('click', () => select(id));
	root.addEventListener('dblclick', () => acceptId(id));
	return { root, rank, score, preview, count, spinner, status, stats };
}

function renderRow(row: Row, c: CandidateView, s: PickerState, active: boolean): void {
	row.root.className = `row status-${c.status}${active ? ' active' : ''}${canAccept(c) ? '' : ' unacceptable'}`;
	setAttr(row.root, 'aria-selected', String(active));
	setText(row.rank, c.rank === undefined ? '' : String(c.rank));
	const score = formatScore(c.score, s.ranker.kind);
	// A dash only once scoring is over (or failed); during the run a missing score is just pending.
	const unscored = c.status === 'done' && !score && s.ranker.kind !== 'none' && (!isRunning(s.phase) || !!c.scoreError);
	setText(row.score, score || (unscored ? '—' : ''));
	setAttr(row.score, 'title', unscored ? (c.scoreError ? `Not scored: ${c.scoreError}` : 'Not scored yet') : undefined);
	const done = c.status === 'done';
	const diff = done ? diffOf(c, s.original) : undefined;
	if (c.status === 'failed') {
		setText(row.preview, c.error ?? 'Generation failed');
		row.preview.classList.add('error');
	} else {
		setText(row.preview, previewLine(c, diff) || (c.status === 'queued' ? '' : '…'));
		row.preview.classList.remove('error');
	}
	setText(row.count, c.count > 1 ? `×${c.count}` : '');
	setAttr(row.count, 'title', c.count > 1 ? `${c.count} candidates had exactly this text` : undefined);
	show(row.count, c.count > 1);
	show(row.spinner, c.status === 'streaming');
	const status = c.status === 'failed' ? 'failed' : statusLabel(c);
	setText(row.status, status);
	show(row.status, status !== '');
	setText(row.stats, diff ? formatStats(diffStats(diff)) : '');
	show(row.stats, diff !== undefined);
}

function renderList(s: PickerState): void {
	const seen = new Set<number>();
	let cursor: ChildNode | null = list.firstChild;
	for (const c of s.candidates) {
		seen.add(c.id);
		let row = rows.get(c.id);
		if (!row) {
			row = createRow(c.id);
			rows.set(c.id, row);
		}
		renderRow(row, c, s, c.id === selection.activeId);
		// Move rows only when the order changed (ranking), so streaming updates touch text alone.
		if (row.root === cursor) cursor = cursor.nextSibling;
		else list.insertBefore(row.root, cursor);
	}
	for (const [id, row] of rows) {
		if (!seen.has(id)) {
			row.root.remove();
			rows.delete(id);
			diffCache.delete(id);
		}
	}
	const activeRow = selection.activeId === undefined ? undefined : rows.get(selection.activeId);
	setAttr(list, 'aria-activedescendant', activeRow ? rowElementId(selection.activeId!) : undefined);
	show(listEmpty, s.candidates.length === 0);
	setText(listEmpty, isRunning(s.phase) ? 'Waiting for the model…' : 'No candidates.');
}

let elapsedTimer: ReturnType<typeof setInterval> | undefined;

function renderElapsed(): void {
	if (!state) return;
	// startedAt comes from the host's clock; clamp so a small clock skew never shows negative time.
	const ms = state.elapsedMs ?? Math.max(0, Date.now() - state.startedAt);
	setText(elapsedText, formatElapsed(ms));
}

function renderHeader(s: PickerState): void {
	const running = isRunning(s.phase);
	setText(instruction, s.instruction);
	instruction.title = s.instruction;
	setText(modelText, modelLine(s.model, s.host));
	const ranker = rankerLine(s.ranker);
	setText(rankerText, ranker.text);
	rankerText.title = ranker.title;
	setText(loadingRow, s.ranker.loading ? `Loading reward model: ${s.ranker.loading}` : '');
	show(loadingRow, !!s.ranker.loading);
	setText(phaseText, phaseLabel(s.phase, s.applied));
	setText(progressText, formatProgress(s));
	renderElapsed();
	show(busyBar, running && !s.applied);
	show(cancelButton, running && !s.applied);
	show(regenerateButton, !running && !s.applied);
	document.body.classList.toggle('running', running);

	const n = s.applied ? { severity: 'info' as const, text: 'Applied. Closing…' } : s.notice;
	show(notice, !!n);
	notice.className = `notice${n ? ` severity-${n.severity}` : ''}`;
	setText(noticeText, n?.text ?? '');
	show(showLogButton, !!n && n.severity !== 'info');

	if (running && !elapsedTimer) elapsedTimer = setInterval(renderElapsed, 100);
	if (!running && elapsedTimer) {
		clearInterval(elapsedTimer);
		elapsedTimer = undefined;
	}
	setText(escLegend.label, running ? 'cancel' : 'close');
	show(regenerateLegend.root, !running && !s.applied);
}

/** What the detail pane shows now, to decide between appending, replacing and keeping. */
let shownText: { id: number; text: string } | undefined;
let shownDiff: { id: number; rows: DiffRow[] } | undefined;

function renderDetail(s: PickerState): void {
	const index = s.candidates.findIndex(c => c.id === selection.activeId);
	const c = index >= 0 ? s.candidates[index] : undefined;
	show(detailHead, !!c);
	if (!c) {
		show(pre, false);
		show(diffView, false);
		show(detailPlaceholder, true);
		setText(detailPlaceholder, isRunning(s.phase) ? 'Candidates will appear here as they stream in.' : '');
		return;
	}

	const parts = [`Candidate ${index + 1}`];
	if (c.rank !== undefined) parts.push(`rank ${c.rank}`);
	const score = formatScore(c.score, s.ranker.kind);
	if (score) parts.push(`score ${score}`);
	else if (c.scoreError) parts.push(`not scored: ${c.scoreError}`);
	if (c.count > 1) parts.push(`×${c.count}`);
	if (c.text) {
		const lines = lineCount(c.text);
		parts.push(`${lines} ${lines === 1 ? 'line' : 'lines'}`);
	}
	if (c.tokens !== undefined) parts.push(`${c.tokens} tokens`);
	if (c.durationMs !== undefined) parts.push(formatElapsed(c.durationMs));
	const status = statusLabel(c);
	if (status && c.status !== 'failed') parts.push(status);
	setText(detailTitle, parts.join(' · '));
	detailTitle.title = parts.join(' · '); // the whole line, where a narrow pane cuts it

	const locked = !!s.applied;
	acceptButton.disabled = locked || !canAccept(c);
	openDiffButton.disabled = locked || !c.text;
	copyButton.disabled = !c.text;
	setAttr(textTab, 'aria-pressed', String(mode === 'text'));
	setAttr(diffTab, 'aria-pressed', String(mode === 'diff'));

	const placeholder =
		c.status === 'failed'
			? `Failed: ${c.error ?? 'unknown error'}`
			: !c.text
				? c.status === 'queued'
					? 'Queued — waiting for a free slot on the model server.'
					: c.status === 'streaming'
						? 'Waiting for the first tokens…'
						: 'This candidate is empty.'
				: '';
	setText(detailPlaceholder, placeholder);
	detailPlaceholder.classList.toggle('error', c.status === 'failed');
	show(detailPlaceholder, placeholder !== '');
	show(pre, mode === 'text' && !!c.text);
	show(diffView, mode === 'diff' && !!c.text);

	// Keep the reader's place: scrollTop survives text growth, and is restored after rebuilds.
	const scrollTop = detailBody.scrollTop;
	if (mode === 'text') {
		if (shownText?.id === c.id && c.text.startsWith(shownText.text)) {
			if (c.text.length > shownText.text.length) preText.appendData(c.text.slice(shownText.text.length));
		} else if (preText.data !== c.text) {
			preText.data = c.text;
		}
		shownText = { id: c.id, text: c.text };
		shownDiff = undefined;
	} else {
		const diff = diffOf(c, s.original);
		if (shownDiff?.id !== c.id || shownDiff.rows !== diff) {
			diffView.replaceChildren(...diff.map(renderDiffRow));
			shownDiff = { id: c.id, rows: diff };
		}
		shownText = undefined;
	}
	if (detailBody.scrollTop !== scrollTop) detailBody.scrollTop = scrollTop;
}

const diffSigns = { add: '+', del: '\u2212', same: ' ' } as const;
const diffWords = { add: 'added', del: 'removed', same: 'unchanged' } as const;

function renderDiffRow(r: DiffRow): HTMLElement {
	const line = el('div', `diff-line ${r.kind}`, { role: 'listitem' });
	const sign = el('span', 'sign', { 'aria-hidden': 'true' });
	sign.textContent = diffSigns[r.kind];
	const word = el('span', 'sr-only');
	word.textContent = `${diffWords[r.kind]}: `;
	const text = el('span', 'line-text');
	text.textContent = r.text;
	line.append(sign, word, text);
	return line;
}

function render(): void {
	if (!state) return;
	renderHeader(state);
	renderList(state);
	renderDetail(state);
}

// ---- announcements and hints -------------------------------------------------------------------

let announceTimer: ReturnType<typeof setTimeout> | undefined;
function announce(text: string): void {
	// Clear first so repeating the same words is still spoken.
	announcer.textContent = '';
	clearTimeout(announceTimer);
	announceTimer = setTimeout(() => (announcer.textContent = text), 50);
}

let hintTimer: ReturnType<typeof setTimeout> | undefined;
function showHint(text: string): void {
	// Cleared first, then set a moment later, so a repeated hint is announced again.
	hint.textContent = '';
	clearTimeout(hintTimer);
	hintTimer = setTimeout(() => {
		hint.textContent = text;
		hintTimer = setTimeout(() => (hint.textContent = ''), 4000);
	}, 50);
}

// ---- actions ------------------------------------------------------------------------------------

function activeCandidate(): CandidateView | undefined {
	return state?.candidates.find(c => c.id === selection.activeId);
}

function setSelection(next: Selection): void {
	const changed = next.activeId !== selection.activeId;
	selection = next;
	persist();
	render();
	if (changed && state && next.activeId !== undefined) {
		rows.get(next.activeId)?.root.scrollIntoView({ block: 'nearest' });
		announce(announceCandidate(state, next.activeId));
	}
}

function select(id: number): void {
	if (!state) return;
	setSelection({ runId: state.runId, activeId: id, pinned: true });
}

function move(m: Move): void {
	if (state) setSelection(moveSelection(selection, state, m));
}

function acceptId(id: number): void {
	if (!state || state.applied) return;
	const c = state.candidates.find(x => x.id === id);
	if (c && canAccept(c)) post({ type: 'accept', id });
	else showHint(acceptBlockedHint(state, id));
}

function acceptActive(): void {
	if (selection.activeId !== undefined) acceptId(selection.activeId);
}

function acceptAt(position: number): void {
	if (!state) return;
	const c = state.candidates[position];
	if (!c) {
		showHint(`There is no candidate ${position + 1}.`);
		return;
	}
	select(c.id);
	acceptId(c.id);
}

function openDiff(): void {
	const c = activeCandidate();
	if (!c || state?.applied) return;
	if (c.text) post({ type: 'openDiff', id: c.id });
	else showHint('This candidate has no text to compare yet.');
}

function copy(): void {
	const c = activeCandidate();
	if (!c) return;
	if (c.text) post({ type: 'copy', id: c.id });
	else showHint('This candidate has no text to copy yet.');
}

function regenerate(): void {
	if (!state || state.applied) return;
	if (isRunning(state.phase)) showHint('Regenerate is available once this run has ended; Esc cancels it.');
	else post({ type: 'regenerate' });
}

function escape(): void {
	post(state && isRunning(state.phase) && !state.applied ? { type: 'cancel' } : { type: 'close' });
}

function setMode(next: ViewMode): void {
	if (mode === next) return;
	mode = next;
	persist();
	render();
}

function onKeyDown(e: KeyboardEvent): void {
	if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return;
	// A focused button keeps its own Enter and Space.
	if (e.target instanceof HTMLButtonElement && (e.key === 'Enter' || e.key === ' ')) return;
	switch (e.key) {
		case 'ArrowDown':
		case 'j':
			move('next');
			break;
		case 'ArrowUp':
		case 'k':
			move('previous');
			break;
		case 'Home':
			move('first');
			break;
		case 'End':
			move('last');
			break;
		case 'PageDown':
		case 'PageUp':
			detailBody.scrollBy({ top: (e.key === 'PageDown' ? 0.9 : -0.9) * detailBody.clientHeight });
			break;
		case 'Enter':
			acceptActive();
			break;
		case 'Escape':
			escape();
			break;
		case 'v':
			setMode(mode === 'text' ? 'diff' : 'text');
			break;
		case 'd':
			openDiff();
			break;
		case 'c':
			copy();
			break;
		case 'r':
			regenerate();
			break;
		default:
			if (e.key.length === 1 && e.key >= '1' && e.key <= '9') {
				acceptAt(Number(e.key) - 1);
				break;
			}
			return;
	}
	e.preventDefault();
}

// ---- messages from the host --------------------------------------------------------------------

function onState(next: PickerState): void {
	const newRun = state?.runId !== next.runId;
	const wasDone = state?.runId === next.runId && state.phase === 'done';
	state = next;
	if (newRun) {
		diffCache.clear();
		shownText = undefined;
		shownDiff = undefined;
		if (selection.runId !== next.runId) detailBody.scrollTop = 0;
	}
	const before = selection;
	selection = reconcileSelection(selection, next);
	if (before.activeId !== selection.activeId || before.runId !== selection.runId || before.pinned !== selection.pinned) persist();
	render();
	const ranked = next.candidates.some(c => c.rank !== undefined);
	if (next.phase === 'done' && !wasDone && ranked && persisted.announcedRunId !== next.runId) {
		persisted = { ...persisted, announcedRunId: next.runId };
		vscode.setState(persisted);
		announce('Ranking complete');
	}
	if (before.activeId !== selection.activeId && selection.activeId !== undefined) {
		rows.get(selection.activeId)?.root.scrollIntoView({ block: 'nearest' });
	}
}

function isHostMessage(data: unknown): data is HostToWebview {
	if (typeof data !== 'object' || data === null) return false;
	const m = data as { type?: unknown; state?: unknown };
	return m.type === 'state' && typeof m.state === 'object' && m.state !== null;
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
	const message = event.data;
	if (!isHostMessage(message)) return;
	switch (message.type) {
		case 'state':
			onState(message.state);
			break;
		default: {
			const never: never = message.type;
			void never;
		}
	}
});

document.addEventListener('keydown', onKeyDown);
// Keyboard first: whenever the panel gets focus back, the list has it.
window.addEventListener('focus', () => {
	if (document.activeElement === document.body || document.activeElement === null) list.focus();
});
list.focus();
post({ type: 'ready' });

/**
 * The parts of the page that follow the run rather than a candidate: the header (task title, model,
 * ranker, phase, progress, elapsed time, notice) and the keyboard legend in the footer.
 */
import type { PickerState } from '../core/protocol';
import { button, el, setText, show } from './dom';
import { formatElapsed, formatProgress, isRunning, modelLine, phaseLabel, rankerLine } from './view';

export interface HeaderActions {
	cancel(): void;
	regenerate(): void;
	showLog(): void;
	/** The notice's way out when no reward model ranks: opens the reward model picker. */
	setupReward(): void;
}

export interface HeaderView {
	readonly root: HTMLElement;
	render(s: PickerState): void;
}

export function createHeaderView(actions: HeaderActions): HeaderView {
	const root = el('header', 'header');
	const busyBar = el('div', 'busy-bar', { 'aria-hidden': 'true' });
	const titleRow = el('div', 'title-row');
	const instruction = el('h1', 'instruction');
	const cancelButton = button('Cancel', 'secondary', () => actions.cancel(), 'Stop generating (Esc)');
	const regenerateButton = button('Regenerate', 'secondary', () => actions.regenerate(), 'Run the same request again (R)');
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
	const setupButton = button('Set Up Reward Model…', 'link', () => actions.setupReward());
	const showLogButton = button('Show Log', 'link', () => actions.showLog());
	notice.append(noticeText, setupButton, showLogButton);
	root.append(busyBar, titleRow, metaRow, loadingRow, statusRow, notice);

	/** The snapshot last drawn, which the elapsed-time ticker reads between snapshots. */
	let state: PickerState | undefined;
	let elapsedTimer: ReturnType<typeof setInterval> | undefined;

	function renderElapsed(): void {
		if (!state) return;
		// startedAt comes from the host's clock; clamp so a small clock skew never shows negative time.
		const ms = state.elapsedMs ?? Math.max(0, Date.now() - state.startedAt);
		setText(elapsedText, formatElapsed(ms));
	}

	function render(s: PickerState): void {
		state = s;
		const running = isRunning(s.phase);
		setText(instruction, s.task.title);
		instruction.title = s.task.title;
		setText(modelText, modelLine(s.model, s.host));
		const ranker = rankerLine(s.ranker);
		setText(rankerText, ranker.text);
		rankerText.title = ranker.title;
		setText(loadingRow, s.ranker.loading ? `Loading reward model: ${s.ranker.loading}` : '');
		show(loadingRow, !!s.ranker.loading);
		setText(phaseText, phaseLabel(s.phase));
		setText(progressText, formatProgress(s));
		renderElapsed();
		show(busyBar, running);
		show(cancelButton, running);
		show(regenerateButton, !running);

		const n = s.notice;
		show(notice, !!n);
		notice.className = `notice${n ? ` severity-${n.severity}` : ''}`;
		setText(noticeText, n?.text ?? '');
		show(setupButton, n?.action === 'setupReward');
		show(showLogButton, !!n && n.severity !== 'info');

		if (running && !elapsedTimer) elapsedTimer = setInterval(renderElapsed, 100);
		if (!running && elapsedTimer) {
			clearInterval(elapsedTimer);
			elapsedTimer = undefined;
		}
	}

	return { root, render };
}

export interface LegendView {
	readonly root: HTMLElement;
	render(s: PickerState): void;
}

/** The footer: the keys that work, with Esc's word and R's presence following the run. */
export function createLegendView(): LegendView {
	const root = el('footer', 'legend', { 'aria-label': 'Keyboard shortcuts' });
	function item(keys: string, label: string): { root: HTMLElement; label: HTMLElement } {
		const itemRoot = el('span', 'legend-item');
		const k = el('kbd');
		k.textContent = keys;
		const l = el('span');
		l.textContent = label;
		itemRoot.append(k, l);
		root.append(itemRoot);
		return { root: itemRoot, label: l };
	}
	item('↑↓', 'move');
	item('Enter', 'accept');
	item('1–9', 'accept row');
	const toggleView = item('V', 'text/diff');
	const diffEditor = item('D', 'diff editor');
	item('C', 'copy');
	const regenerate = item('R', 'regenerate');
	const esc = item('Esc', 'cancel');

	return {
		root,
		render(s) {
			const running = isRunning(s.phase);
			setText(esc.label, running ? 'cancel' : 'close');
			show(regenerate.root, !running);
			show(toggleView.root, s.task.diffable);
			show(diffEditor.root, s.task.diffable);
		},
	};
}

/**
 * The parts of the page that follow the run rather than a candidate: the header (task title, model,
 * ranker, phase, progress, elapsed time, notice) and the keyboard legend in the footer.
 */
import type { PickerState } from '../core/protocol';
import { button, el, setAttr, setText, show } from './dom';
import {
	agreementLine,
	builtinLine,
	formatElapsed,
	formatProgress,
	isRunning,
	modelLine,
	phaseLabel,
	rankerLine,
	runningElapsed,
	runProgress,
} from './view';
import { showHidden } from '../core/hiddenText';

export interface HeaderActions {
	cancel(): void;
	regenerate(): void;
	showLog(): void;
	/** The notice's way out when no reward model ranks: opens the reward model picker. */
	setupReward(): void;
	/** After folding or unfolding the notice: hand the keys back to the list. */
	refocus(): void;
}

export interface HeaderView {
	readonly root: HTMLElement;
	render(s: PickerState): void;
}

export function createHeaderView(actions: HeaderActions): HeaderView {
	const root = el('header', 'header');
	// The run's progress along the top edge (the status row says it in words): still between snapshots.
	const busyBar = el('div', 'busy-bar', { 'aria-hidden': 'true' });
	const busyFill = el('div', 'busy-fill');
	busyBar.append(busyFill);
	// What the fill was last given: the style reads back normalised ("50%" for "50.0%").
	let shownWidth = '';
	const titleRow = el('div', 'title-row');
	const instruction = el('h1', 'instruction');
	const cancelButton = button('Cancel', 'secondary', () => actions.cancel(), 'Stop generating (Esc)');
	const regenerateButton = button('Regenerate', 'secondary', () => actions.regenerate(), 'Run the same request again (R)');
	titleRow.append(instruction, cancelButton, regenerateButton);
	const metaRow = el('div', 'meta-row');
	const modelText = el('span', 'model');
	const rankerText = el('span', 'ranker');
	const agreementText = el('span', 'agreement', { title: 'From your recorded picks (Best-of-N: Show Ranking Report)' });
	metaRow.append(modelText, rankerText, agreementText);
	// Only while the built-in model generates: it is small and slow, and a person should know both.
	const builtinRow = el('div', 'builtin-row');
	const builtinSpeed = el('span', 'builtin-speed');
	const builtinHint = el('span', 'builtin-hint');
	builtinRow.append(builtinSpeed, builtinHint);
	const statusRow = el('div', 'status-row');
	const phaseText = el('span', 'phase');
	const progressText = el('span', 'progress');
	const elapsedText = el('span', 'elapsed');
	statusRow.append(phaseText, progressText, elapsedText);
	// One line however long the message: the list below must keep its rows. Clicking the text (or
	// More) unfolds it; the full text is also its tooltip.
	const notice = el('div', 'notice', { role: 'status' });
	const noticeText = el('span', 'notice-text');
	const setupButton = button('Set Up Reward Model…', 'link', () => actions.setupReward());
	const moreButton = button('More', 'link', () => {
		setExpanded(!expanded);
		actions.refocus();
	});
	const showLogButton = button('Show Log', 'link', () => actions.showLog());
	notice.append(noticeText, moreButton, setupButton, showLogButton);
	noticeText.addEventListener('click', () => {
		// Selecting part of the message to copy it is not a click to fold it.
		if (!window.getSelection()?.toString()) setExpanded(!expanded);
	});
	root.append(busyBar, titleRow, statusRow, metaRow, builtinRow, notice);

	let expanded = false;
	function setExpanded(next: boolean): void {
		expanded = next;
		notice.classList.toggle('expanded', expanded);
		setText(moreButton, expanded ? 'Less' : 'More');
		setAttr(moreButton, 'aria-expanded', String(expanded));
		fitNotice();
	}
	/** "More" only where the line is cut (or unfolded): measured, since it depends on the pane's width. */
	function fitNotice(): void {
		show(moreButton, expanded || noticeText.scrollWidth > noticeText.clientWidth + 1);
	}
	new ResizeObserver(fitNotice).observe(notice);

	/** The snapshot last drawn, which the elapsed-time ticker reads between snapshots. */
	let state: PickerState | undefined;
	/** While a run goes: the next time its elapsed text changes (see `runningElapsed`). */
	let elapsedTimer: ReturnType<typeof setTimeout> | undefined;

	function renderElapsed(): void {
		clearTimeout(elapsedTimer);
		elapsedTimer = undefined;
		if (!state) return;
		// startedAt comes from the host's clock; clamp so a small clock skew never shows negative time.
		const ms = state.elapsedMs ?? Math.max(0, Date.now() - state.startedAt);
		if (!isRunning(state.phase) || state.elapsedMs !== undefined) {
			setText(elapsedText, formatElapsed(ms));
			return;
		}
		const shown = runningElapsed(ms);
		setText(elapsedText, shown.text);
		// Usually a snapshot's draw writes the new text first (see CLOCK_FOLD_MS), and this is cleared.
		elapsedTimer = setTimeout(renderElapsed, shown.redrawInMs);
	}

	function render(s: PickerState): void {
		state = s;
		const running = isRunning(s.phase);
		setText(instruction, s.task.title);
		instruction.title = s.task.title;
		setText(modelText, modelLine(s.model, s.host));
		const ranker = rankerLine(s);
		setText(rankerText, s.ranker.loading ? `${ranker.text} — loading: ${s.ranker.loading}` : ranker.text);
		rankerText.title = ranker.title;
		setText(agreementText, s.agreement ? agreementLine(s.agreement) : '');
		show(agreementText, !!s.agreement);
		show(builtinRow, !!s.builtin);
		if (s.builtin) {
			const line = builtinLine(s.builtin);
			setText(builtinSpeed, line.speed);
			setText(builtinHint, line.hint);
			builtinRow.title = `${line.speed}. ${line.hint}.`;
		}
		setText(phaseText, phaseLabel(s.phase));
		setText(progressText, formatProgress(s));
		renderElapsed();
		show(busyBar, running);
		const width = `${(100 * runProgress(s)).toFixed(1)}%`;
		if (width !== shownWidth) busyFill.style.width = shownWidth = width;
		show(cancelButton, running);
		show(regenerateButton, !running);

		const n = s.notice;
		if ((n?.text ?? '') !== noticeText.textContent && expanded) setExpanded(false); // a new message starts folded
		show(notice, !!n);
		notice.className = `notice${n ? ` severity-${n.severity}` : ''}${expanded ? ' expanded' : ''}`;
		setText(noticeText, showHidden(n?.text ?? ''));
		show(setupButton, n?.action === 'setupReward');
		noticeText.title = n?.text ?? '';
		show(showLogButton, !!n && n.severity !== 'info');
		if (n) fitNotice();
	}

	return { root, render };
}

export interface LegendView {
	readonly root: HTMLElement;
	render(s: PickerState, wrap: boolean): void;
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
	item('1–9', 'go to row');
	item('Enter', 'accept');
	const toggleView = item('V', 'text/diff');
	const wrapItem = item('W', 'wrap: on');
	const diffEditor = item('D', 'diff editor');
	item('C', 'copy');
	const regenerate = item('R', 'regenerate');
	const esc = item('Esc', 'cancel');

	return {
		root,
		render(s, wrap) {
			const running = isRunning(s.phase);
			setText(wrapItem.label, wrap ? 'wrap: on' : 'wrap: off');
			setText(esc.label, running ? 'cancel' : 'close');
			show(regenerate.root, !running);
			show(toggleView.root, s.task.diffable);
			show(diffEditor.root, s.task.diffable);
		},
	};
}

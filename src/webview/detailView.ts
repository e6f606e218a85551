/**
 * The detail pane: the active candidate's title line, its actions, and its text or its line diff
 * against the selection. While a candidate streams, the text view only appends, so the reader's
 * place and selection survive.
 */
import type { PickerState } from '../core/protocol';
import type { DiffCache } from './diffCache';
import { appendTokens, tokenLinesFragment } from './codeView';
import { button, el, setAttr, setText, show } from './dom';
import { HighlightCache, highlightDiffRows, type TokenLine } from './highlight';
import { renderMarkdown } from './markdown';
import { ScrollPlace } from './scrollPlace';
import { showHidden } from '../core/hiddenText';
import {
	canAccept,
	detailPlaceholder,
	formatElapsed,
	formatScore,
	isRunning,
	lineCount,
	pendingScoreNote,
	statusLabel,
	type DiffRow,
	type ViewMode,
} from './view';

export interface DetailActions {
	setMode(mode: ViewMode): void;
	toggleWrap(): void;
	accept(): void;
	openDiff(): void;
	copy(): void;
	openLink(href: string): void;
}

const diffSigns = { add: '+', del: '\u2212', same: ' ' } as const;
const diffWords = { add: 'added', del: 'removed', same: 'unchanged' } as const;

function renderDiffRow(r: DiffRow, tokens: TokenLine | undefined): HTMLElement {
	const line = el('div', `diff-line ${r.kind}`, { role: 'listitem' });
	const sign = el('span', 'sign', { 'aria-hidden': 'true' });
	sign.textContent = diffSigns[r.kind];
	const word = el('span', 'sr-only');
	word.textContent = `${diffWords[r.kind]}: `;
	const text = el('span', 'line-text');
	if (tokens) appendTokens(text, tokens);
	else text.textContent = showHidden(r.text);
	line.append(sign, word, text);
	return line;
}

export interface DetailView {
	readonly root: HTMLElement;
	/** Forgets what is shown (a new run reuses candidate ids); `toTop` also scrolls back up. */
	reset(toTop: boolean): void;
	/** PageUp/PageDown scroll the candidate while focus stays in the list. */
	scrollPage(direction: 1 | -1): void;
	/** `wrap`: long lines wrap at the pane's edge instead of scrolling sideways. */
	render(s: PickerState, activeId: number | undefined, mode: ViewMode, wrap: boolean): void;
}

export function createDetailView(diffs: DiffCache, actions: DetailActions): DetailView {
	const root = el('section', 'detail', { 'aria-label': 'Active candidate' });
	const head = el('div', 'detail-head');
	const title = el('span', 'detail-title');
	const toggle = el('div', 'toggle', { role: 'group', 'aria-label': 'View (V)' });
	const textTab = button('Text', 'tab', () => actions.setMode('text'));
	const diffTab = button('Diff', 'tab', () => actions.setMode('diff'));
	toggle.append(textTab, diffTab);
	const wrapToggle = el('div', 'toggle');
	const wrapButton = button('Wrap', 'tab', () => actions.toggleWrap(), 'Wrap long lines (W)');
	wrapToggle.append(wrapButton);
	const acceptButton = button('Accept', 'primary', () => actions.accept(), 'Replace the selection with this candidate (Enter)');
	const openDiffButton = button('Open Diff', 'secondary', () => actions.openDiff(), 'Compare in the diff editor (D)');
	const copyButton = button('Copy', 'secondary', () => actions.copy(), 'Copy to the clipboard (C)');
	const detailActions = el('div', 'detail-actions');
	detailActions.append(toggle, wrapToggle, acceptButton, openDiffButton, copyButton);
	head.append(title, detailActions);
	const body = el('div', 'detail-body', { tabindex: '-1' });
	const pre = el('pre', 'code text-view');
	const diffView = el('div', 'code diff-view', { role: 'list', 'aria-label': 'Line diff against the selection' });
	const markdownView = el('div', 'markdown-view');
	const placeholder = el('div', 'placeholder');
	body.append(pre, markdownView, diffView, placeholder);
	root.append(head, body);
	const place = new ScrollPlace(body);
	body.addEventListener('scroll', () => place.scrolled(), { passive: true });

	/** The candidate shown last, to tell growth of the same text from a switch to another. */
	let lastId: number | undefined;
	/** What the pane shows now, to decide between appending, replacing and keeping. */
	let shownText: { id: number; text: string; highlighted: boolean } | undefined;
	let shownDiff: { id: number; rows: DiffRow[]; highlighted: boolean } | undefined;
	let shownMarkdown: { id: number; text: string } | undefined;
	/** Which of the pane's views showed, and how, at the last draw: a change can move the reader's place. */
	let shownLayout: string | undefined;
	const highlights = new HighlightCache();

	function render(s: PickerState, activeId: number | undefined, mode: ViewMode, wrap: boolean): void {
		body.classList.toggle('wrap', wrap);
		setAttr(wrapButton, 'aria-pressed', String(wrap));
		const index = s.candidates.findIndex(c => c.id === activeId);
		const c = index >= 0 ? s.candidates[index] : undefined;
		show(head, !!c);
		if (!c) {
			show(pre, false);
			show(markdownView, false);
			show(diffView, false);
			show(placeholder, true);
			setText(placeholder, isRunning(s.phase) ? 'Candidates will appear here as they stream in.' : '');
			return;
		}

		const parts = [`Candidate ${index + 1}`];
		if (c.rank !== undefined) parts.push(`rank ${c.rank}`);
		const score = formatScore(c.score, s.ranker.kind);
		if (score) parts.push(`score ${score}`);
		else if (c.scoreError) parts.push(`not scored: ${c.scoreError}`);
		else if (pendingScoreNote(c, s.phase)) parts.push('score waits for generation to end');
		if (c.count > 1) parts.push(`×${c.count}`);
		if (c.text) {
			const lines = lineCount(c.text);
			parts.push(`${lines} ${lines === 1 ? 'line' : 'lines'}`);
		}
		if (c.tokens !== undefined) parts.push(`${c.tokens} tokens`);
		if (c.durationMs !== undefined) parts.push(formatElapsed(c.durationMs));
		const status = statusLabel(c);
		if (status && c.status !== 'failed') parts.push(status);
		setText(title, parts.join(' · '));
		title.title = parts.join(' · '); // the whole line, where a narrow pane cuts it

		setText(acceptButton, s.task.acceptLabel);
		acceptButton.title = s.task.acceptHint;
		acceptButton.disabled = !canAccept(c);
		// A task whose candidates are not a new version of the selection has no diff to show.
		show(toggle, s.task.diffable);
		show(openDiffButton, s.task.diffable);
		if (!s.task.diffable) mode = 'text';
		openDiffButton.disabled = !c.text;
		copyButton.disabled = !c.text;
		setAttr(textTab, 'aria-pressed', String(mode === 'text'));
		setAttr(diffTab, 'aria-pressed', String(mode === 'diff'));

		const message = detailPlaceholder(c, s);
		setText(placeholder, message);
		placeholder.classList.toggle('error', c.status === 'failed');
		show(placeholder, message !== '');
		const markdown = s.task.detail === 'markdown';
		show(wrapToggle, !markdown); // rendered Markdown always wraps
		show(pre, mode === 'text' && !markdown && !!c.text);
		show(markdownView, mode === 'text' && markdown && !!c.text);
		show(diffView, mode === 'diff' && !!c.text);

		// Keep the reader's place while the same candidate grows or is rebuilt; another candidate
		// starts at its top.
		const sameCandidate = lastId === c.id;
		lastId = c.id;
		const layout = `${mode} ${markdown} ${wrap} ${!!c.text} ${message !== ''}`;
		let rebuilt = layout !== shownLayout;
		shownLayout = layout;
		// A streaming candidate is shown plain and only appended to, so a reader's selection in it
		// survives; once finished it is highlighted, in the selection's language, once.
		const highlight = c.status !== 'streaming';
		if (mode === 'text' && markdown) {
			if (shownMarkdown?.id !== c.id || shownMarkdown.text !== c.text) {
				markdownView.replaceChildren(renderMarkdown(c.text, { openLink: href => actions.openLink(href) }));
				shownMarkdown = { id: c.id, text: c.text };
				rebuilt = true;
			}
			shownText = undefined;
			shownDiff = undefined;
		} else if (mode === 'text') {
			shownMarkdown = undefined;
			const lines = highlight ? highlights.lines(`candidate ${c.id}`, c.text, s.languageId) : undefined;
			if (lines) {
				if (shownText?.id !== c.id || shownText.text !== c.text || !shownText.highlighted) {
					pre.replaceChildren(tokenLinesFragment(lines));
					rebuilt = true;
				}
			} else {
				// New words go in a text node of their own: the browser then lays out and repaints the
				// lines they fall on, where growing one node repaints all of the text shown so far.
				const shown = shownText;
				if (
					shown?.id === c.id &&
					!shown.highlighted &&
					c.text.startsWith(shown.text) &&
					pre.textContent === showHidden(shown.text)
				) {
					if (c.text.length > shown.text.length) pre.append(showHidden(c.text.slice(shown.text.length)));
				} else if (pre.childNodes.length !== 1 || pre.textContent !== showHidden(c.text)) {
					pre.replaceChildren(showHidden(c.text));
					rebuilt = true;
				}
			}
			shownText = { id: c.id, text: c.text, highlighted: !!lines };
			shownDiff = undefined;
		} else {
			const diff = diffs.of(c, s.original);
			if (shownDiff?.id !== c.id || shownDiff.rows !== diff || shownDiff.highlighted !== highlight) {
				const tokens = highlight
					? highlightDiffRows(
							diff,
							highlights.lines('original', s.original, s.languageId),
							highlights.lines(`candidate ${c.id}`, c.text, s.languageId),
						)
					: [];
				// A fragment, not a spread: a huge diff would overflow the argument list.
				const rows = document.createDocumentFragment();
				diff.forEach((row, i) => rows.append(renderDiffRow(row, tokens[i])));
				diffView.replaceChildren(rows);
				shownDiff = { id: c.id, rows: diff, highlighted: highlight };
				rebuilt = true;
			}
			shownText = undefined;
			shownMarkdown = undefined;
		}
		place.afterDraw(sameCandidate, rebuilt);
	}

	return {
		root,
		reset(toTop) {
			lastId = undefined;
			shownText = undefined;
			shownDiff = undefined;
			shownMarkdown = undefined;
			shownLayout = undefined;
			highlights.clear();
			if (toTop) place.toTop();
		},
		scrollPage: direction => {
			body.scrollBy({ top: direction * 0.9 * body.clientHeight });
			// A key's scroll, read now: a draw before its scroll event must not put the pane back.
			place.scrolled();
		},
		render,
	};
}

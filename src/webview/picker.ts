/**
 * The picker webview (browser bundle). It draws the snapshot written into its first page, speaks
 * (`ready`), then redraws from every `state` snapshot; the only state of its own is which candidate is active and the detail view mode (see
 * `persisted.ts`). This entry owns that state, the messages and the actions; the views only draw.
 *
 * Model output is untrusted text: it only ever reaches the page through text nodes.
 */
import { PAGE_STATE_ID, type CandidateView, type HostToWebview, type PickerState, type WebviewToHost } from '../core/protocol';
import { createDetailView } from './detailView';
import { DiffCache } from './diffCache';
import { createHeaderView, createLegendView } from './headerView';
import { keyAction, type KeyAction } from './keyboard';
import { createListView } from './listView';
import { frameScheduler } from './frames';
import { createLiveRegions } from './liveRegions';
import { restorePersisted, type Persisted } from './persisted';
import {
	acceptBlockedHint,
	announceCandidate,
	canAccept,
	isRunning,
	moveSelection,
	reconcileSelection,
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

const vscode = acquireVsCodeApi();

let persisted = restorePersisted(vscode.getState());
let selection = persisted.selection;
let mode: ViewMode = persisted.mode;
let wrap = persisted.wrap;
let state: PickerState | undefined;

function persist(): void {
	persisted = { v: 1, selection, mode, wrap, announcedRunId: persisted.announcedRunId };
	vscode.setState(persisted);
}

function post(message: WebviewToHost): void {
	vscode.postMessage(message);
}

// ---- the page, built once; renders only update it ----------------------------------------------

const app = document.getElementById('app') ?? document.body;
const diffs = new DiffCache();
const list = createListView(diffs, { select, accept: acceptId });

/** Buttons hand focus back to the list after acting, so the keys keep working after a click. */
function clicked<A extends unknown[]>(action: (...args: A) => void): (...args: A) => void {
	return (...args) => {
		action(...args);
		list.focus();
	};
}

const header = createHeaderView({
	cancel: clicked(() => post({ type: 'cancel' })),
	regenerate: clicked(regenerate),
	showLog: clicked(() => post({ type: 'showLog' })),
	setupReward: clicked(() => post({ type: 'setupReward' })),
	refocus: () => list.focus(),
});
const detail = createDetailView(diffs, {
	setMode: clicked(setMode),
	toggleWrap: clicked(toggleWrap),
	accept: clicked(acceptActive),
	openDiff: clicked(openDiff),
	copy: clicked(copy),
	openLink: href => post({ type: 'openLink', href }),
});
const live = createLiveRegions();
const legend = createLegendView();

// Replaces the static first paint the HTML carries (pickerHtml.ts), if any.
app.replaceChildren(header.root, list.root, list.empty, detail.root, live.hint, legend.root, live.announcer);

/** A candidate that became active by a snapshot, scrolled into view once drawn. */
let revealInFrame: number | undefined;
const frames = frameScheduler(
	() => {
		draw();
		if (revealInFrame !== undefined) list.reveal(revealInFrame);
		revealInFrame = undefined;
	},
	callback => requestAnimationFrame(callback),
);

/** Draws now (after a key or a click), including whatever a pending frame would have drawn. */
function render(): void {
	if (!frames.flush()) draw();
}

function draw(): void {
	if (!state) return;
	header.render(state);
	list.render(state, selection.activeId);
	detail.render(state, selection.activeId, mode, wrap);
	legend.render(state, wrap);
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
		list.reveal(next.activeId);
		live.announce(announceCandidate(state, next.activeId));
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
	if (!state) return;
	const c = state.candidates.find(x => x.id === id);
	if (c && canAccept(c)) post({ type: 'accept', id });
	else live.showHint(acceptBlockedHint(state, id));
}

function acceptActive(): void {
	if (selection.activeId !== undefined) acceptId(selection.activeId);
}

/** A digit only moves: Enter applies what it shows. */
function moveTo(position: number): void {
	if (!state) return;
	const c = state.candidates[position];
	if (c) select(c.id);
	else live.showHint(`There is no candidate ${position + 1}.`);
}

function openDiff(): void {
	const c = activeCandidate();
	if (!c || !state) return;
	if (!state.task.diffable) {
		live.showHint('These candidates are not versions of the selection, so there is no diff.');
		return;
	}
	if (c.text) post({ type: 'openDiff', id: c.id });
	else live.showHint('This candidate has no text to compare yet.');
}

function copy(): void {
	const c = activeCandidate();
	if (!c) return;
	if (c.text) post({ type: 'copy', id: c.id });
	else live.showHint('This candidate has no text to copy yet.');
}

function regenerate(): void {
	if (!state) return;
	if (isRunning(state.phase)) live.showHint('Regenerate is available once this run has ended; Esc cancels it.');
	else post({ type: 'regenerate' });
}

function escape(): void {
	post(state && isRunning(state.phase) ? { type: 'cancel' } : { type: 'close' });
}

function setMode(next: ViewMode): void {
	if (mode === next) return;
	if (next === 'diff' && state && !state.task.diffable) {
		live.showHint('These candidates are not versions of the selection, so there is no diff.');
		return;
	}
	mode = next;
	persist();
	render();
}

function toggleWrap(): void {
	wrap = !wrap;
	persist();
	render();
	live.announce(wrap ? 'Wrapping long lines' : 'Not wrapping long lines');
}

function run(action: KeyAction): void {
	switch (action.kind) {
		case 'move':
			return move(action.move);
		case 'page':
			return detail.scrollPage(action.direction);
		case 'moveTo':
			return moveTo(action.index);
		case 'accept':
			return acceptActive();
		case 'escape':
			return escape();
		case 'toggleView':
			return setMode(mode === 'text' ? 'diff' : 'text');
		case 'toggleWrap':
			return toggleWrap();
		case 'openDiff':
			return openDiff();
		case 'copy':
			return copy();
		case 'regenerate':
			return regenerate();
		default: {
			const never: never = action;
			void never;
		}
	}
}

// ---- messages from the host --------------------------------------------------------------------

function onState(next: PickerState): void {
	const newRun = state?.runId !== next.runId;
	const wasDone = state?.runId === next.runId && state.phase === 'done';
	state = next;
	if (newRun) {
		// Candidate ids are unique only within a run: what was cached or shown for an id is stale.
		diffs.clear();
		detail.reset(selection.runId !== next.runId);
	}
	const before = selection;
	selection = reconcileSelection(selection, next);
	if (before.activeId !== selection.activeId || before.runId !== selection.runId || before.pinned !== selection.pinned) persist();
	if (before.activeId !== selection.activeId && selection.activeId !== undefined) revealInFrame = selection.activeId;
	frames.request();
	const ranked = next.candidates.some(c => c.rank !== undefined);
	if (next.phase === 'done' && !wasDone && ranked && persisted.announcedRunId !== next.runId) {
		persisted = { ...persisted, announcedRunId: next.runId };
		vscode.setState(persisted);
		live.announce('Ranking complete');
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

document.addEventListener('keydown', e => {
	const action = keyAction(e, e.target instanceof HTMLButtonElement);
	if (!action) return;
	run(action);
	e.preventDefault();
});
// Keyboard first: whenever the panel gets focus back, the list has it.
window.addEventListener('focus', () => {
	if (document.activeElement === document.body || document.activeElement === null) list.focus();
});
/**
 * The snapshot the host wrote into the panel's first page, read as text and parsed, never run. A page
 * that finds saved state of its own is a reload (the panel was hidden and shown again): what its HTML
 * holds is old by then, so it waits for the newest from the host.
 */
function pageState(reloaded: boolean): PickerState | undefined {
	const text = reloaded ? undefined : document.getElementById(PAGE_STATE_ID)?.textContent;
	if (!text) return undefined;
	try {
		const message: unknown = { type: 'state', state: JSON.parse(text) as unknown };
		return isHostMessage(message) ? message.state : undefined;
	} catch {
		return undefined;
	}
}

const written = pageState(vscode.getState() !== undefined);
persist(); // from now on a load of this panel's page is a reload
if (written) {
	onState(written);
	render(); // now, not in the next frame: the first paint already shows the run
}
list.focus();
post(written ? { type: 'ready', drewPageState: true } : { type: 'ready' });

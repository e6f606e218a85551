/**
 * The webview's own state, kept with `vscode.setState` so a hidden-and-reshown panel comes back
 * where the user left it. Read back from `unknown`: a stored value is only as trusted as the bundle
 * that wrote it.
 */
import type { Selection, ViewMode } from './view';

export interface Persisted {
	readonly v: 1;
	readonly selection: Selection;
	readonly mode: ViewMode;
	/** Long lines wrap in the detail pane; on unless the user turned it off (W). */
	readonly wrap: boolean;
	/** The run whose "Ranking complete" was already spoken, so a reload does not repeat it. */
	readonly announcedRunId?: number;
}

export function restorePersisted(stored: unknown): Persisted {
	const s = stored as Partial<Persisted> | undefined;
	const sel = s?.selection;
	const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
	return {
		v: 1,
		selection: { runId: num(sel?.runId), activeId: num(sel?.activeId), pinned: sel?.pinned === true },
		mode: s?.mode === 'diff' ? 'diff' : 'text',
		wrap: s?.wrap !== false,
		announcedRunId: num(s?.announcedRunId),
	};
}

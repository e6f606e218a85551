/**
 * The line diff of each candidate against the original, shared by the list (its +/− stats and
 * preview) and the detail pane. Recomputed only when the candidate's text or the original changes,
 * and the same array is returned until then: the detail pane compares by identity to skip a rebuild.
 */
import type { CandidateView } from '../core/protocol';
import { diffRows, type DiffRow } from './view';

export class DiffCache {
	private readonly entries = new Map<number, { text: string; original: string; rows: DiffRow[] }>();

	of(c: CandidateView, original: string): DiffRow[] {
		const hit = this.entries.get(c.id);
		if (hit && hit.text === c.text && hit.original === original) return hit.rows;
		const computed = diffRows(original, c.text);
		this.entries.set(c.id, { text: c.text, original, rows: computed });
		return computed;
	}

	delete(id: number): void {
		this.entries.delete(id);
	}

	clear(): void {
		this.entries.clear();
	}
}

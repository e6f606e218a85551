/**
 * Keeps an explanation on the lines it explains while the document is edited. The anchor is the
 * offset span of those whole lines: edits above move it, edits below leave it, edits inside it keep
 * it (marked edited, since the explanation may no longer fit), and an edit that replaces all of its
 * text removes it, so it never points at lines it did not explain. Offsets are UTF-16 code units, as
 * in VS Code's `TextDocumentContentChangeEvent`.
 */
import type { TextChange } from './trackedRange';

export class LineAnchor {
	private _removed = false;
	private _edited = false;

	constructor(
		private _start: number,
		private _end: number,
	) {}

	get start(): number {
		return this._start;
	}

	get end(): number {
		return this._end;
	}

	/** The explained text is gone (deleted or replaced as a whole). */
	get removed(): boolean {
		return this._removed;
	}

	/** Some of the explained text was edited since. */
	get edited(): boolean {
		return this._edited;
	}

	/** Applies the changes of one document-change event, in the order VS Code lists them. */
	update(changes: readonly TextChange[]): void {
		for (const change of changes) if (!this._removed) this.apply(change);
	}

	private apply({ rangeOffset, rangeLength, text }: TextChange): void {
		const changeEnd = rangeOffset + rangeLength;
		const delta = text.length - rangeLength;
		if (changeEnd <= this._start) {
			// above (an insertion right at the start pushes the lines down)
			this._start += delta;
			this._end += delta;
		} else if (rangeOffset >= this._end) {
			// below, including typing at the end of the last line
		} else if (rangeOffset <= this._start && changeEnd >= this._end) {
			this._removed = true;
		} else if (rangeOffset < this._start) {
			// from above into the lines: what is left of them starts after the new text
			this._edited = true;
			this._end += delta;
			this._start = rangeOffset + text.length;
		} else if (changeEnd > this._end) {
			// from inside the lines to below them
			this._edited = true;
			this._end = rangeOffset + text.length;
		} else {
			this._edited = true;
			this._end += delta;
		}
	}
}

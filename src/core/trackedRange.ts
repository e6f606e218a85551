/**
 * Follows the selection a run rewrites while the user keeps typing. Edits before it shift it; an edit
 * that touches it marks it changed, so the result is never applied over text the user has since
 * edited. Offsets are UTF-16 code units, as in VS Code's `TextDocumentContentChangeEvent`.
 */

export interface TextChange {
	/** Offset where the replaced text started, before the change. */
	readonly rangeOffset: number;
	/** Length of the replaced text. */
	readonly rangeLength: number;
	/** Inserted text. */
	readonly text: string;
}

export class TrackedRange {
	private _changed = false;

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

	/** True once an edit touched the range (or the document was replaced). */
	get changed(): boolean {
		return this._changed;
	}

	/** Apply the changes of one document-change event, in the order VS Code lists them. */
	update(changes: readonly TextChange[]): void {
		for (const change of changes) this.apply(change);
	}

	private apply({ rangeOffset, rangeLength, text }: TextChange): void {
		const changeEnd = rangeOffset + rangeLength;
		const delta = text.length - rangeLength;
		if (changeEnd <= this._start && !(rangeLength === 0 && rangeOffset === this._start && this._start === this._end)) {
			// entirely before (an insertion exactly at the start pushes the range along)
			this._start += delta;
			this._end += delta;
		} else if (rangeOffset >= this._end && !(rangeOffset === this._end && rangeLength === 0 && this._start === this._end)) {
			// entirely after: nothing moves
		} else {
			this._changed = true;
		}
	}
}

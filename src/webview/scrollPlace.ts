/**
 * Where the detail pane is scrolled to, known without asking the page while it draws. Reading
 * `scrollTop` after a draw has changed the DOM makes the browser lay the page out there and then,
 * inside the animation frame (and again at its end): on a streaming candidate that was two forced
 * layouts a snapshot. The pane's scroll events (fired before the frame's callbacks) and what the
 * picker sets itself say where it is; the pane is only written to when a draw could have moved it.
 */
export interface Scrollable {
	scrollTop: number;
}

export class ScrollPlace {
	private top = 0;

	constructor(private readonly pane: Scrollable) {}

	/** The pane scrolled (its `scroll` event, or a scroll the picker just made): note where it is. */
	scrolled(): void {
		this.top = this.pane.scrollTop;
	}

	/**
	 * After a draw. Another candidate starts at its top; the same one keeps the reader's place, which
	 * only rebuilding what the pane shows (a new view, highlighted text) can have lost. Text appended to
	 * a streaming candidate moves nothing, so that draw writes nothing.
	 */
	afterDraw(sameCandidate: boolean, rebuilt: boolean): void {
		if (!sameCandidate) this.toTop();
		// At the top, a rebuild leaves it there: nothing to write.
		else if (rebuilt && this.top !== 0) this.pane.scrollTop = this.top;
	}

	/** Back to the top (a new run, another candidate), unless already there. */
	toTop(): void {
		if (this.top === 0) return;
		this.pane.scrollTop = 0;
		this.top = 0;
	}
}

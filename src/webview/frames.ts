/**
 * Drawing paced by the display: however many snapshots arrive between two frames (the host sends
 * one per 100 ms while streaming, more when candidates finish together), the page is drawn once, in
 * the next animation frame, from the newest. Work the browser would throw away is never done.
 */
export interface FrameScheduler {
	/** Draw in the next frame (once, however often asked before it). */
	request(): void;
	/** Draws now if a frame was asked for (a key press must see the newest state at once); whether it drew. */
	flush(): boolean;
}

export function frameScheduler(draw: () => void, requestFrame: (callback: () => void) => void): FrameScheduler {
	let pending = false;
	const run = () => {
		if (!pending) return false;
		pending = false;
		draw();
		return true;
	};
	return {
		request() {
			if (pending) return;
			pending = true;
			requestFrame(() => void run());
		},
		flush: run,
	};
}

/**
 * Readies the heap a scorer's first pass at a new length takes, in slices small enough that a request
 * arriving meanwhile waits at most one of them.
 *
 * Why: a fresh scorer's first score is 1.2–1.8 × its second because onnxruntime's arena takes 26–140 MB
 * of fresh pages at its first pass at that length, and the kernel hands out and zeroes each page as it
 * is first written (bench/RESULTS.md, "The first score after the load"). A pass cannot be cut short
 * (onnxruntime-node runs it on the worker's thread), so doing that pass early makes a request arriving
 * during it wait for all of it ("A warm-up pass at a pair's length when the CPU is idle"). Writing the
 * pages from JavaScript can stop between any two slices. The pages are written in one block malloc'd
 * from glibc's main heap, then freed: glibc keeps them (the scorer process is started with
 * `MALLOC_MMAP_MAX_=0`, so no block bypasses the heap, neither this one nor the arena's 32 and 64 MB
 * regions, and `MALLOC_TRIM_THRESHOLD_` above any touch, so the freed top is not given back), and the
 * arena's next regions are carved out of them (bench/RESULTS.md, "Pre-touching the heap in slices").
 */

import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';

/** What a touch did. */
export interface HeapTouched {
	/** Bytes written (less than asked when a request stopped it). */
	readonly bytes: number;
	readonly slices: number;
	/** The longest slice, in the clock's milliseconds: what a request arriving during one waits at most. */
	readonly longestMs: number;
	/** Whether `stop` ended it before all was written. */
	readonly stopped: boolean;
	/** How long giving the block back took (the event loop turns meanwhile). */
	readonly freeMs: number;
}

export interface HeapTouchOptions {
	/** Checked before every slice: true ends the touch at once. */
	readonly stop: () => boolean;
	/** Lets the event loop read messages between slices (default: one `setImmediate`). */
	readonly yieldTo?: () => Promise<void>;
	/** A slice writes 64 kB pieces until this long has passed (default 2 ms). */
	readonly sliceMs?: number;
	readonly now?: () => number;
	/** The block (default `Buffer.allocUnsafeSlow`: malloc, no pages written). */
	readonly allocate?: (bytes: number) => Uint8Array;
	/** Gives the block's memory back to glibc (default `freeBlock`). */
	readonly free?: (block: Uint8Array) => Promise<void>;
}

/** One piece of a slice: 16 pages, well under a millisecond even on a busy VM. */
export const TOUCH_PIECE = 64 * 1024;

export async function touchHeap(bytes: number, options: HeapTouchOptions): Promise<HeapTouched> {
	const yieldTo = options.yieldTo ?? (() => new Promise<void>(resolve => setImmediate(resolve)));
	const sliceMs = options.sliceMs ?? 2;
	const now = options.now ?? (() => performance.now());
	const block = bytes > 0 ? (options.allocate ?? Buffer.allocUnsafeSlow)(bytes) : undefined;
	let written = 0;
	let slices = 0;
	let stopped = false;
	let freeMs = 0;
	let longestMs = 0;
	try {
		while (block && written < bytes) {
			if (options.stop()) {
				stopped = true;
				break;
			}
			const start = now();
			do {
				const end = Math.min(bytes, written + TOUCH_PIECE);
				block.fill(1, written, end);
				written = end;
			} while (written < bytes && now() - start < sliceMs);
			slices++;
			longestMs = Math.max(longestMs, now() - start);
			if (written < bytes) await yieldTo();
		}
	} finally {
		if (block) {
			const start = now();
			await (options.free ?? freeBlock)(block);
			freeMs = now() - start;
		}
	}
	return { bytes: written, slices, longestMs, stopped, freeMs };
}

/**
 * Frees a block's memory now, not at some later garbage collection (a full one takes 7–15 ms in the
 * scorer, a request's wait): its ArrayBuffer is moved into a message on a channel that is then closed,
 * and closing drops the message and with it the memory (in glibc's heap again, for the arena). Resolves
 * once both ends are closed, i.e. the memory is back. The block is detached (empty) afterwards.
 */
export async function freeBlock(block: Uint8Array): Promise<void> {
	const { port1, port2 } = new MessageChannel();
	const closed = Promise.all([once(port1, 'close'), once(port2, 'close')]);
	// A Buffer from `allocUnsafeSlow` owns its whole ArrayBuffer (never a shared one, never the pool's).
	const buffer = block.buffer as ArrayBuffer;
	port1.postMessage(buffer, [buffer]);
	port1.close();
	port2.close();
	await closed;
}

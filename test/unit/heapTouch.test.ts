/**
 * The heap the scorer readies after its warm-up (src/reward/heapTouch.ts) and its size
 * (src/reward/scorer.ts `firstPassBytes`). On a fake clock: a slice ends once its time has passed, and a
 * request stops the touch between two slices; the block is freed either way.
 */
import * as assert from 'node:assert/strict';
import { firstPassBytes, touchLength } from '../../src/reward/scorer';
import { freeBlock, touchHeap, TOUCH_PIECE } from '../../src/reward/heapTouch';

const MB = 2 ** 20;

/** A clock that moves 1 ms each time a piece is written, and a block that notes what was written. */
function fakeBlock(bytes: number) {
	let clock = 0;
	const block = new Uint8Array(bytes);
	const fill = block.fill.bind(block);
	block.fill = (value: number, start?: number, end?: number) => {
		clock += 1;
		return fill(value, start, end);
	};
	const freed: Uint8Array[] = [];
	return {
		block,
		freed,
		options: {
			now: () => clock,
			allocate: (n: number) => (assert.equal(n, bytes), block),
			free: async (b: Uint8Array) => void freed.push(b),
		},
	};
}

describe('readying the heap in slices (heapTouch.ts)', () => {
	it('writes every byte in slices of about `sliceMs` and frees the block', async () => {
		const bytes = 10 * TOUCH_PIECE + 100;
		const f = fakeBlock(bytes);
		let yields = 0;
		const done = await touchHeap(bytes, { ...f.options, sliceMs: 3, stop: () => false, yieldTo: async () => void yields++ });
		assert.deepEqual({ bytes: done.bytes, slices: done.slices, stopped: done.stopped }, { bytes, slices: 4, stopped: false });
		assert.equal(done.longestMs, 3, 'no slice goes on past its time (3 pieces of 1 ms each)');
		assert.equal(yields, 3, 'the event loop turns between slices, not after the last');
		assert.ok(
			f.block.every(v => v === 1),
			'every page written',
		);
		assert.deepEqual(f.freed, [f.block]);
	});

	it('stops between slices as soon as a request has come, writes no more, and still frees the block', async () => {
		const bytes = 64 * TOUCH_PIECE;
		const f = fakeBlock(bytes);
		let requested = false;
		let yields = 0;
		const done = await touchHeap(bytes, {
			...f.options,
			sliceMs: 2,
			stop: () => requested,
			// The request arrives while the event loop turns after the second slice.
			yieldTo: async () => {
				if (++yields === 2) requested = true;
			},
		});
		assert.deepEqual(
			{ bytes: done.bytes, slices: done.slices, stopped: done.stopped },
			{ bytes: 4 * TOUCH_PIECE, slices: 2, stopped: true },
		);
		assert.ok(
			f.block.subarray(4 * TOUCH_PIECE).every(v => v === 0),
			'nothing written after the request',
		);
		assert.deepEqual(f.freed, [f.block]);
	});

	it('touches nothing for 0 bytes', async () => {
		const done = await touchHeap(0, { stop: () => false, allocate: () => assert.fail('no block for 0 bytes') });
		assert.deepEqual({ bytes: done.bytes, slices: done.slices, stopped: done.stopped }, { bytes: 0, slices: 0, stopped: false });
	});

	it('frees a block at once, without waiting for a garbage collection: its memory is detached', async () => {
		const block = Buffer.allocUnsafeSlow(4 * MB);
		block.fill(1);
		await freeBlock(block);
		assert.equal(block.buffer.byteLength, 0, 'the ArrayBuffer no longer holds its memory');
	});
});

describe('the heap a first pass takes, from the model’s shape (firstPassBytes)', () => {
	const bert = { num_attention_heads: 12, hidden_size: 768 };
	const deberta = { num_attention_heads: 12, relative_attention: true, position_buckets: 256, max_relative_positions: -1 };

	it('is about what the bench models’ first pass took fresh (within 10 % under, 30 % over)', () => {
		// The resident memory the first pass added, MiB (bench/RESULTS.md, "Pre-touching the heap in
		// slices"): BERT-base fp32 40 at 374 tokens and 55 at 483; DeBERTa-v3-base fp32 112 at 414 and
		// 126 at 512. The bench's touch covers the model's longest input (512), so over is what it costs.
		for (const [config, length, measured] of [
			[bert, 374, 40],
			[bert, 483, 55],
			[deberta, 414, 112],
			[deberta, 512, 126],
		] as const) {
			const mb = firstPassBytes(config, length) / MB;
			assert.ok(mb >= measured * 0.9 && mb <= measured * 1.3, `${length} tokens: ${mb.toFixed(0)} MB against ${measured}`);
		}
	});

	it('grows with the heads and the length, and with relative attention’s span', () => {
		assert.equal(firstPassBytes({ num_attention_heads: 16 }, 512), (16 / 12) * firstPassBytes(bert, 512));
		assert.ok(firstPassBytes(bert, 512) > 1.5 * firstPassBytes(bert, 400));
		assert.equal(firstPassBytes(deberta, 512), 2 * firstPassBytes(bert, 512), '512 tokens and a span of 512 relative positions');
		// A config without the fields: a base-sized encoder's 12 heads.
		assert.equal(firstPassBytes({}, 512), firstPassBytes(bert, 512));
	});

	it('is readied for the longest input in fp32 and fp16, and for 256 tokens at most in a quantized dtype', () => {
		for (const dtype of ['fp32', 'fp16'] as const) assert.equal(touchLength(dtype, 512), 512, dtype);
		for (const dtype of ['q8', 'int8', 'uint8', 'q4'] as const) {
			assert.equal(touchLength(dtype, 512), 256, dtype);
			assert.equal(touchLength(dtype, 128), 128, `${dtype}, a model whose longest input is shorter`);
		}
		// What the 8-bit bench models' first pass took at the quick pair (374 / 414 tokens), MiB
		// (bench/RESULTS.md): readying no more than that leaves their peak where it was.
		for (const [config, measured] of [
			[bert, 25],
			[deberta, 85],
		] as const) {
			const mb = firstPassBytes(config, touchLength('q8', 512)) / MB;
			assert.ok(mb <= measured, `${mb.toFixed(0)} MB readied against ${measured} taken`);
		}
	});
});

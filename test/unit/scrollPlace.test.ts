/** The detail pane keeps the reader's place without asking the page where it is while drawing. */
import * as assert from 'node:assert/strict';
import { ScrollPlace } from '../../src/webview/scrollPlace';

/** A pane that counts what the picker reads and writes (each of which can make the browser lay out). */
function pane(scrollTop = 0) {
	const p = {
		top: scrollTop,
		reads: 0,
		writes: [] as number[],
		get scrollTop() {
			p.reads++;
			return p.top;
		},
		set scrollTop(value: number) {
			p.writes.push(value);
			p.top = value;
		},
	};
	return p;
}

describe('ScrollPlace', () => {
	it('a streaming candidate growing in place is drawn without reading or moving the pane', () => {
		const body = pane();
		const place = new ScrollPlace(body);
		body.top = 120; // the reader scrolled down…
		place.scrolled(); // …and the pane said so
		const readsBefore = body.reads;
		for (let i = 0; i < 5; i++) place.afterDraw(true, false);
		assert.equal(body.reads, readsBefore, 'no reads while drawing');
		assert.deepEqual(body.writes, []);
		assert.equal(body.top, 120, 'the reader stays where they were');
	});

	it('the same candidate rebuilt (highlighted once finished) is put back where the reader was', () => {
		const body = pane();
		const place = new ScrollPlace(body);
		body.top = 300;
		place.scrolled();
		body.top = 0; // replacing the content let the browser reset it
		place.afterDraw(true, true);
		assert.equal(body.top, 300);
	});

	it('a candidate that gets its first text, read from the top, is drawn without touching the pane', () => {
		const body = pane();
		const place = new ScrollPlace(body);
		place.afterDraw(true, true);
		assert.deepEqual(body.writes, []);
		assert.equal(body.reads, 0);
	});

	it('another candidate starts at its top', () => {
		const body = pane();
		const place = new ScrollPlace(body);
		body.top = 80;
		place.scrolled();
		place.afterDraw(false, true);
		assert.equal(body.top, 0);
		assert.deepEqual(body.writes, [0]);
	});

	it('switching candidates while already at the top writes nothing', () => {
		const body = pane();
		const place = new ScrollPlace(body);
		place.afterDraw(false, true);
		place.toTop();
		assert.deepEqual(body.writes, []);
	});

	it('a scroll the picker made itself (PageDown) is kept by the next rebuild', () => {
		const body = pane();
		const place = new ScrollPlace(body);
		body.top = 450; // scrollBy, before its scroll event
		place.scrolled();
		place.afterDraw(true, true); // V toggles the view at once
		assert.equal(body.top, 450);
	});
});

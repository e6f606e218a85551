import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { showHidden } from '../../src/core/hiddenText';

describe('hidden characters shown in the picker and inline explanations', () => {
	it('shows bidi controls and terminal escapes as their code points', () => {
		const trojan = 'if (isAdmin) { /*\u202e } \u2066if (isAdmin)\u2069 \u2066 begin admins only */';
		assert.equal(showHidden(trojan), 'if (isAdmin) { /*<U+202E> } <U+2066>if (isAdmin)<U+2069> <U+2066> begin admins only */');
		assert.equal(showHidden('\x1b[31mred\x1b[0m\x07'), '<U+001B>[31mred<U+001B>[0m<U+0007>');
		assert.equal(showHidden('one-byte CSI \x9b2J'), 'one-byte CSI <U+009B>2J');
	});

	it('keeps tabs, line breaks and every other character: emoji, right-to-left letters, combining marks', () => {
		const text = 'tab\there\r\nשלום עולם 👩‍💻 e\u0301 𝔸 مرحبا';
		assert.equal(showHidden(text), text);
	});

	it('can be applied piece by piece as text streams in', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary' }), fc.nat(), (text, cut) => {
				const at = cut % (text.length + 1);
				assert.equal(showHidden(text.slice(0, at)) + showHidden(text.slice(at)), showHidden(text));
			}),
		);
	});
});

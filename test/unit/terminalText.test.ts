/* eslint-disable no-control-regex -- the tests look for control characters */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { forTerminal, jsonForTerminal } from '../../src/core/terminalText';

const ESC = '\x1b';

describe('text for a terminal', () => {
	it('removes what a hostile reply could do to a terminal', () => {
		const cases: [string, string][] = [
			[`${ESC}[2J${ESC}[Hcleared`, 'cleared'], // clear screen, cursor home
			[`${ESC}]0;pwned${ESC}\\title`, 'title'], // window title (OSC ended by ST)
			[`${ESC}]52;c;ZWNobyBoaQ==\x07clip`, 'clip'], // clipboard write (OSC 52, ended by BEL)
			[`${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`, 'click'], // hyperlink
			[`vis${ESC}[8mhidden${ESC}[0mible`, 'vishiddenible'], // concealed text stays, without the concealment
			['a\rb', 'ab'], // carriage return could overwrite the line shown
			['bell\x07\x08\x00', 'bell'],
			['one-byte CSI \x9b2J', 'one-byte CSI 2J'],
			['tabs\tand\nlines\r\n', 'tabs\tand\nlines\n'],
		];
		for (const [input, want] of cases) assert.equal(forTerminal(input), want, JSON.stringify(input));
	});

	it('shows bidi controls instead of letting them reorder code', () => {
		// The Trojan Source example: the comment appears to end before `return`.
		const trojan = 'if (isAdmin) { /*\u202e } \u2066if (isAdmin)\u2069 \u2066 begin admins only */';
		assert.equal(forTerminal(trojan), 'if (isAdmin) { /*<U+202E> } <U+2066>if (isAdmin)<U+2069> <U+2066> begin admins only */');
	});

	it('keeps every other character: Unicode text, emoji, right-to-left letters, combining marks', () => {
		const text = 'const π = "שלום 😀 é" // 中文\n\tdone';
		assert.equal(forTerminal(text), text);
	});

	it('never leaves an escape or control character, whatever the input', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary' }), s => {
				assert.doesNotMatch(forTerminal(s), /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
			}),
			{ numRuns: 2000 },
		);
	});

	it('writes JSON that parses to the same value, with no raw control or bidi characters', () => {
		fc.assert(
			fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, s) => {
				const data = { value, s: `${s}\u202e${ESC}[2J\x9b` };
				const json = jsonForTerminal(JSON.stringify(data, null, 2));
				assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(data)));
				assert.doesNotMatch(json, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
			}),
			{ numRuns: 500 },
		);
	});
});

import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseWebviewMessage, type WebviewToHost } from '../../src/core/protocol';
import { cleanReply, matchIndentation, type ReplyContext } from '../../src/core/replyCleaning';
import { TrackedRange } from '../../src/core/trackedRange';
import { at, defined } from '../fixtures/present';

// Properties over generated inputs, next to the example-based suites. fast-check shrinks a failure to a
// small counterexample and prints its seed, so a failing run can be replayed exactly.

const runs = { numRuns: 300 };

/** A line of code: starts with something visible, has no trailing blanks, is never a fence line. */
const codeChar = fc.constantFrom(...'abcxyzABC019_(){}[];:=+-*/<>!?.,"\'#$%&|^ \t\u00e9\u4e2d\u{1F600}'.split(''));
const codeLine = fc
	.tuple(fc.constantFrom('', '  ', '    ', '\t'), fc.constantFrom(...'abcxyzR_({[}]);/'.split('')), fc.array(codeChar, { maxLength: 30 }))
	.map(([indent, first, rest]) => (indent + first + rest.join('')).replace(/\s+$/, ''));
/** A few lines of code, flush left overall (its first line carries no indentation). */
const code = fc
	.tuple(codeLine, fc.array(codeLine, { maxLength: 8 }))
	.map(([first, rest]) => [first.trimStart(), ...rest].join('\n'))
	.filter(text => !/^\s*<think>|^\s*<<</.test(text));

const jsContext = (selection: string): ReplyContext => ({ selection, languageId: 'javascript', instruction: 'make it shorter' });

describe('properties: reply cleaning', () => {
	it('takes any flush-left code back out of a fenced reply, with or without chat around it', () => {
		fc.assert(
			fc.property(
				code,
				fc.constantFrom('', 'Here is the rewritten code:\n\n', "Sure! Here's a shorter version:\n"),
				fc.constantFrom('', '\n\nThis version is shorter.', '\n'),
				fc.constantFrom('javascript', 'js', ''),
				(body, before, after, tag) => {
					const reply = `${before}\`\`\`${tag}\n${body}\n\`\`\`${after}`;
					assert.equal(cleanReply(reply, jsContext('let a = 1;')), body);
				},
			),
			runs,
		);
	});

	it('is idempotent: cleaning what it returned changes nothing', () => {
		const reply = fc.oneof(
			code,
			code.map(body => `\`\`\`js\n${body}\n\`\`\``),
			code.map(body => `Here is the code:\n\n\`\`\`js\n${body}\n\`\`\`\n\nThis is shorter.`),
		);
		const selection = fc.oneof(
			code,
			code.map(c => c.replace(/^/gm, '    ')),
			code.map(c => `${c}\n`),
		);
		fc.assert(
			fc.property(reply, selection, (raw, sel) => {
				const once = cleanReply(raw, jsContext(sel));
				assert.equal(cleanReply(once, jsContext(sel)), once);
			}),
			runs,
		);
	});

	it('leaves a reply alone when it is the selection itself and the selection has fences of its own', () => {
		const markdownWithFences = fc
			.tuple(fc.array(codeLine, { maxLength: 3 }), code, fc.array(codeLine, { maxLength: 3 }), fc.constantFrom('```', '~~~', '````'))
			.map(([pre, body, post, fence]) =>
				[...pre.map(l => l.trim()), `${fence}ts`, body, fence, ...post.map(l => l.trim())].join('\n'),
			);
		fc.assert(
			fc.property(markdownWithFences, fc.constantFrom('markdown', 'plaintext'), (selection, languageId) => {
				assert.equal(cleanReply(selection, { selection, languageId, instruction: 'fix typos' }), selection);
			}),
			runs,
		);
	});

	it('never lets CRLF in the reply reach the result', () => {
		fc.assert(
			fc.property(code, body => {
				const reply = `\`\`\`js\r\n${body.replace(/\n/g, '\r\n')}\r\n\`\`\``;
				assert.equal(cleanReply(reply, jsContext('x;')), body);
			}),
			runs,
		);
	});
});

describe('properties: indentation matching', () => {
	const indent = fc.constantFrom('  ', '    ', '\t', '\t\t');

	it('gives a flush-left candidate the indentation every selection line has, and nothing else changes', () => {
		fc.assert(
			fc.property(indent, code, code, (want, selectionBody, candidate) => {
				const selection = selectionBody.replace(/^(?=.)/gm, want);
				const result = matchIndentation(selection, candidate);
				const lines = result.split('\n');
				const original = candidate.split('\n');
				assert.equal(lines.length, original.length);
				lines.forEach((line, i) => {
					const before = at(original, i);
					assert.equal(line, before.trim() ? want + before : before);
				});
			}),
			runs,
		);
	});

	it('does not indent twice a reply to a selection that starts mid-line and already has its indentation', () => {
		// Found by the idempotence property: `foo();\n  bar();` selected from mid-line came back as `foo();\n    bar();`.
		fc.assert(
			fc.property(indent, code, code, (want, selectionBody, candidateBody) => {
				const [first, ...rest] = candidateBody.split('\n');
				fc.pre(rest.some(l => l.trim()));
				const selection = selectionBody.replace(/^(?=.)/gm, want).trimStart() + '\n' + want + 'x';
				const candidate = [first, ...rest.map(l => (l.trim() ? want + l : l))].join('\n');
				assert.equal(matchIndentation(selection, candidate), candidate);
			}),
			runs,
		);
	});

	it('leaves an already indented candidate, or a flush-left selection, exactly as it is', () => {
		fc.assert(
			fc.property(indent, code, code, (want, selection, candidate) => {
				const indented = candidate.replace(/^(?=.)/gm, want);
				assert.equal(matchIndentation(selection.replace(/^(?=.)/gm, '  '), indented), indented);
				const flush = selection.replace(/^[ \t]+/gm, '');
				assert.equal(matchIndentation(flush, candidate), candidate);
			}),
			runs,
		);
	});
});

describe('properties: tracked range', () => {
	/** A document, a range in it, and a list of edits, each at a random offset of the document as it then is. */
	const scenario = fc
		.tuple(
			fc.string({ minLength: 1, maxLength: 60 }),
			fc.nat(),
			fc.nat(),
			fc.array(fc.tuple(fc.nat(), fc.nat({ max: 10 }), fc.string({ maxLength: 8 })), { maxLength: 12 }),
		)
		.map(([doc, a, b, edits]) => {
			const s = a % (doc.length + 1);
			const e = s + (b % (doc.length - s + 1));
			return { doc, s, e, edits };
		});

	it('either says the range changed or still holds exactly the selected text, through any edits', () => {
		fc.assert(
			fc.property(scenario, ({ doc, s, e, edits }) => {
				const selected = doc.slice(s, e);
				const range = new TrackedRange(s, e);
				let text = doc;
				for (const [at, len, insert] of edits) {
					const rangeOffset = at % (text.length + 1);
					const rangeLength = Math.min(len, text.length - rangeOffset);
					text = text.slice(0, rangeOffset) + insert + text.slice(rangeOffset + rangeLength);
					range.update([{ rangeOffset, rangeLength, text: insert }]);
				}
				if (!range.changed) {
					assert.ok(range.start >= 0 && range.end <= text.length && range.start <= range.end);
					assert.equal(text.slice(range.start, range.end), selected);
				}
			}),
			{ numRuns: 1000 },
		);
	});

	it('marks the range changed by any edit strictly inside it or over it', () => {
		fc.assert(
			fc.property(
				scenario,
				fc.nat(),
				fc.nat({ max: 10 }),
				fc.string({ minLength: 1, maxLength: 5 }),
				({ doc, s, e }, at, len, insert) => {
					fc.pre(e - s >= 2);
					const rangeOffset = s + 1 + (at % (e - s - 1));
					const range = new TrackedRange(s, e);
					range.update([{ rangeOffset, rangeLength: Math.min(len, doc.length - rangeOffset), text: insert }]);
					assert.ok(range.changed);
				},
			),
			runs,
		);
	});

	it('follows edits before it and ignores edits after it without marking a change', () => {
		fc.assert(
			fc.property(
				scenario,
				fc.boolean(),
				fc.nat(),
				fc.nat({ max: 10 }),
				fc.string({ maxLength: 5 }),
				({ doc, s, e }, before, at, len, insert) => {
					fc.pre(s < e);
					const range = new TrackedRange(s, e);
					const rangeOffset = before ? at % (s + 1) : e + (at % (doc.length - e + 1));
					const rangeLength = before ? Math.min(len, s - rangeOffset) : Math.min(len, doc.length - rangeOffset);
					range.update([{ rangeOffset, rangeLength, text: insert }]);
					assert.ok(!range.changed);
					const shift = before ? insert.length - rangeLength : 0;
					assert.deepEqual([range.start, range.end], [s + shift, e + shift]);
				},
			),
			runs,
		);
	});
});

describe('properties: webview message parsing', () => {
	const KNOWN: Record<string, readonly string[]> = {
		ready: [],
		cancel: [],
		regenerate: [],
		close: [],
		showLog: [],
		setupReward: [],
		accept: ['id'],
		openDiff: ['id'],
		copy: ['id'],
		openLink: ['href'],
	};

	it('never throws on any value, and passes only well-formed messages with only their own fields', () => {
		const hostile = fc.oneof(
			fc.anything({ withBigInt: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true }),
			fc.record({
				type: fc.constantFrom(...Object.keys(KNOWN), '__proto__', 'constructor', 'toString'),
				id: fc.anything(),
				href: fc.anything(),
			}),
			fc.record({ type: fc.constantFrom('accept', 'openDiff', 'copy'), id: fc.oneof(fc.integer(), fc.double(), fc.string()) }),
			fc.record({
				type: fc.constant('openLink'),
				href: fc.oneof(
					fc.webUrl(),
					fc.string(),
					fc.constantFrom('javascript:alert(1)', 'command:workbench.action.terminal.new', 'file:///etc/passwd', 'vscode://x'),
				),
			}),
		);
		fc.assert(
			fc.property(hostile, value => {
				const m = parseWebviewMessage(value);
				if (m === undefined) return;
				assert.ok(Object.hasOwn(KNOWN, m.type));
				assert.deepEqual(Object.keys(m).sort(), ['type', ...defined(KNOWN[m.type], `the fields of ${m.type}`)].sort());
				if ('id' in m) assert.ok(Number.isSafeInteger(m.id) && m.id >= 0 && m.id <= 1000);
				if (m.type === 'openLink') assert.match(new URL(m.href).protocol, /^(https?|mailto):$/);
			}),
			{ numRuns: 2000 },
		);
	});

	it('passes every valid message through unchanged', () => {
		const valid: fc.Arbitrary<WebviewToHost> = fc.oneof(
			fc.constantFrom<WebviewToHost>(
				{ type: 'ready' },
				{ type: 'cancel' },
				{ type: 'regenerate' },
				{ type: 'close' },
				{ type: 'showLog' },
				{ type: 'setupReward' },
			),
			fc.record({
				type: fc.constantFrom('accept' as const, 'openDiff' as const, 'copy' as const),
				id: fc.integer({ min: 0, max: 1000 }),
			}),
			fc.webUrl({ validSchemes: ['http', 'https'] }).map(url => ({ type: 'openLink' as const, href: new URL(url).href })),
		);
		fc.assert(
			fc.property(valid, message => assert.deepEqual(parseWebviewMessage(JSON.parse(JSON.stringify(message))), { ...message })),
			runs,
		);
	});
});

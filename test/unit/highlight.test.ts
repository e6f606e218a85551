import * as assert from 'node:assert/strict';
import hljs from 'highlight.js/lib/core';
import javascript from 'highlight.js/lib/languages/javascript';
import { grammarFor, highlightDiffRows, highlightLines, parseHighlighted, type Token } from '../../src/webview/highlight';
import { diffRows } from '../../src/webview/view';

const textOf = (lines: readonly (readonly Token[])[]) => lines.map(l => l.map(t => t.text).join('')).join('\n');
const scopesOf = (lines: readonly (readonly Token[])[], text: string) => lines.flat().find(t => t.text === text)?.scopes;

describe('picker highlighting', () => {
	const hostile = [
		'const html = "<img src=x onerror=alert(1)>"; // </span><script>alert(2)</script>',
		'/* a block comment',
		'   over two lines */ function f(a) { return `<b>${a}</b>&amp;`; }',
	].join('\n');

	it('highlight.js escapes hostile text in its HTML (what the tokens are read back from)', () => {
		const html = hljs.newInstance();
		html.registerLanguage('javascript', javascript);
		const value = html.highlight(hostile, { language: 'javascript' }).value;
		assert.ok(value.includes('&lt;img src=x onerror=alert(1)&gt;'));
		assert.ok(!/<(img|script|b)\b/.test(value), value);
		assert.ok(value.includes('&amp;amp;'), 'an entity in the input stays text');
	});
	it('gives back exactly the input text, in tokens whose scopes are highlight.js class names only', () => {
		const lines = highlightLines(hostile, 'javascript');
		assert.ok(lines);
		assert.equal(textOf(lines), hostile);
		for (const t of lines.flat()) for (const scope of t.scopes) assert.match(scope, /^hljs-[a-z]+(-[a-z]+)*( [a-z]+_*)*$/, scope);
		// The markup in the string and the comment is text in a string and a comment token.
		assert.deepEqual(scopesOf(lines, '"<img src=x onerror=alert(1)>"'), ['hljs-string']);
		assert.deepEqual(scopesOf(lines, '// </span><script>alert(2)</script>'), ['hljs-comment']);
		assert.deepEqual(scopesOf(lines, 'const'), ['hljs-keyword']);
		// A block comment is a comment on each of its lines, and a template's substitution sits in the string.
		assert.deepEqual(scopesOf(lines, '/* a block comment'), ['hljs-comment']);
		assert.deepEqual(scopesOf(lines, '   over two lines */'), ['hljs-comment']);
		assert.deepEqual(scopesOf(lines, '${a}'), ['hljs-string', 'hljs-subst']);
	});
	it('highlights HTML selections as markup, still as text', () => {
		const lines = highlightLines('<img src=x onerror=alert(1)>\n<p>&amp;</p>', 'html');
		assert.ok(lines);
		assert.equal(textOf(lines), '<img src=x onerror=alert(1)>\n<p>&amp;</p>');
		assert.deepEqual(scopesOf(lines, 'onerror'), ['hljs-tag', 'hljs-attr']);
	});
	it('maps VS Code language ids to the curated grammars, and leaves others plain', () => {
		assert.equal(grammarFor('typescriptreact'), 'typescript');
		assert.equal(grammarFor('shellscript'), 'bash');
		assert.equal(grammarFor('jsonc'), 'json');
		assert.equal(highlightLines('just words', 'plaintext'), undefined);
		assert.equal(highlightLines('x', 'constructor'), undefined, 'no prototype lookups');
		assert.equal(highlightLines(`let a = 1;\n`.repeat(20_000), 'javascript'), undefined, 'too long to be worth it');
		for (const id of ['python', 'go', 'rust', 'java', 'csharp', 'cpp', 'ruby', 'php', 'sql', 'yaml', 'css', 'markdown']) {
			const lines = highlightLines('x = "s" # 1\n', id);
			assert.ok(lines, id);
			assert.equal(textOf(lines), 'x = "s" # 1\n', id);
		}
	});
	it('refuses anything in the HTML that highlight.js would not write', () => {
		assert.deepEqual(parseHighlighted('<span class="hljs-keyword">if</span> a &lt; b'), [
			{ text: 'if', scopes: ['hljs-keyword'] },
			{ text: ' a < b', scopes: [] },
		]);
		for (const bad of ['<img src=x>', '<span class="a" onclick="x">t</span>', '<span class="x">t', 't</span>', 'a & b', '&nbsp;']) {
			assert.throws(() => parseHighlighted(bad), Error, bad);
		}
	});
	it('colours each diff row from its own side: removed from the selection, added and kept from the candidate', () => {
		const original = 'function total(items) {\n  let sum = 0; // "old"\n  return sum;\n}\n';
		const candidate = 'function total(items) {\n  return items.reduce((s, i) => s + i, 0);\n}';
		const rows = diffRows(original, candidate);
		const tokens = highlightDiffRows(rows, highlightLines(original, 'javascript'), highlightLines(candidate, 'javascript'));
		assert.equal(tokens.length, rows.length);
		rows.forEach((row, i) => assert.equal(tokens[i]?.map(t => t.text).join(''), row.text, `row ${i}: ${row.kind} ${row.text}`));
		const removed = tokens[rows.findIndex(r => r.text.includes('let sum'))];
		assert.deepEqual(removed?.find(t => t.text.startsWith('//'))?.scopes, ['hljs-comment']);
		// Without highlighting (plain text, unknown language) every row is shown plain.
		assert.deepEqual(
			highlightDiffRows(rows, undefined, undefined),
			rows.map(() => undefined),
		);
	});
});

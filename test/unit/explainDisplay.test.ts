/**
 * The pure parts of showing explanations: the comment syntax read from language configuration files,
 * an explanation laid out as a comment, and the anchor that keeps it on its lines through edits.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { formatAsComment, htmlAsText, textLines, withoutImages } from '../../src/core/commentFormat';
import { findCommentSyntax, languageConfigurations, parseCommentSyntax, type LanguageSource } from '../../src/core/commentSyntax';
import { LineAnchor } from '../../src/core/lineAnchor';
import { at, defined } from '../fixtures/present';

describe('comment syntax from a language configuration', () => {
	// The `comments` sections as the built-in extensions of VS Code declare them.
	const builtIn: [string, string, object][] = [
		[
			'typescript',
			'{"comments":{"lineComment":"//","blockComment":["/*","*/"]},"brackets":[["{","}"]]}',
			{ line: '//', block: ['/*', '*/'] },
		],
		['python', '{"comments":{"lineComment":"#","blockComment":["\\"\\"\\"","\\"\\"\\""]}}', { line: '#', block: ['"""', '"""'] }],
		['rust', '{"comments":{"lineComment":"//","blockComment":["/*","*/"]}}', { line: '//', block: ['/*', '*/'] }],
		['html', '{"comments":{"blockComment":["<!--","-->"]},"brackets":[["<!--","-->"]]}', { block: ['<!--', '-->'] }],
		['sql', '{"comments":{"lineComment":"--","blockComment":["/*","*/"]}}', { line: '--', block: ['/*', '*/'] }],
		['shellscript', '{"comments":{"lineComment":"#"}}', { line: '#' }],
	];
	for (const [language, json, want] of builtIn) {
		it(`reads ${language}'s`, () => assert.deepEqual(parseCommentSyntax(json), want));
	}

	it("reads an extension's file with comments, trailing commas and the object form of lineComment", () => {
		const elixirLike = `{
			// Comment tokens of the language
			"comments": {
				"lineComment": { "comment": ";;", "noIndent": false }, /* newer VS Code form */
				"blockComment": ["#|", "|#"],
			},
			"brackets": [["(", ")"],],
		}`;
		assert.deepEqual(parseCommentSyntax(elixirLike), { line: ';;', block: ['#|', '|#'] });
	});

	it("finds a language's configuration in whichever extension's manifest contributes it", () => {
		// An installed extension's package.json, as vscode.extensions.all gives it (shape of the Elixir extension's).
		const installed = {
			name: 'elixir-ls',
			contributes: {
				languages: [
					{
						id: 'elixir',
						aliases: ['Elixir'],
						extensions: ['.ex', '.exs'],
						configuration: './elixir-language-configuration.json',
					},
					{ id: 'eex', configuration: './eex-language-configuration.json' },
					{ id: 'html-eex' },
				],
				grammars: [],
			},
		};
		assert.deepEqual(languageConfigurations(installed, 'elixir'), ['./elixir-language-configuration.json']);
		assert.deepEqual(languageConfigurations(installed, 'html-eex'), [], 'a language without a configuration');
		assert.deepEqual(languageConfigurations(installed, 'python'), []);
		assert.deepEqual(languageConfigurations({ name: 'themes-only', contributes: { themes: [] } }, 'elixir'), []);
		assert.deepEqual(languageConfigurations(undefined, 'elixir'), []);
	});

	it("looks up a language an installed extension contributes, from that extension's own files", async () => {
		// Two extensions on disk as VS Code installs them: one whose configuration file is broken, then
		// one that contributes Elixir (a language VS Code does not ship) with a JSONC configuration.
		const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-ext-'));
		const install = (name: string, files: Record<string, string>): LanguageSource => {
			const dir = path.join(root, name);
			for (const [file, text] of Object.entries(files)) {
				fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
				fs.writeFileSync(path.join(dir, file), text);
			}
			return {
				id: `publisher.${name}`,
				manifest: JSON.parse(defined(files['package.json'], `${name}'s package.json`)),
				read: relative => fs.promises.readFile(path.join(dir, relative), 'utf8'),
			};
		};
		const manifest = (configuration: string) =>
			JSON.stringify({ name: 'x', contributes: { languages: [{ id: 'elixir', extensions: ['.ex'], configuration }] } });
		try {
			const broken = install('elixir-broken', { 'package.json': manifest('./lang.json'), 'lang.json': '{"comments": {' });
			const elixir = install('elixir-ls', {
				'package.json': manifest('./syntaxes/elixir-language-configuration.json'),
				'syntaxes/elixir-language-configuration.json': `{
					// as elixir-ls ships it
					"comments": { "lineComment": "#", },
					"brackets": [["do", "end"], ["(", ")"]],
				}`,
			});
			const warnings: string[] = [];
			const found = await findCommentSyntax([broken, elixir], 'elixir', w => warnings.push(w));
			assert.deepEqual(found, { line: '#' });
			assert.equal(warnings.length, 1);
			assert.match(at(warnings, 0), /^comment syntax of elixir from publisher\.elixir-broken: not a language configuration/);
			assert.equal(await findCommentSyntax([broken, elixir], 'gleam', () => assert.fail('nothing to warn about')), undefined);
		} finally {
			fs.rmSync(root, { recursive: true, force: true });
		}
	});

	it('has none for a language without comments, and reports a broken file', () => {
		assert.equal(parseCommentSyntax('{"brackets":[]}'), undefined);
		assert.equal(parseCommentSyntax('{"comments":{"lineComment":"","blockComment":["<"]}}'), undefined);
		assert.throws(() => parseCommentSyntax('{"comments": '), /not a language configuration/);
	});
});

describe('an explanation as a comment', () => {
	const explanation = [
		'Sums the **price** of every item with `reduce`, starting from 0, so an empty cart totals 0.',
		'',
		'- Assumes every `price` is a number; a string would be concatenated instead.',
		'* See [MDN](https://developer.mozilla.org/) ![diagram](https://example.com/a.png)',
		'',
		'```ts',
		'items.reduce((s, i) => s + i.price, 0) // a long line of code that stays as it is, however long it may be',
		'```',
	].join('\n');

	it('uses line comments, indented like the code, wrapped to the width', () => {
		const text = formatAsComment(explanation, { line: '//', block: ['/*', '*/'] }, { indent: '\t', indentColumns: 4, width: 60 });
		assert.equal(
			text,
			[
				'\t// Sums the **price** of every item with `reduce`,',
				'\t// starting from 0, so an empty cart totals 0.',
				'\t//',
				'\t// - Assumes every `price` is a number; a string would',
				'\t//   be concatenated instead.',
				'\t// - See MDN (https://developer.mozilla.org/) diagram',
				'\t//',
				'\t// items.reduce((s, i) => s + i.price, 0) // a long line of code that stays as it is, however long it may be',
				'',
			].join('\n'),
		);
		for (const line of text.split('\n').slice(0, 7)) assert.ok(line.replace('\t', '    ').length <= 60, line);
	});

	it('uses one block comment where the language has no line comment, which the text cannot close', () => {
		const text = formatAsComment(
			'Renders the list. Never write --> here.',
			{ block: ['<!--', '-->'] },
			{ indent: '  ', indentColumns: 2, width: 80 },
		);
		assert.equal(text, '  <!--\n    Renders the list. Never write --> here.\n  -->\n'.replace('write -->', 'write -- >'));
	});

	it('drops headings marks and keeps paragraphs apart', () => {
		assert.deepEqual(textLines('## What it does\nAdds.\n\n\nReturns.', 80), ['What it does', 'Adds.', '', 'Returns.']);
	});
});

describe('an explanation shown inline', () => {
	// The comment thread is drawn by VS Code from Markdown; an image there would be fetched from its host.
	const md = new MarkdownIt();
	const images = (markdown: string) =>
		md
			.parse(markdown, {})
			.flatMap(t => t.children ?? [])
			.filter(t => t.type === 'image')
			.map(t => t.attrGet('src'));

	it('shows every form of Markdown image as its alt text, with nothing left to load', () => {
		const cases: [string, string][] = [
			['![pixel](https://evil.example/p.png)', '[image: pixel]'],
			['![pixel][p]\n\n[p]: https://evil.example/p.png', '[image: pixel]\n\n[p]: https://evil.example/p.png'],
			['![p][]\n\n[p]: https://evil.example/p.png', '[image: p]\n\n[p]: https://evil.example/p.png'],
			['![p]\n\n[p]: https://evil.example/p.png', '[image: p]\n\n[p]: https://evil.example/p.png'],
			['![a [nested] alt](https://evil.example/p.png)', '[image: a [nested] alt](https://evil.example/p.png)'],
			['![a ![b](https://evil.example/b.png)](https://evil.example/a.png)', '[image: a !\\[b]](https://evil.example/a.png)'],
			['!![x](u)', '![image: x]'.replace('![', '!\\[')],
		];
		for (const [source, shown] of cases) {
			assert.deepEqual(images(source).length > 0, true, `the case is an image to start with: ${source}`);
			assert.equal(withoutImages(source), shown);
			assert.deepEqual(images(withoutImages(source)), [], source);
		}
	});

	it('leaves no image in any text, whatever its brackets', () => {
		const piece = fc.constantFrom('!', '[', ']', '(', ')', '\\', '`', 'a', ' ', '\n', 'u', ':', '![', '](u)', '[a]: u\n');
		fc.assert(
			fc.property(fc.array(piece, { maxLength: 40 }), parts => {
				const shown = withoutImages(`${parts.join('')}\n\n[a]: u\n[]: u\n`);
				assert.ok(!shown.includes('!['), shown);
				assert.deepEqual(images(shown), [], shown);
			}),
			{ numRuns: 2000 },
		);
	});
});

describe('HTML in an explanation shown inline', () => {
	// VS Code draws the thread's Markdown with HTML recognised and then dropped; the picker renders the
	// same Markdown with HTML as text. Parsed as VS Code does (HTML on), ours must show what the picker
	// shows (HTML off), with no HTML left to drop.
	const picker = new MarkdownIt({ html: false });
	const thread = new MarkdownIt({ html: true });
	const htmlTokens = (markdown: string) =>
		thread
			.parse(markdown, {})
			.flatMap(t => [t, ...(t.children ?? [])])
			.filter(t => t.type === 'html_inline' || t.type === 'html_block')
			.map(t => t.content);

	it('keeps tags, generics and comments as text, and leaves code, escapes and links alone', () => {
		const cases: [string, string][] = [
			['Returns an `Option<T>` or a Vec<u8>.', 'Returns an `Option<T>` or a Vec&lt;u8>.'],
			['Wraps it in a <div> and a </span>.', 'Wraps it in a &lt;div> and a &lt;/span>.'],
			['<!-- a note --> and <?php echo ?>', '&lt;!-- a note --> and &lt;?php echo ?>'],
			['<div class="x">\n  *inside*\n</div>', '&lt;div class="x">\n  *inside*\n&lt;/div>'],
			['```html\n<div>kept</div>\n```', '```html\n<div>kept</div>\n```'],
			['Text.\n\n    <pre>indented code</pre>', 'Text.\n\n    <pre>indented code</pre>'],
			['a < b and \\<b> and <https://example.com> and [x](<a b>)', 'a < b and \\<b> and <https://example.com> and [x](<a b>)'],
			['> - a <b>quoted</b> item', '> - a &lt;b>quoted&lt;/b> item'],
		];
		for (const [source, shown] of cases) {
			assert.equal(htmlAsText(source), shown, source);
			assert.deepEqual(htmlTokens(htmlAsText(source)), [], source);
			assert.equal(thread.render(htmlAsText(source)), picker.render(source), source);
		}
	});

	it('shows what the picker shows, for explanations made of prose, tags, code and lists', () => {
		const word = fc.constantFrom(
			'the',
			'returns',
			'a',
			'<div>',
			'</div>',
			'<T>',
			'Vec<u8>',
			'<br/>',
			'<!-- note -->',
			'a < b',
			'`<span>`',
			'`a<b>`',
			'``x ` <i>``',
			'**<b>bold</b>**',
			'[link](https://example.com)',
			'<https://example.com>',
			'\\<b>',
		);
		const paragraph = fc.array(word, { minLength: 1, maxLength: 8 }).map(w => w.join(' '));
		const block = fc.oneof(
			paragraph,
			paragraph.map(p => `- ${p}`),
			paragraph.map(p => `1. ${p}`),
			paragraph.map(p => `> ${p}`),
			paragraph.map(p => `## ${p}`),
			paragraph.map(p => `${p}\n${p}`),
			fc.constant('```html\n<div>\n  <b>code</b>\n</div>\n```'),
			fc.constant('    <pre>indented code</pre>'),
			fc.constant('<div>\n<p>a block</p>\n</div>'),
		);
		fc.assert(
			fc.property(fc.array(block, { minLength: 1, maxLength: 6 }), blocks => {
				const source = blocks.join('\n\n');
				const shown = htmlAsText(source);
				assert.deepEqual(htmlTokens(shown), [], shown);
				assert.equal(thread.render(shown), picker.render(source), source);
			}),
			{ numRuns: 1000 },
		);
	});
});

describe('LineAnchor', () => {
	// "a\nBB\nCC\nd": the anchor is lines 1–2, offsets 2..7 ("BB\nCC").
	const anchor = () => new LineAnchor(2, 7);

	it('moves with edits above and ignores edits below', () => {
		const a = anchor();
		a.update([{ rangeOffset: 0, rangeLength: 0, text: 'new line\n' }]);
		assert.deepEqual([a.start, a.end, a.removed, a.edited], [11, 16, false, false]);
		a.update([{ rangeOffset: 17, rangeLength: 1, text: 'xyz' }]);
		assert.deepEqual([a.start, a.end, a.edited], [11, 16, false]);
		a.update([{ rangeOffset: 0, rangeLength: 11, text: '' }]);
		assert.deepEqual([a.start, a.end, a.removed], [0, 5, false]);
	});

	it('stays, marked edited, when the lines are edited inside', () => {
		const a = anchor();
		a.update([{ rangeOffset: 3, rangeLength: 1, text: 'bbb' }]);
		assert.deepEqual([a.start, a.end, a.removed, a.edited], [2, 9, false, true]);
	});

	it('goes away when its lines are deleted or replaced as a whole', () => {
		const deleteLines = anchor();
		deleteLines.update([{ rangeOffset: 2, rangeLength: 6, text: '' }]);
		assert.equal(deleteLines.removed, true);
		const lastLinesToo = anchor();
		lastLinesToo.update([{ rangeOffset: 1, rangeLength: 6, text: '' }]);
		assert.equal(lastLinesToo.removed, true);
		const pasted = anchor();
		pasted.update([{ rangeOffset: 0, rangeLength: 9, text: 'other' }]);
		assert.equal(pasted.removed, true);
	});

	it('keeps what is left when an edit reaches in from above or below', () => {
		const fromAbove = anchor();
		fromAbove.update([{ rangeOffset: 1, rangeLength: 4, text: '' }]); // "a" + "\nBB\n" gone, "CC" left
		assert.deepEqual([fromAbove.start, fromAbove.end, fromAbove.edited, fromAbove.removed], [1, 3, true, false]);
		const toBelow = anchor();
		toBelow.update([{ rangeOffset: 4, rangeLength: 5, text: '!' }]); // "\nCC\nd" → "!"
		assert.deepEqual([toBelow.start, toBelow.end, toBelow.edited], [2, 5, true]);
	});
});

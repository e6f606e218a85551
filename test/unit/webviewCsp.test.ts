import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { buildPickerHtml } from '../../src/vscode/pickerHtml';
import { at, defined } from '../fixtures/present';

// Every webview the extension opens, found in the sources rather than listed by hand, so a new panel
// (an explanation view, a report) that builds its own HTML fails here until it gets the same policy.

const src = path.resolve(__dirname, '../../src');
const sources = fs
	.readdirSync(src, { recursive: true, withFileTypes: true })
	.filter(e => e.isFile() && e.name.endsWith('.ts'))
	.map(e => ({
		file: path.relative(src, path.join(e.parentPath, e.name)),
		text: fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'),
	}));

/** The CSP directives of a page, by name. */
function policy(html: string): Map<string, string[]> {
	const metas = html.match(/<meta http-equiv="Content-Security-Policy" content="[^"]*">/g) ?? [];
	assert.equal(metas.length, 1, 'exactly one CSP meta tag');
	const content = defined(/content="([^"]*)"/.exec(at(metas, 0))?.[1], 'the CSP meta tag’s content')
		.replace(/&#39;/g, "'")
		.replace(/&amp;/g, '&');
	const directives = new Map<string, string[]>();
	for (const d of content
		.split(';')
		.map(x => x.trim())
		.filter(Boolean)) {
		const [first, ...values] = d.split(/\s+/);
		const name = defined(first, `the directive name in "${d}"`);
		assert.ok(!directives.has(name), `directive ${name} given twice`);
		directives.set(name, values);
	}
	return directives;
}

function assertStrict(html: string, nonce: string, cspSource: string): void {
	const csp = policy(html);
	assert.deepEqual(csp.get('default-src'), ["'none'"]);
	assert.deepEqual(csp.get('script-src'), [`'nonce-${nonce}'`], 'scripts only with this render’s nonce');
	for (const [name, values] of csp) {
		for (const v of values) {
			assert.doesNotMatch(v, /unsafe-inline|unsafe-eval|unsafe-hashes|wasm-unsafe|strict-dynamic/, `${name} ${v}`);
			// Nothing remote: only the webview's own resource origin, the nonce and 'none'.
			assert.ok(v === "'none'" || v === `'nonce-${nonce}'` || cspSource.split(/\s+/).includes(v), `${name} allows ${v}`);
		}
	}
	assert.ok(!csp.has('connect-src') && !csp.has('frame-src') && !csp.has('child-src'), 'no network, no frames');
	const scripts = html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? [];
	assert.ok(scripts.length >= 1);
	for (const s of scripts) {
		assert.ok(s.includes(` nonce="${nonce}"`), s);
		assert.match(s, /^<script\b[^>]*\bsrc="[^"]+"[^>]*><\/script>$/, 'external script, no inline body');
	}
	// Markup only: the title is escaped text, checked on its own.
	const markup = html.replace(/<title>[\s\S]*?<\/title>/, '<title></title>');
	assert.doesNotMatch(markup, /\son[a-z]+\s*=|javascript:|<style\b|\sstyle=|<iframe|<object|<embed|<base\b/i);
}

describe('webview content security policy', () => {
	it('builds every webview page through buildPickerHtml, and sets no HTML any other way', () => {
		const panels = sources.filter(s => /createWebviewPanel|registerWebviewViewProvider|createWebviewView/.test(s.text));
		assert.ok(panels.length >= 2, `found the picker and the report: ${panels.map(p => p.file).join(', ')}`);
		for (const s of sources.filter(x => /\.html\s*=/.test(x.text) && x.file.startsWith('vscode'))) {
			const assignments = s.text.match(/\.html\s*=\s*[^;]*/g) ?? [];
			for (const a of assignments) assert.match(a, /\.html\s*=\s*buildPickerHtml\(/, `${s.file}: ${a.slice(0, 80)}`);
		}
		for (const p of panels) assert.match(p.text, /buildPickerHtml\(/, `${p.file} opens a webview without the shared page`);
	});

	it('is strict for every nonce and resource origin a render can have, and the title cannot break out', () => {
		const nonce = fc.base64String({ minLength: 16, maxLength: 44 }).filter(n => n.length > 0);
		const origin = fc.constantFrom(
			"'self' https://*.vscode-cdn.net",
			'https://file+.vscode-resource.vscode-cdn.net',
			'vscode-webview://abc',
		);
		const title = fc.oneof(
			fc.string(),
			fc.constantFrom('</title><script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "'; script-src *"),
		);
		fc.assert(
			fc.property(nonce, origin, title, (n, cspSource, t) => {
				const html = buildPickerHtml({
					cspSource,
					nonce: n,
					scriptUri: 'https://x.vscode-cdn.net/dist/picker.js',
					styleUri: 'https://x.vscode-cdn.net/media/p.css',
					title: t,
				});
				assertStrict(html, n, cspSource);
				const shownTitle = defined(/<title>([\s\S]*)<\/title>/.exec(html)?.[1], 'the page’s <title>');
				assert.doesNotMatch(shownTitle, /[<>"]/);
			}),
			{ numRuns: 300 },
		);
	});

	it('gets a fresh nonce on each render in the picker and the report', () => {
		for (const s of sources.filter(
			x => /buildPickerHtml\(/.test(x.text) && x.file.startsWith('vscode') && !x.file.endsWith('pickerHtml.ts'),
		)) {
			assert.match(
				s.text,
				/nonce:\s*(crypto\.)?randomBytes\(|nonce\s*=\s*(crypto\.)?randomBytes\(|makeNonce\(|nonce\(\)/,
				`${s.file} makes its nonce from random bytes`,
			);
		}
	});
});

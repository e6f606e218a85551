/**
 * README.md is the marketplace page: its settings table must name every setting package.json declares,
 * with the same default, and nothing else. A row may name several settings (`a`, `b` | 0.8, 0.95); one
 * default for several means all share it. The rest of the front page is checked here too: what the
 * manifest shows in the Extensions view and on the marketplace, and the files beside it.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readManifest } from '../fixtures/manifest';
import { at, defined } from '../fixtures/present';

const root = path.resolve(__dirname, '../..');
const manifest = readManifest(path.join(root, 'package.json'));
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

/** The table rows of the README section headed exactly `## Settings`, as [settings cell, default cell]. */
function settingsRows(text: string): [string, string][] {
	const lines = text.split(/\r?\n/);
	const start = lines.findIndex(l => /^## Settings\s*$/.test(l));
	assert.ok(start >= 0, 'README has a "## Settings" section');
	const rows: [string, string][] = [];
	for (const line of lines.slice(start + 1)) {
		if (/^#{1,2} /.test(line)) break;
		if (!line.startsWith('|')) continue;
		const cells = line.split('|').map(c => c.trim());
		if (!cells[1]?.includes('bestOfN.')) continue; // the header and its rule
		rows.push([cells[1], cells[2] ?? '']);
	}
	return rows;
}

/** What the table says a default is, in the manifest's terms: `empty` is "", numbers bare, the rest in backticks. */
function parseDefault(cell: string): unknown {
	const text = cell.replace(/^`|`$/g, '');
	if (cell === 'empty') return '';
	if (cell === '`true`' || cell === '`false`') return cell === '`true`';
	if (/^-?\d+(\.\d+)?$/.test(cell)) return Number(cell);
	if (/^`[[{]/.test(cell)) return JSON.parse(text) as unknown;
	return text;
}

function tableDefaults(text: string): Map<string, unknown> {
	const found = new Map<string, unknown>();
	for (const [names, defaults] of settingsRows(text)) {
		const keys = [...names.matchAll(/`(bestOfN\.[\w.]+)`/g)].map(m => defined(m[1], 'the setting name'));
		const values = defaults.split(/,\s+/);
		assert.ok(
			values.length === keys.length || values.length === 1,
			`row "${names}" gives ${values.length} defaults for ${keys.length} settings`,
		);
		keys.forEach((key, i) => {
			assert.ok(!found.has(key), `${key} has two rows`);
			found.set(key, parseDefault(values.length === 1 ? defaults : at(values, i)));
		});
	}
	return found;
}

describe('README settings table matches package.json', () => {
	const declared = manifest.contributes.configuration.properties;
	const table = tableDefaults(readme);

	it('lists every declared setting with its default', () => {
		for (const [key, { default: value }] of Object.entries(declared)) {
			assert.ok(table.has(key), `${key} is not in README's settings table`);
			assert.deepEqual(table.get(key), value, `README's default of ${key}`);
		}
	});

	it('lists no setting that package.json does not declare', () => {
		for (const key of table.keys()) assert.ok(key in declared, `README lists ${key}, which package.json does not declare`);
	});

	it('notices a missing row and a wrong default', () => {
		const row = /^\| `bestOfN\.candidates` \| 4 \|.*$/m;
		assert.match(readme, row);
		assert.equal(tableDefaults(readme.replace(row, '')).has('bestOfN.candidates'), false);
		assert.equal(tableDefaults(readme.replace(row, '| `bestOfN.candidates` | 5 | N |')).get('bestOfN.candidates'), 5);
	});
});

/** Width and height from a PNG's IHDR chunk (the first chunk after the 8-byte signature). */
function pngSize(file: string): { width: number; height: number } {
	const b = fs.readFileSync(file);
	assert.equal(b.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${file} is a PNG`);
	assert.equal(b.subarray(12, 16).toString('ascii'), 'IHDR');
	return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('the front page', () => {
	const m = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
		displayName?: string;
		description?: string;
		icon?: string;
		categories?: string[];
		keywords?: string[];
		galleryBanner?: { color?: string; theme?: string };
		license?: string;
	};

	it('has a name, a one-sentence description and a 128×128 PNG icon made from a committed source', () => {
		assert.equal(m.displayName, 'Best-of-N');
		assert.match(m.description ?? '', /^[A-Z][^.]*\.$/, 'one sentence');
		assert.equal(m.icon, 'media/icon.png');
		assert.deepEqual(pngSize(path.join(root, 'media/icon.png')), { width: 128, height: 128 });
		assert.ok(fs.existsSync(path.join(root, 'media/icon.svg')), 'its source, rendered by scripts/make-icon.js');
	});

	it('is filed under marketplace categories, with keywords within the limit and a banner', () => {
		// The marketplace's category list (vsce does not check it); it allows at most 30 keywords.
		const known = [
			'AI',
			'Chat',
			'Machine Learning',
			'Programming Languages',
			'Snippets',
			'Linters',
			'Formatters',
			'Education',
			'Other',
		];
		assert.ok(m.categories?.length, 'categories');
		for (const c of m.categories ?? []) assert.ok(known.includes(c), `category ${c}`);
		assert.ok((m.keywords?.length ?? 0) > 0 && (m.keywords?.length ?? 0) <= 30, 'keywords');
		assert.match(m.galleryBanner?.color ?? '', /^#[0-9a-f]{6}$/i);
		assert.ok(['dark', 'light'].includes(m.galleryBanner?.theme ?? ''), 'banner theme');
	});

	it('ships its licence and changelog', () => {
		assert.equal(m.license, 'MIT');
		assert.match(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'), /^MIT License/);
		assert.match(fs.readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'), /^# Changelog\n\n## \d+\.\d+\.\d+/);
	});

	it('says in README that the test command is npm test', () => {
		assert.match(readme, /The test command is `npm test`/);
	});
});

/**
 * README.md is the marketplace page: its settings table must name every setting package.json declares,
 * with the same default, and nothing else. A row may name several settings (`a`, `b` | 0.8, 0.95); one
 * default for several means all share it.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readManifest } from '../fixtures/manifest';

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
		const keys = [...names.matchAll(/`(bestOfN\.[\w.]+)`/g)].map(m => m[1]);
		const values = defaults.split(/,\s+/);
		assert.ok(
			values.length === keys.length || values.length === 1,
			`row "${names}" gives ${values.length} defaults for ${keys.length} settings`,
		);
		keys.forEach((key, i) => {
			assert.ok(!found.has(key), `${key} has two rows`);
			found.set(key, parseDefault(values.length === 1 ? defaults : values[i]));
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

/**
 * package.json and the code must agree: every setting the code reads is declared with the same
 * default, every declared command is registered, and the layers import only inward
 * (vscode → generation, reward → core; webview → core).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SETTINGS, SETTING_KEYS } from '../../src/core/settings';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function sources(dir: string): string[] {
	return fs
		.readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
		.filter(e => e.isFile() && e.name.endsWith('.ts'))
		.map(e => path.join(e.parentPath, e.name));
}

function imports(file: string): string[] {
	const text = fs.readFileSync(file, 'utf8');
	return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm), ...text.matchAll(/require\('([^']+)'\)/g)].map(m => m[1]);
}

describe('package.json matches the code', () => {
	const declared = manifest.contributes.configuration.properties as Record<string, { default: unknown }>;

	it('declares every setting the code reads, with the same default', () => {
		for (const [key, field] of Object.entries(SETTING_KEYS)) {
			const entry = declared[`bestOfN.${key}`];
			assert.ok(entry, `bestOfN.${key} is not in package.json`);
			assert.deepEqual(entry.default, DEFAULT_SETTINGS[field], `default of bestOfN.${key}`);
		}
	});

	it('reads every setting it declares', () => {
		for (const key of Object.keys(declared)) {
			assert.ok(key.replace(/^bestOfN\./, '') in SETTING_KEYS, `${key} is declared but never read`);
		}
	});

	it('registers every command it declares, and declares every command it registers', () => {
		const text = fs.readFileSync(path.join(root, 'src/extension.ts'), 'utf8');
		const registered = [...text.matchAll(/registerCommand\('([^']+)'/g)].map(m => m[1]).sort();
		const contributed = (manifest.contributes.commands as { command: string }[]).map(c => c.command).sort();
		assert.deepEqual(registered, contributed);
	});

	it('keeps the settings that decide where code goes out of untrusted workspaces', () => {
		const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations as string[];
		assert.ok(restricted.includes('bestOfN.ollama.host'));
		assert.ok(restricted.includes('bestOfN.rewardModel'));
	});
});

describe('layers import inward only', () => {
	// Packages each layer may not use, and the folders of src/ its relative imports may reach.
	const rules: [string, RegExp, string[]][] = [
		['core', /^(vscode|ollama|@huggingface\/|node:worker_threads|node:http|node:net)/, ['core']],
		['generation', /^(vscode|@huggingface\/)/, ['generation', 'core']],
		['reward', /^(vscode|ollama)/, ['reward', 'core']],
		['webview', /^(vscode|ollama|node:|@huggingface\/)/, ['webview', 'core']],
	];
	for (const [dir, forbidden, allowed] of rules) {
		it(`src/${dir} does not reach outward`, () => {
			const files = sources(`src/${dir}`);
			assert.ok(files.length > 0, `no sources in src/${dir}`);
			for (const file of files) {
				for (const spec of imports(file)) {
					const where = path.relative(root, file);
					if (!spec.startsWith('.')) {
						assert.ok(!forbidden.test(spec), `${where} imports ${spec}`);
						continue;
					}
					const target = path.relative(path.join(root, 'src'), path.resolve(path.dirname(file), spec)).split(path.sep)[0];
					assert.ok(allowed.includes(target), `${where} imports ${spec}, in src/${target}`);
				}
			}
		});
	}
});

/**
 * package.json and the code must agree: every setting the code reads is declared with the same
 * default, and every declared command is registered. (The layers are lint rules: layers.test.ts.)
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SETTINGS, RESTRICTED_SETTING_KEYS, SETTING_KEYS } from '../../src/core/settings';
import { readManifest } from '../fixtures/manifest';
import { at, defined } from '../fixtures/present';

const root = path.resolve(__dirname, '../..');
const manifest = readManifest(path.join(root, 'package.json'));

describe('package.json matches the code', () => {
	const declared = manifest.contributes.configuration.properties;

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
		const contributed = manifest.contributes.commands.map(c => c.command).sort();
		assert.deepEqual(registered, contributed);
	});

	it('links the walkthrough only to declared commands; its first step offers every backend and the built-in model', () => {
		const steps = at(
			manifest.contributes.walkthroughs as { steps: { id: string; description: string }[] }[],
			0,
			'the walkthroughs',
		).steps;
		const commands = new Set(manifest.contributes.commands.map(c => c.command));
		for (const step of steps)
			for (const link of step.description.matchAll(/\(command:([\w.]+)/g)) {
				const command = defined(link[1], `the command in ${link[0]}`);
				assert.ok(commands.has(command) || command.startsWith('workbench.'), `${step.id} links ${command}`);
			}
		const first = at(steps, 0).description;
		assert.match(first, /\(command:bestOfN\.useBuiltinModel\)/);
		assert.match(first, /Ollama/);
		assert.match(first, /OpenAI-compatible/);
		assert.match(first, /\d+ MB/, 'the download size is stated');
	});

	it('keeps the settings that decide where code goes or what code runs out of untrusted workspaces', () => {
		const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
		// Named here as well as in the code, so that dropping one from RESTRICTED_SETTING_KEYS fails too.
		for (const key of ['backend', 'ollama.host', 'openai.baseUrl', 'rewardModel', 'builtin.model'] as const)
			assert.ok(RESTRICTED_SETTING_KEYS.includes(key), `bestOfN.${key} decides where code goes or what runs`);
		assert.deepEqual(
			[...restricted].sort(),
			RESTRICTED_SETTING_KEYS.map(key => `bestOfN.${key}`).sort(),
			'restrictedConfigurations lists exactly these',
		);
		for (const key of RESTRICTED_SETTING_KEYS) {
			// Not machine(-overridable): a remote window (code-server, SSH, WSL) would ignore the person's user
			// value and hide the setting from the Settings editor's User tab, where "Open Settings" lands.
			const scope = declared[`bestOfN.${key}`]?.scope;
			assert.ok(scope === undefined || scope === 'window' || scope === 'resource', `scope of bestOfN.${key}: ${scope}`);
		}
	});

	it('claims the oldest VS Code that the extension-host suite runs on, and no newer API types', () => {
		// scripts/vscode-host.js: code-server 4.x.y is VS Code 1.x.y; `npm run test:integration:oldest` runs there.
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const host = require('../../scripts/vscode-host.js') as { OLDEST_CODE_SERVER_VERSION: string };
		const [, minor] = host.OLDEST_CODE_SERVER_VERSION.split('.');
		assert.equal(manifest.engines.vscode, `^1.${minor}.0`);
		// vsce refuses @types/vscode newer than engines.vscode: the compiler would accept API that the oldest lacks.
		assert.match(manifest.devDependencies['@types/vscode'] ?? '', new RegExp(`^~1\\.${minor}\\.\\d+$`));
	});
});

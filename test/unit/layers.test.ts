/**
 * The layers of src/ are lint rules (eslint.config.mjs): an import that points outward fails `npm run lint`
 * with a message that names the layer. These lint snippets as if they were lines of real files.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = path.resolve(__dirname, '../..');
// The project's own eslint.config.mjs, with only the layer rule run: it needs no types,
// so the TypeScript program that type-aware rules build (the slow part of a lint) is left out.
const eslint = new ESLint({
	cwd: root,
	overrideConfig: tseslint.configs.disableTypeChecked,
	ruleFilter: ({ ruleId }) => ruleId === 'layers/imports',
});

/** The layer-rule messages ESLint reports for `code` placed at `file`. */
async function importErrors(file: string, code: string): Promise<string[]> {
	const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
	assert.ok(result, `ESLint linted ${file}`);
	const fatal = result.messages.filter(m => m.fatal);
	assert.deepEqual(fatal, [], `${file} parses`);
	return result.messages.filter(m => m.ruleId === 'layers/imports').map(m => m.message);
}

const importing = (spec: string) => `import type * as Imported from '${spec}';\nexport type { Imported };\n`;

describe('layers are lint rules', function () {
	// The first lint loads ESLint, its plugins and the config; on a busy machine that takes a while.
	this.timeout(60_000);

	it('fails `vscode` imported into core, naming the layer', async () => {
		const [message, ...rest] = await importErrors('src/core/run.ts', importing('vscode'));
		assert.deepEqual(rest, []);
		assert.match(message ?? '', /^'vscode': Layer core is pure: no `vscode` here/);
	});

	it('sees through every way of importing: re-export, dynamic import, require', async () => {
		const code = [
			"export { window } from 'vscode';",
			"export async function f(): Promise<unknown> { return import('node:http'); }",
			"export const g = (): unknown => require('../reward/scorer');",
		].join('\n');
		const messages = await importErrors('src/core/run.ts', code);
		assert.equal(messages.length, 3, messages.join('\n'));
		assert.match(messages[0] ?? '', /^'vscode': Layer core/);
		assert.match(messages[1] ?? '', /^'node:http': Layer core is pure: no network/);
		assert.match(messages[2] ?? '', /^'\.\.\/reward\/scorer': Layer core imports nothing outside src\/core\//);
	});

	const forbidden: [file: string, spec: string, layer: RegExp][] = [
		['src/core/run.ts', 'node:http', /Layer core is pure: no network/],
		['src/core/run.ts', 'https', /Layer core is pure: no network/],
		['src/core/run.ts', 'node:worker_threads', /Layer core is pure: no network, processes or threads/],
		['src/core/run.ts', '../generation/ollamaGenerator', /Layer core imports nothing outside src\/core\//],
		['src/core/run.ts', '../reward/scorer', /Layer core imports nothing outside src\/core\//],
		['src/core/run.ts', '../webview/view', /Layer core imports nothing outside src\/core\//],
		['src/core/run.ts', '../cli/main', /Layer core imports nothing outside src\/core\//],
		['src/core/run.ts', '../extension', /Layer core imports nothing outside src\/core\//],
		['src/core/tasks/task.ts', '../../generation/ollamaGenerator', /Layer core imports nothing outside src\/core\//],
		['src/core/tasks/task.ts', 'vscode', /Layer core is pure: no `vscode` here/],
		['src/generation/ollamaGenerator.ts', 'vscode', /Layer generation never imports `vscode`/],
		['src/generation/ollamaGenerator.ts', '../reward/scorer', /Layer generation depends on core only/],
		['src/reward/scorer.ts', 'vscode', /Layer reward never imports `vscode`/],
		['src/reward/scorer.ts', '../generation/ollamaGenerator', /Layer reward depends on core only/],
		['src/webview/view.ts', 'vscode', /Layer webview runs in the browser: no `vscode`/],
		['src/webview/view.ts', 'node:path', /Layer webview runs in the browser: no Node modules/],
		['src/webview/view.ts', 'fs', /Layer webview runs in the browser: no Node modules/],
		['src/webview/view.ts', '../core/run', /Layer webview imports only core's message types/],
		['src/cli/main.ts', 'vscode', /Layer cli never imports `vscode`/],
		['src/cli/main.ts', '../vscode/config', /Layer cli never imports the VS Code or webview layers/],
		['src/vscode/pickerPanel.ts', '../webview/view', /Layer vscode does not import the webview/],
		['src/extension.ts', './webview/view', /extension.ts does not import the webview/],
		['src/webview/view.ts', '../core/tasks/task', /Layer webview imports only core's message types/],
	];
	for (const [file, spec, layer] of forbidden) {
		it(`fails '${spec}' imported into ${file}`, async () => {
			const messages = await importErrors(file, importing(spec));
			assert.equal(messages.length, 1, messages.join('\n'));
			assert.match(messages[0] ?? '', layer);
		});
	}

	const allowed: [file: string, spec: string][] = [
		['src/core/run.ts', './errors'],
		['src/core/run.ts', './generation'],
		['src/core/run.ts', 'node:events'],
		['src/core/tasks/task.ts', '../generation'],
		['src/core/tasks/task.ts', './rewrite'],
		['src/generation/ollamaGenerator.ts', '../core/errors'],
		['src/generation/ollamaGenerator.ts', 'ollama'],
		['src/reward/scorer.ts', '../core/reward'],
		['src/reward/scorer.ts', 'node:worker_threads'],
		['src/webview/view.ts', '../core/protocol'],
		['src/webview/view.ts', './dom'],
		['src/cli/main.ts', '../generation/ollamaGenerator'],
		['src/cli/main.ts', '../reward/rewardClient'],
		['src/vscode/pickerPanel.ts', 'vscode'],
		['src/vscode/pickerPanel.ts', '../core/protocol'],
	];
	for (const [file, spec] of allowed) {
		it(`allows '${spec}' in ${file}`, async () => {
			assert.deepEqual(await importErrors(file, importing(spec)), []);
		});
	}
});

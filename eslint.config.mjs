// Lint: typescript-eslint's type-checked rules, and the layers of src/ as import zones.
// The layer rules are the architecture (see CONTRIBUTING.md): dependencies point inward,
// vscode → generation, reward → core; webview → core's message types; the CLI never touches vscode.
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = new Set(builtinModules.filter(m => !m.startsWith('_')));
const isNodeBuiltin = spec => spec.startsWith('node:') || nodeBuiltins.has(spec.split('/')[0]) || nodeBuiltins.has(spec);

/**
 * The layers of src/ (see CONTRIBUTING.md). For each: the folders of src/ its relative imports may
 * reach, and packages it may not import, each with the message a developer reads when an import
 * crosses the line; the message names the layer and says where the code belongs instead.
 */
const LAYERS = {
	core: {
		reach: ['core'],
		packages: [
			[
				s => s === 'vscode',
				'Layer core is pure: no `vscode` here. Put VS Code code in src/vscode/ and pass core a plain interface (like Logger).',
			],
			[
				s =>
					/^(node:)?(http|https|http2|net|tls|dgram|dns|child_process|cluster|worker_threads)(\/|$)/.test(s) ||
					/^(ollama|@huggingface\/)/.test(s),
				'Layer core is pure: no network, processes or threads. That belongs in src/generation/ or src/reward/ behind a core interface.',
			],
		],
	},
	generation: {
		reach: ['core', 'generation'],
		packages: [
			[s => s === 'vscode', 'Layer generation never imports `vscode`: it runs in the CLI too. Take what it needs as a parameter.'],
		],
	},
	reward: {
		reach: ['core', 'reward'],
		packages: [
			[
				s => s === 'vscode',
				'Layer reward never imports `vscode`: it runs in a worker thread and in the CLI. Take what it needs as a parameter.',
			],
			[s => s === 'ollama', 'Layer reward does not talk to model servers; that is src/generation/.'],
		],
	},
	webview: {
		// The picker's and the report's message types, and the pure formatting and statistics the host
		// and the CLI share with them (one score format, one agreement figure, one way to show hidden characters).
		reach: ['webview', 'core/protocol.ts', 'core/reportProtocol.ts', 'core/scoreFormat.ts', 'core/agreement.ts', 'core/hiddenText.ts'],
		packages: [
			[
				s => s === 'vscode',
				'Layer webview runs in the browser: no `vscode`. Talk to the host with the messages in src/core/protocol.ts.',
			],
			[isNodeBuiltin, 'Layer webview runs in the browser: no Node modules.'],
			[s => /^(ollama|@huggingface\/)/.test(s), 'Layer webview never talks to models: the host sends it snapshots.'],
		],
	},
	cli: {
		reach: ['core', 'generation', 'reward', 'cli'],
		packages: [[s => s === 'vscode', 'Layer cli never imports `vscode`: it runs in a plain terminal.']],
	},
	vscode: { reach: ['core', 'generation', 'reward', 'vscode'], packages: [] },
	'extension.ts': { reach: ['core', 'generation', 'reward', 'vscode'], packages: [] },
};

const REACH_MESSAGE = {
	core: 'Layer core imports nothing outside src/core/ (not generation, reward, webview, vscode or cli): dependencies point inward.',
	generation: 'Layer generation depends on core only (not reward, webview, vscode or cli).',
	reward: 'Layer reward depends on core only (not generation, webview, vscode or cli).',
	webview:
		"Layer webview imports only core's message types (src/core/protocol.ts, reportProtocol.ts) and the pure scoreFormat.ts, agreement.ts and hiddenText.ts from outside src/webview/.",
	cli: 'Layer cli never imports the VS Code or webview layers.',
	vscode: 'Layer vscode does not import the webview: it is a separate browser bundle, spoken to through src/core/protocol.ts.',
	'extension.ts': 'extension.ts does not import the webview: it is a separate browser bundle, spoken to through src/core/protocol.ts.',
};

/** `layers/imports`: every import (static, dynamic, re-export, require) must stay inside its layer's reach. */
const layersPlugin = {
	rules: {
		imports: {
			meta: { type: 'problem', docs: { description: 'Keep the layers of src/ pointing inward' }, schema: [] },
			create(context) {
				const srcDir = path.join(context.cwd, 'src');
				const own = path.relative(srcDir, context.filename).split(path.sep);
				const layerName = own[0];
				const layer = layerName && layerName !== '..' ? LAYERS[layerName] : undefined;
				if (!layer) return {};
				const check = (node, spec) => {
					if (typeof spec !== 'string') return;
					if (spec.startsWith('.')) {
						// Where the import lands, relative to src/ and without extension: 'core/tasks/task', 'extension'.
						const target = path
							.relative(srcDir, path.resolve(path.dirname(context.filename), spec))
							.split(path.sep)
							.join('/');
						const reached = layer.reach.some(r =>
							r.endsWith('.ts') ? target === r.slice(0, -3) : target === r || target.startsWith(`${r}/`),
						);
						if (!reached) context.report({ node, message: `'${spec}': ${REACH_MESSAGE[layerName]}` });
						return;
					}
					const hit = layer.packages.find(([forbidden]) => forbidden(spec));
					if (hit) context.report({ node, message: `'${spec}': ${hit[1]}` });
				};
				const requireCall = node =>
					node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal';
				return {
					ImportDeclaration: node => check(node, node.source.value),
					ExportNamedDeclaration: node => node.source && check(node, node.source.value),
					ExportAllDeclaration: node => check(node, node.source.value),
					ImportExpression: node => node.source.type === 'Literal' && check(node, node.source.value),
					TSImportEqualsDeclaration: node =>
						node.moduleReference.type === 'TSExternalModuleReference' && check(node, node.moduleReference.expression.value),
					CallExpression: node => requireCall(node) && check(node, node.arguments[0].value),
				};
			},
		},
	},
};

export default tseslint.config(
	{ ignores: ['dist/', 'node_modules/', '.vscode-host/', '.artifacts/', 'test/fixtures/generated/', 'bench/.models/'] },
	js.configs.recommended,
	...tseslint.configs.recommendedTypeChecked,
	{
		languageOptions: {
			parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
			globals: { ...globals.node },
		},
		linterOptions: { reportUnusedDisableDirectives: 'error' },
		rules: {
			// Unused names are already errors in tsc (noUnusedLocals/Parameters); `_x` marks an intended one.
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
			// Rejected promises must be handled or explicitly `void`ed: an unhandled one is a lost error.
			'@typescript-eslint/no-floating-promises': 'error',
			'@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
			// Passing on a caught error as is (it is `unknown`) is fine; inventing a non-Error reason is not.
			'@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
			// An `async` method without `await` is how a promise-returning interface is implemented (a throw
			// becomes a rejection); requiring an await there only invites `await Promise.resolve()`.
			'@typescript-eslint/require-await': 'off',
			// transformers.js, its tokenizers and onnxruntime-node are loaded on first use, as CommonJS (see src/reward/scorer.ts); markdown-it too, in the host (src/core/commentFormat.ts).
			'@typescript-eslint/no-require-imports': [
				'error',
				{ allow: ['^@huggingface/transformers$', '^@huggingface/tokenizers$', '^onnxruntime-node$', '^markdown-it$'] },
			],
			'@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
			eqeqeq: ['error', 'smart'],
			'no-restricted-syntax': [
				'error',
				{ selector: "MemberExpression[property.name='innerHTML']", message: 'Model output is text: use textContent or DOM nodes.' },
			],
		},
	},
	{
		// Plain JavaScript (scripts, the e2e harness, the integration runner) is CommonJS for Node.
		files: ['**/*.js', '**/*.mjs'],
		...tseslint.configs.disableTypeChecked,
		languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'commonjs', globals: { ...globals.node } },
		rules: {
			...tseslint.configs.disableTypeChecked.rules,
			'@typescript-eslint/no-require-imports': 'off',
			'@typescript-eslint/consistent-type-imports': 'off',
		},
	},
	{ files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
	{
		files: ['test/**/*.test.*', 'test/**/*.e2e.js'],
		languageOptions: { globals: { ...globals.mocha } },
	},
	{
		// Tests read what the CLI and the fixtures print as JSON and assert on its fields; typing every
		// parsed document would add ceremony, not safety. Product code keeps these rules.
		files: ['test/**/*.ts'],
		rules: {
			'@typescript-eslint/no-unsafe-assignment': 'off',
			'@typescript-eslint/no-unsafe-member-access': 'off',
			'@typescript-eslint/no-unsafe-return': 'off',
			'@typescript-eslint/no-unsafe-call': 'off',
			'@typescript-eslint/no-unsafe-argument': 'off',
		},
	},
	{
		// page.evaluate() callbacks run in the browser.
		files: ['test/**/*.e2e.js', 'test/e2e/**'],
		languageOptions: { globals: { ...globals.browser } },
	},
	{
		files: ['src/webview/**'],
		languageOptions: { globals: { ...globals.browser } },
	},

	// ── Layers ──────────────────────────────────────────────────────────────────────────────────
	{
		files: ['src/**/*.ts'],
		plugins: { layers: layersPlugin },
		rules: { 'layers/imports': 'error' },
	},
);

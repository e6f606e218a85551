import * as assert from 'node:assert/strict';
import { buildExplainMessages, cleanExplanation, explainTask, fenceFor } from '../../src/core/tasks/explain';
import { fillTemplate, unknownPlaceholders } from '../../src/core/promptTemplate';
import { parseSettings } from '../../src/core/settings';
import { rewriteTask } from '../../src/core/tasks/rewrite';
import { at } from '../fixtures/present';

describe('rewrite task', () => {
	const task = rewriteTask({ instruction: ' add types ', text: '  return a+b;\r\n', languageId: 'typescript' });

	it('sends the instruction and the selection, and presents candidates as diffable code', () => {
		const messages = task.messages();
		const [system, user] = [at(messages, 0), at(messages, 1)];
		assert.equal(system.role, 'system');
		assert.match(system.content, /rewritten text only/);
		assert.match(user.content, /Instruction: add types/);
		assert.match(user.content, /<<<\n {2}return a\+b;\n\n>>>/);
		assert.deepEqual(task.view, {
			kind: 'rewrite',
			title: 'add types',
			diffable: true,
			acceptLabel: 'Accept',
			acceptHint: 'Replace the selection with this candidate (Enter)',
			detail: 'code',
		});
		assert.equal(task.source, '  return a+b;\n', 'line endings are LF for the picker and the model');
	});

	it('cleans a fenced reply into replacement text with the selection indentation and newline', () => {
		assert.equal(task.clean('```ts\nreturn a + b;\n```', false), '  return a + b;\n');
		assert.equal(task.clean('```ts\nreturn a', true), 'return a');
	});

	it('asks the reward model to judge (instruction + selection, candidate)', () => {
		assert.deepEqual(task.rewardPair('  return a + b;\n'), { prompt: 'add types\n\n  return a+b;\n', response: '  return a + b;\n' });
	});
});

describe('explain task', () => {
	const input = {
		text: 'const total = items.reduce((s, i) => s + i.price, 0);',
		languageId: 'typescript',
		fileName: 'src/cart.ts',
		before: 'function checkout(items: Item[]) {\n\t',
		after: '\n\treturn total;\n}\n',
		startLine: 2,
		endLine: 2,
	};

	it('sends the file name, language, surrounding lines and the selection, asking for a short Markdown explanation', () => {
		const [system, user] = buildExplainMessages(input);
		assert.match(system.content, /Markdown/);
		assert.match(system.content, /short, concrete/);
		assert.match(user.content, /^File: src\/cart\.ts \(typescript\)/);
		assert.ok(
			user.content.includes('function checkout(items: Item[]) {\n\t⟪const total'),
			'the lines above, then the marked selection',
		);
		assert.ok(user.content.includes('0);⟫\n\treturn total;'), 'the lines below');
		assert.ok(
			user.content.endsWith('Explain this selection:\n```typescript\nconst total = items.reduce((s, i) => s + i.price, 0);\n```'),
		);
	});

	it('leaves out the surroundings when there are none and names the language without a file', () => {
		const [, user] = buildExplainMessages({ ...input, fileName: '', before: '', after: '' });
		assert.ok(user.content.startsWith('Language: typescript\n\nExplain this selection:'));
		assert.ok(!user.content.includes('⟪'));
	});

	it('fences code that contains fences with a longer fence', () => {
		assert.equal(fenceFor('no ticks'), '```');
		assert.equal(fenceFor('a ```` b'), '`````');
		const [, user] = buildExplainMessages({ ...input, text: 'md = "```js"', before: '', after: '' });
		assert.ok(user.content.includes('````typescript\nmd = "```js"\n````'));
	});

	it('presents candidates as Markdown that is shown inline, not diffed', () => {
		const task = explainTask(input);
		assert.equal(task.view.kind, 'explain');
		assert.equal(task.view.diffable, false);
		assert.equal(task.view.detail, 'markdown');
		assert.equal(task.view.acceptLabel, 'Show Inline');
		assert.equal(task.view.title, 'Explain cart.ts:2');
		assert.equal(explainTask({ ...input, endLine: 5 }).view.title, 'Explain cart.ts:2–5');
		assert.equal(explainTask({ ...input, fileName: '', startLine: undefined }).view.title, 'Explain selection');
	});

	it('cleans prose: line endings, surrounding blank lines, a whole-reply Markdown fence; nothing re-indented', () => {
		assert.equal(cleanExplanation('\r\n  Sums the **prices**.\r\n\r\n- one\r\n'), 'Sums the **prices**.\n\n- one');
		assert.equal(cleanExplanation('```markdown\nSums the prices.\n\n```ts\nx\n```\n```'), 'Sums the prices.\n\n```ts\nx\n```');
		assert.equal(cleanExplanation('~~~md\nSums.\n~~~'), 'Sums.');
		const codeOnly = '```ts\nconst x = 1;\n```';
		assert.equal(cleanExplanation(codeOnly), codeOnly, 'a code block is part of the explanation');
		assert.equal(cleanExplanation('```markdown\nSums the'), '```markdown\nSums the', 'an unclosed fence stays on a finished reply');
		assert.equal(cleanExplanation('```markdown\nSums the', true), 'Sums the', 'and is hidden while streaming');
	});

	it('asks the reward model to judge (request to explain the code, explanation)', () => {
		const pair = explainTask(input).rewardPair('Sums the prices.');
		assert.equal(
			pair.prompt,
			'Explain what this typescript code does, briefly and concretely.\n\nconst total = items.reduce((s, i) => s + i.price, 0);',
		);
		assert.equal(pair.response, 'Sums the prices.');
	});
});

describe('prompt templates', () => {
	it('fill the known placeholders, keep literal braces, and list unknown ones', () => {
		const values = { instruction: 'shorter', selection: 'a {x}', language: 'ts', fileName: 'f.ts', before: 'b', after: 'c' };
		assert.equal(
			fillTemplate('{instruction}: {{ {selection} }} in {language} ({fileName}) {before}|{after}', values),
			'shorter: { a {x} } in ts (f.ts) b|c',
		);
		assert.deepEqual(unknownPlaceholders('Explain {selection} from {fielName} and {}'), ['{fielName}', '{}']);
		assert.deepEqual(unknownPlaceholders('{{literal}} {selection}'), []);
	});

	it('replace the user message of a task, keeping its system message', () => {
		const rewrite = rewriteTask(
			{ instruction: 'add types', text: 'f(a)', languageId: 'typescript' },
			{ template: 'Do "{instruction}" to {selection} in {fileName}', fileName: 'src/f.ts' },
		);
		const messages = rewrite.messages();
		const [system, user] = [at(messages, 0), at(messages, 1)];
		assert.match(system.content, /rewritten text only/);
		assert.equal(user.content, 'Do "add types" to f(a) in src/f.ts');
		const explain = explainTask(
			{ text: 'x()', languageId: 'python', fileName: 'm.py', before: 'import x\n', after: '' },
			'What does {selection} do? Context:\n{before}',
		);
		assert.equal(at(explain.messages(), 1).content, 'What does x() do? Context:\nimport x\n');
	});

	it('are reported and not used when a placeholder is unknown', () => {
		const { settings, problems } = parseSettings({
			'prompts.explain': 'Explain {selction}',
			'prompts.rewrite': '{instruction}: {selection}',
		});
		assert.equal(settings.explainPrompt, '');
		assert.equal(settings.rewritePrompt, '{instruction}: {selection}');
		assert.equal(problems.length, 1);
		assert.match(
			at(problems, 0),
			/^bestOfN\.prompts\.explain has unknown placeholders \{selction\} \(known: \{instruction\}, \{selection\}/,
		);
	});
});

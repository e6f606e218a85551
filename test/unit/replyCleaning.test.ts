import * as assert from 'node:assert/strict';
import { cleanReply, matchIndentation, type ReplyContext } from '../../src/core/replyCleaning';

// Replies are written the way chat models answer a "rewrite this" request: llama3.1 (preamble, fence,
// a closing sentence), qwen2.5-coder (a bare fence), mistral (a leading space, "Here's"), gpt-style
// (a heading and a list of changes), reasoning models (<think>). Each has the exact text to apply.

const SUM_JS = [
	'function sum(items) {',
	'  let total = 0;',
	'  for (let i = 0; i < items.length; i++) {',
	'    total += items[i];',
	'  }',
	'  return total;',
	'}',
].join('\n');
const REDUCE_ONE_LINE = 'const sum = items => items.reduce((total, x) => total + x, 0);';
const REDUCE_FN = ['function sum(items) {', '  return items.reduce((total, item) => total + item, 0);', '}'].join('\n');

const js = (instruction = 'make it more concise', selection = SUM_JS): ReplyContext => ({
	selection,
	languageId: 'javascript',
	instruction,
});
const clean = (reply: string, context: ReplyContext) => cleanReply(reply, context);

describe('reply cleaning', () => {
	describe('code in fences', () => {
		it('llama3.1: preamble, fence, closing sentence', () => {
			const reply = `Here is a more concise version:\n\n\`\`\`javascript\n${REDUCE_ONE_LINE}\n\`\`\`\n\nThis uses the \`reduce\` method to accumulate the total, which is more concise and idiomatic.`;
			assert.equal(clean(reply, js()), REDUCE_ONE_LINE);
		});

		it('qwen2.5-coder: the fence alone', () => {
			assert.equal(clean(`\`\`\`javascript\n${REDUCE_FN}\n\`\`\``, js()), REDUCE_FN);
		});

		it('mistral: a leading space and "Here\'s"', () => {
			assert.equal(clean(` Here's the rewritten code:\n\n\`\`\`js\n${REDUCE_FN}\n\`\`\`\n`, js()), REDUCE_FN);
		});

		it('gpt-style: "Sure!", the block, then a heading and a list of changes', () => {
			const reply = [
				"Sure! Here's a more concise version of your function:",
				'',
				'```javascript',
				REDUCE_ONE_LINE,
				'```',
				'',
				'### Explanation:',
				'- **`reduce`** walks the array once and carries the running total.',
				'- The initial value `0` makes an empty array sum to `0`.',
			].join('\n');
			assert.equal(clean(reply, js()), REDUCE_ONE_LINE);
		});

		it('the rewrite after an echo of the original ("Original:" / "Rewritten:")', () => {
			const reply = `Original:\n\`\`\`js\n${SUM_JS}\n\`\`\`\n\nRewritten:\n\`\`\`js\n${REDUCE_FN}\n\`\`\``;
			assert.equal(clean(reply, js()), REDUCE_FN);
		});

		it('the answer, not the usage example after it', () => {
			const reply = `\`\`\`js\n${REDUCE_FN}\n\`\`\`\n\nExample usage:\n\`\`\`js\nconsole.log(sum([1, 2, 3])); // 6\n\`\`\``;
			assert.equal(clean(reply, js()), REDUCE_FN);
		});

		it('the block in the selection language, not the shell command', () => {
			const reply = `\`\`\`bash\nnode sum.js\n\`\`\`\n\nThe function:\n\`\`\`js\n${REDUCE_ONE_LINE}\n\`\`\`\nRun it with the command above.`;
			assert.equal(clean(reply, js()), REDUCE_ONE_LINE);
		});

		it('joins consecutive blocks that each answer part of the selection', () => {
			const selection = [
				'function isEven(n) {',
				'  return n % 2 === 0;',
				'}',
				'',
				'function countEvens(list) {',
				'  let count = 0;',
				'  for (const n of list) if (isEven(n)) count++;',
				'  return count;',
				'}',
			].join('\n');
			const reply = [
				'First, the helper:',
				'```js',
				'const isEven = n => n % 2 === 0;',
				'```',
				'Then the counter:',
				'```js',
				'const countEvens = list => list.filter(isEven).length;',
				'```',
				'Both are arrow functions now.',
			].join('\n');
			assert.equal(
				clean(reply, js('use arrow functions', selection)),
				'const isEven = n => n % 2 === 0;\n\nconst countEvens = list => list.filter(isEven).length;',
			);
		});

		it('reasoning models: the answer after </think>', () => {
			const reply = `<think>\nThe user wants reduce. A one-liner is enough.\n</think>\n\n\`\`\`js\n${REDUCE_ONE_LINE}\n\`\`\``;
			assert.equal(clean(reply, js()), REDUCE_ONE_LINE);
		});

		it('a reply cut at the token limit inside its fence keeps what came', () => {
			const reply = 'Here is the code:\n```js\nfunction sum(items) {\n  return items.reduce(';
			assert.equal(clean(reply, js()), 'function sum(items) {\n  return items.reduce(');
		});

		it('re-indents a flush-left Python method to the indented selection, with its trailing newline', () => {
			const selection = '    def total(self):\n        s = 0\n        for x in self.items:\n            s += x\n        return s\n';
			const reply =
				"Here's a more Pythonic version:\n\n```python\ndef total(self):\n    return sum(self.items)\n```\n\nThis uses the built-in `sum`.";
			const context = { selection, languageId: 'python', instruction: 'make it pythonic' };
			assert.equal(clean(reply, context), '    def total(self):\n        return sum(self.items)\n');
		});

		it('CRLF replies and selections come out with LF and the selection trailing newline', () => {
			const reply = 'Here you go:\r\n```js\r\nconst a = 1;\r\n```\r\n';
			assert.equal(clean(reply, js('use const', 'let a = 1;\r\n')), 'const a = 1;\n');
		});
	});

	describe('unfenced replies', () => {
		it('drops a one-line preamble', () => {
			assert.equal(clean(`Here is the rewritten code:\n\n${REDUCE_FN}`, js()), REDUCE_FN);
		});

		it('drops "Sure!" and a closing sentence about the version', () => {
			const reply = `Sure!\n\n${REDUCE_FN}\n\nThis version uses reduce instead of a manual loop.`;
			assert.equal(clean(reply, js()), REDUCE_FN);
		});

		it('drops a "Changes made:" list', () => {
			const reply = `${REDUCE_FN}\n\nChanges made:\n- Replaced the loop with reduce\n- Removed the temporary variable`;
			assert.equal(clean(reply, js()), REDUCE_FN);
		});

		it('drops an echoed instruction', () => {
			assert.equal(clean(`Use reduce:\n\n${REDUCE_FN}`, js('use reduce')), REDUCE_FN);
			assert.equal(clean(`Instruction: use reduce\n\n${REDUCE_FN}`, js('use reduce')), REDUCE_FN);
		});

		it('drops the prompt markers when the model answers inside them', () => {
			assert.equal(clean(`<<<\n${REDUCE_FN}\n>>>`, js()), REDUCE_FN);
		});

		it('keeps an indented docstring paragraph that starts like a remark', () => {
			const reply =
				'def area(r):\n    """Area of a circle.\n\n    The radius must not be negative.\n    """\n    return math.pi * r ** 2';
			const context = { selection: 'def area(r): return 3.14 * r * r', languageId: 'python', instruction: 'add a docstring' };
			assert.equal(clean(reply, context), reply);
		});

		it('keeps a Python first line that only looks like a title', () => {
			const reply = 'class Version:\n    major = 1\n    minor = 2';
			const context = { selection: 'VERSION = (1, 2)', languageId: 'python', instruction: 'make it a class' };
			assert.equal(clean(reply, context), reply);
		});
	});

	describe('what the user selected on purpose', () => {
		const section = '## Install\n\n```sh\nnpm install\n```\n';
		const md = (instruction = 'improve the wording'): ReplyContext => ({ selection: section, languageId: 'markdown', instruction });

		it('a Markdown selection with fences keeps the fences of the reply', () => {
			const reply = '## Installation\n\nRun:\n\n```sh\nnpm install\n```\n';
			assert.equal(clean(reply, md()), reply);
		});

		it('unwraps a ```markdown wrapper around Markdown that has its own fences', () => {
			const reply = '```markdown\n## Installation\n\n```sh\nnpm ci\n```\n```';
			assert.equal(clean(reply, md()), '## Installation\n\n```sh\nnpm ci\n```\n');
		});

		it('drops the preamble before Markdown with fences', () => {
			const reply = "Here's the revised section:\n\n## Installation\n\n```sh\nnpm ci\n```";
			assert.equal(clean(reply, md()), '## Installation\n\n```sh\nnpm ci\n```\n');
		});

		it('prose: drops the preamble, keeps the paragraph', () => {
			const context = {
				selection: 'The tool it asks the model for rewrites, many.',
				languageId: 'plaintext',
				instruction: 'fix the grammar',
			};
			const reply = 'Here is a clearer version of the paragraph:\n\nThe tool asks the model for several rewrites.';
			assert.equal(clean(reply, context), 'The tool asks the model for several rewrites.');
		});

		it('prose: a fenced paragraph with a preamble is unwrapped', () => {
			const context = { selection: 'teh picker shows them', languageId: 'plaintext', instruction: 'fix typos' };
			assert.equal(clean('Sure, here it is:\n\n```\nThe picker shows them.\n```', context), 'The picker shows them.');
		});

		it('prose that starts like a preamble in the selection itself stays', () => {
			const selection = 'Here are the steps:\n1. Select text.\n2. Press Ctrl+Alt+R.';
			const reply = 'Here are the steps:\n1. Select the text.\n2. Press Ctrl+Alt+R.';
			assert.equal(clean(reply, { selection, languageId: 'markdown', instruction: 'polish' }), reply);
		});

		it('prose keeps a last paragraph of content, drops one about the rewrite', () => {
			const context = { selection: 'Best-of-N rank candidates. It save time.', languageId: 'plaintext', instruction: 'fix grammar' };
			const content = 'Best-of-N ranks candidates.\n\nOverall, it saves time.';
			assert.equal(clean(content, context), content);
			assert.equal(clean(`${content}\n\nI made the sentences grammatical and kept their meaning.`, context), content);
		});

		it('Markdown without fences may gain a code block when asked', () => {
			const context = { selection: 'Call `sum` with an array.', languageId: 'markdown', instruction: 'add an example' };
			const reply = 'Call `sum` with an array:\n\n```js\nsum([1, 2]); // 3\n```';
			assert.equal(clean(reply, context), reply);
		});
	});

	describe('while streaming', () => {
		it('shows the code of an open fence, without the preamble', () => {
			assert.equal(cleanReply("Sure! Here's the code:\n```js\nconst s", js(), { partial: true }), 'const s');
		});

		it('hides a fence still being typed and a thought not yet closed', () => {
			assert.equal(cleanReply('```js\nconst sum = items =>\n``', js(), { partial: true }), 'const sum = items =>');
			assert.equal(cleanReply('<think>\nThe user wants', js(), { partial: true }), '');
		});
	});

	describe('indentation and line ends', () => {
		it('keeps the selection trailing newline, and adds none when it had none', () => {
			assert.equal(clean('a\n\n', js('x', 'b')), 'a');
			assert.equal(clean('a', js('x', 'b\n')), 'a\n');
			assert.equal(clean('a', js('x', 'b\r\n')), 'a\n');
		});

		it('re-indents a flush-left reply to the indented selection', () => {
			const original = '    if (x) {\n        y();\n    }';
			assert.equal(matchIndentation(original, 'if (x) y();'), '    if (x) y();');
			assert.equal(matchIndentation(original, 'if (x) {\n    y();\n}'), '    if (x) {\n        y();\n    }');
			// already indented replies are left alone
			assert.equal(matchIndentation(original, '  z();'), '  z();');
		});

		it('does not indent the first line of a selection that starts mid-line', () => {
			assert.equal(matchIndentation('foo(a,\n    b)', 'foo(a,\nb)'), 'foo(a,\n    b)');
		});
	});
});

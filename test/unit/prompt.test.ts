import * as assert from 'node:assert/strict';
import { buildRewriteMessages, cleanCandidate, matchIndentation } from '../../src/core/prompt';

describe('prompt', () => {
	it('puts the instruction and the exact selection in the user message', () => {
		const messages = buildRewriteMessages({ instruction: ' make it shorter ', text: 'const a = 1;\n', languageId: 'typescript' });
		assert.equal(messages[0].role, 'system');
		assert.match(messages[1].content, /^Instruction: make it shorter\n/);
		assert.ok(messages[1].content.includes('typescript code:\n<<<\nconst a = 1;\n\n>>>'));
	});

	it('unwraps a reply fenced as a whole', () => {
		assert.equal(cleanCandidate('```ts\nconst a = 1;\n```', 'let a = 1;'), 'const a = 1;');
	});

	it('takes the only block out of a short preamble', () => {
		const reply = 'Here is the rewritten code:\n```js\nreturn x + 1;\n```';
		assert.equal(cleanCandidate(reply, 'return x+1;'), 'return x + 1;');
	});

	it('leaves fences alone when the selection itself has fences', () => {
		const original = 'Use:\n```\nnpm test\n```\n';
		const reply = 'Run:\n```\nnpm test\n```\n';
		assert.equal(cleanCandidate(reply, original), reply);
	});

	it('hides an unterminated fence while streaming', () => {
		assert.equal(cleanCandidate('```python\ndef f(', 'def g(): pass', true), 'def f(');
	});

	it('keeps the selection trailing newline, and adds none when it had none', () => {
		assert.equal(cleanCandidate('a\n\n', 'b'), 'a');
		assert.equal(cleanCandidate('a', 'b\n'), 'a\n');
		assert.equal(cleanCandidate('a', 'b\r\n'), 'a\n');
	});

	it('re-indents a flush-left reply to the indented selection', () => {
		const original = '    if (x) {\n        y();\n    }';
		assert.equal(matchIndentation(original, 'if (x) y();'), '    if (x) y();');
		assert.equal(matchIndentation(original, 'if (x) {\n    y();\n}'), '    if (x) {\n        y();\n    }');
		// already indented replies are left alone
		assert.equal(matchIndentation(original, '  z();'), '  z();');
	});

	it('does not indent the first line of a selection that starts mid-line', () => {
		const original = 'foo(a,\n    b)';
		assert.equal(matchIndentation(original, 'foo(a,\nb)'), 'foo(a,\n    b)');
	});
});

import * as assert from 'node:assert/strict';
import { buildRewriteMessages } from '../../src/core/prompt';

describe('prompt', () => {
	it('puts the instruction and the exact selection in the user message', () => {
		const messages = buildRewriteMessages({ instruction: ' make it shorter ', text: 'const a = 1;\n', languageId: 'typescript' });
		assert.equal(messages[0].role, 'system');
		assert.match(messages[1].content, /^Instruction: make it shorter\n/);
		assert.ok(messages[1].content.includes('typescript code:\n<<<\nconst a = 1;\n\n>>>'));
	});
});

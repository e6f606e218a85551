import * as assert from 'node:assert/strict';
import { consensusScores, similarity, tokenize } from '../../src/core/consensus';
import { at } from '../fixtures/present';

describe('consensus ranker', () => {
	it('tokenizes identifiers and symbols, not whitespace', () => {
		assert.deepEqual(tokenize('foo_bar(x) +=  1'), ['foo_bar', '(', 'x', ')', '+', '=', '1']);
	});

	it('similarity is 1 for identical text, 0 for disjoint, symmetric in between', () => {
		assert.equal(similarity('a b c', 'a  b c'), 1);
		assert.equal(similarity('a b', 'x y'), 0);
		const ab = similarity('return a + b;', 'return b + a;');
		assert.equal(ab, similarity('return b + a;', 'return a + b;'));
		assert.ok(ab > 0 && ab < 1);
	});

	it('picks the candidate that agrees most with the others', () => {
		const texts = [
			'function add(a, b) { return a + b; }',
			'function add(a, b) { return a + b + 0; }',
			'print("hello world")',
			'function add(x, y) { return x + y; }',
		];
		const scores = consensusScores(texts);
		const best = scores.indexOf(Math.max(...scores));
		assert.equal(best, 0);
		assert.equal(scores.indexOf(Math.min(...scores)), 2);
	});

	it('counts collapsed duplicates as votes', () => {
		const texts = ['alpha beta', 'gamma delta'];
		const [first, second] = [consensusScores(texts, [3, 1]), consensusScores(texts, [1, 3])];
		assert.ok(at(first, 0) > at(first, 1));
		assert.ok(at(second, 1) > at(second, 0));
	});

	it("a score is the mean similarity to the others, a duplicate's twin counting fully", () => {
		const [a, b, c] = ['let x = 1;', 'let x = 2;', 'const y = 1;'];
		assert.deepEqual(consensusScores([a, b, c]), [
			(similarity(a, b) + similarity(a, c)) / 2,
			(similarity(b, a) + similarity(b, c)) / 2,
			(similarity(c, a) + similarity(c, b)) / 2,
		]);
		assert.deepEqual(consensusScores([a, b], [2, 1]), [(1 + similarity(a, b)) / 2, (2 * similarity(b, a)) / 2]);
	});

	it('refuses counts that do not match the texts', () => {
		assert.throws(() => consensusScores(['a', 'b'], [1]), /1 counts for 2 texts/);
	});

	it('a lone candidate scores 1', () => {
		assert.deepEqual(consensusScores(['x']), [1]);
	});
});

import * as assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, normalizeHost, parseSettings } from '../../src/core/settings';
import { at } from '../fixtures/present';

describe('settings', () => {
	it('uses defaults when nothing is set', () => {
		const { settings, problems } = parseSettings({});
		assert.deepEqual(settings, DEFAULT_SETTINGS);
		assert.deepEqual(problems, []);
	});
	it('clamps N into 1–16 and says so', () => {
		const { settings, problems } = parseSettings({ candidates: 40 });
		assert.equal(settings.candidates, 16);
		assert.match(at(problems, 0), /candidates must be between 1 and 16/);
	});
	it('normalizes hosts people type', () => {
		assert.equal(normalizeHost('localhost:11434'), 'http://localhost:11434');
		assert.equal(normalizeHost('http://box:11434/'), 'http://box:11434');
		assert.equal(normalizeHost('ftp://box'), undefined);
		assert.equal(normalizeHost('localhost'), 'http://localhost:11434');
		assert.equal(normalizeHost('https://ollama.example'), 'https://ollama.example');
	});
	it('rejects a bad ranker value', () => {
		const { settings, problems } = parseSettings({ ranker: 'best' });
		assert.equal(settings.ranker, 'auto');
		assert.equal(problems.length, 1);
	});
});

import * as assert from 'node:assert/strict';
import { BestOfNError, describeError, settingName } from '../../src/core/errors';
import { parseSettings } from '../../src/core/settings';

describe('BestOfNError: the setting to change is data, rendered by each front end', () => {
	const flags = (field: string) => `--${field}`;

	it('names the setting the extension way in its message and the CLI way through describeError', () => {
		const error = new BestOfNError('unreachable', 'Could not reach Ollama at http://h:1. Point {ollamaHost} at your server.', {
			setting: 'ollamaHost',
		});
		assert.equal(error.message, 'Could not reach Ollama at http://h:1. Point bestOfN.ollama.host at your server.');
		assert.equal(describeError(error, flags), 'Could not reach Ollama at http://h:1. Point --ollamaHost at your server.');
		assert.equal(error.setting, 'ollamaHost');
		assert.equal(settingName('historySize'), 'bestOfN.instructionHistory.size');
	});

	it("leaves braces that are not a setting alone, as a server's quoted words may hold them", () => {
		const error = new BestOfNError('server', 'Ollama at h: bad request {"foo": 1} {input}');
		assert.equal(error.message, 'Ollama at h: bad request {"foo": 1} {input}');
		assert.equal(describeError(new Error('plain'), flags), 'plain');
	});

	it('settings problems come as data too, with the sentence for the log beside them', () => {
		const { issues, problems } = parseSettings({ candidates: 40, 'ollama.host': 'ftp://x' });
		assert.deepEqual(
			issues.map(i => [i.field, i.problem, i.using]),
			[
				['ollamaHost', 'is not an http(s) URL', 'http://127.0.0.1:11434'],
				['candidates', 'must be between 1 and 16', '16'],
			],
		);
		assert.deepEqual(problems, [
			'bestOfN.ollama.host "ftp://x" is not an http(s) URL; using http://127.0.0.1:11434.',
			'bestOfN.candidates must be between 1 and 16; using 16.',
		]);
	});
});

import * as assert from 'node:assert/strict';
import { parseWebviewMessage } from '../../src/core/protocol';

describe('messages from the webview', () => {
	it('accepts each well-formed message, keeping only known fields', () => {
		for (const type of ['ready', 'cancel', 'regenerate', 'close', 'showLog', 'setupReward']) {
			assert.deepEqual(parseWebviewMessage({ type, extra: '<script>' }), { type });
		}
		for (const type of ['accept', 'openDiff', 'copy']) {
			assert.deepEqual(parseWebviewMessage({ type, id: 3, text: 'injected' }), { type, id: 3 });
		}
	});

	it("keeps `ready`'s word that the page drew the state in its HTML, and only a literal true", () => {
		assert.deepEqual(parseWebviewMessage({ type: 'ready', drewPageState: true }), { type: 'ready', drewPageState: true });
		for (const drewPageState of ['true', 1, false, {}])
			assert.deepEqual(parseWebviewMessage({ type: 'ready', drewPageState }), { type: 'ready' });
	});

	it('lets through only web and mail links to open, normalized', () => {
		assert.deepEqual(parseWebviewMessage({ type: 'openLink', href: 'https://example.com/a b' }), {
			type: 'openLink',
			href: 'https://example.com/a%20b',
		});
		assert.deepEqual(parseWebviewMessage({ type: 'openLink', href: 'mailto:a@b.c' }), { type: 'openLink', href: 'mailto:a@b.c' });
		for (const href of [
			'command:workbench.action.terminal.new',
			'file:///etc/passwd',
			'javascript:alert(1)',
			'vscode://x',
			'/relative',
			'',
			42,
		]) {
			assert.equal(parseWebviewMessage({ type: 'openLink', href }), undefined, String(href));
		}
		assert.equal(parseWebviewMessage({ type: 'openLink', href: `https://e.com/${'a'.repeat(3000)}` }), undefined);
	});

	it('rejects anything malformed', () => {
		const bad: unknown[] = [
			null,
			'accept',
			42,
			[],
			{},
			{ type: 'apply', id: 1 },
			{ type: 'accept' },
			{ type: 'accept', id: '1' },
			{ type: 'accept', id: 1.5 },
			{ type: 'accept', id: -1 },
			{ type: 'accept', id: Number.NaN },
			{ type: 'copy', id: 1e9 },
			{ type: { toString: () => 'ready' } },
		];
		for (const value of bad) assert.equal(parseWebviewMessage(value), undefined, JSON.stringify(value));
	});
});

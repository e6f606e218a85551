// Hostile model text in the real workbench (code-server + headless Chromium): a model that answers
// with script, an image with onerror, javascript: and remote links, a Markdown image from a remote
// host, a very long line, bidi overrides and terminal escapes, shown in the picker as a rewrite.
// Everything must stay text: nothing runs, nothing is fetched (a beacon server on loopback hears
// every request the page could make), and hidden characters are shown as code points.
//   npm run build && npx mocha --no-config --timeout 180000 test/e2e/hostile.e2e.js
/* eslint-disable no-control-regex -- the tests look for control characters */
'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const h = require('./harness');

const tsx = require('tsx/cjs/api');
const { FakeOllama } = tsx.require('../fixtures/fakeOllama.ts', __filename);

const MODEL = 'llama3.1:8b';
const FILE = 'page.js';
const LINE = 'const greeting = "hello";';
const WAIT = 30000;
const LONG = 'x'.repeat(20000);
/** Bidi embeddings, overrides and isolates, and ESC: drawn as they are, they would change what is read. */
const HIDDEN = /[\u202a-\u202e\u2066-\u2069\x1b]/;

/** Records every request made to it: any one means hostile text made the page fetch something. */
function startBeacon() {
	const requests = [];
	const server = http.createServer((req, res) => {
		requests.push(`${req.method} ${req.url}`);
		res.writeHead(204).end();
	});
	return new Promise(resolve =>
		server.listen(0, '127.0.0.1', () =>
			resolve({ requests, url: `http://127.0.0.1:${/** @type {import('net').AddressInfo} */ (server.address()).port}`, server }),
		),
	);
}

/** A reply carrying every trick, each pointing at the beacon. */
function hostileReply(beacon) {
	return [
		`<script>window.pwned = 'script'; fetch('${beacon}/script')</script>`,
		`<img src=x onerror="window.pwned = 'onerror'; fetch('${beacon}/onerror')">`,
		`[run me](javascript:fetch('${beacon}/javascript-link'))`,
		'[docs](https://docs.example.invalid/page)',
		`![pixel](${beacon}/pixel.png)`,
		`<a href="${beacon}/html-link">html link</a>`,
		`bidi /*\u202e } \u2066if (isAdmin)\u2069 \u2066 admins only */`,
		`term \x1b[31mred\x1b[0m \x1b]8;;${beacon}/osc\x07osc link\x1b]8;;\x07`,
		LONG,
	].join('\n\n');
}

/** What a frame (or the workbench page) has that would make hostile text act rather than show. */
async function liveness(frameOrPage) {
	return frameOrPage.locator('body').evaluate(body => ({
		pwned: /** @type {any} */ (window).pwned,
		scripts: [...document.querySelectorAll('script')].map(s => ({
			src: s.getAttribute('src') || '',
			nonce: !!s.nonce,
			text: s.textContent || '',
		})),
		imgs: [...body.querySelectorAll('img')].map(i => i.getAttribute('src')),
		frames: body.querySelectorAll('iframe, object, embed').length,
		handlers: [...body.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name)).map(a => a.name)),
		hrefs: [...body.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
	}));
}

describe('e2e: hostile model text stays inert', function () {
	this.timeout(h.patient(300000));
	let beacon;
	let fake;
	let wb;
	let page;
	let workspace;
	let reply;

	before(async function () {
		this.timeout(4 * h.LOAD_TIMEOUT);
		beacon = await startBeacon();
		reply = hostileReply(beacon.url);
		fake = new FakeOllama({ models: [MODEL], respond: () => reply, tokenDelayMs: 0, chunkSize: 400 });
		await fake.start();
		workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-hostile-ws-'));
		fs.cpSync(h.FIXTURE_WORKSPACE, workspace, { recursive: true });
		fs.writeFileSync(path.join(workspace, FILE), `${LINE}\n`);
		wb = await h.openWorkbench({
			workspace,
			copyWorkspace: false,
			userSettings: {
				'bestOfN.ollama.host': fake.url,
				'bestOfN.model': MODEL,
				'bestOfN.ranker': 'consensus',
				'bestOfN.candidates': 2,
			},
		});
		page = wb.page;
		page.setDefaultTimeout(h.patient(WAIT));
	});

	afterEach(async function () {
		if (this.currentTest?.state !== 'failed') return;
		await h.screenshotOnFailure(this, page);
		await h.logWebviewText(h.webviewFrame(page), 'webview');
		if (wb) h.logWorkbench(wb);
	});

	after(async () => {
		if (wb) await wb.teardown();
		if (fake) await fake.close();
		if (beacon) beacon.server.close();
		if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
	});

	async function selectLine() {
		const line = page.locator('.editor-group-container.active .editor-instance .view-line', { hasText: 'greeting' }).first();
		await line.click();
		await page.keyboard.press('Home');
		await page.keyboard.press('Shift+End');
		await page.locator('.editor-group-container.active .editor-instance .selected-text').first().waitFor();
	}

	async function waitDone(picker) {
		await h.until('the run to finish', async () => (await picker.locator('.status-row .phase').textContent()) === 'Done', {
			timeout: WAIT,
		});
	}

	function assertInert(live, where) {
		assert.strictEqual(live.pwned, undefined, `no script ran in ${where}`);
		assert.deepStrictEqual(live.imgs, [], `no image in ${where}`);
		assert.strictEqual(live.frames, 0, `no frame or object in ${where}`);
		assert.deepStrictEqual(live.handlers, [], `no inline event handler in ${where}`);
		// VS Code adds a script of its own to every webview; none may hold the model's text.
		assert.ok(!live.scripts.some(s => s.text.includes('pwned')), `no script element holds the model's text in ${where}`);
		assert.ok(
			live.scripts.filter(s => s.src).every(s => s.nonce && s.src.includes('/dist/')),
			`only the bundle is loaded, by nonce, in ${where}: ${JSON.stringify(live.scripts.map(s => s.src))}`,
		);
	}

	it('the picker shows a rewrite’s script, links, escapes and bidi overrides as text', async () => {
		await h.openFileFromExplorer(page, FILE);
		await selectLine();
		await h.startRewrite(page);
		await h.giveInstruction(page, 'make it friendlier');
		const picker = h.webviewFrame(page);
		await waitDone(picker);
		const shown = await picker.locator('pre.text-view').textContent();
		assert.ok(shown.includes(`<script>window.pwned = 'script'`), 'the script is shown as text');
		assert.ok(shown.includes(LONG), 'the long line is shown whole');
		assert.ok(shown.includes('/*<U+202E> } <U+2066>if (isAdmin)<U+2069>'), 'bidi controls are shown as code points');
		assert.ok(shown.includes('term <U+001B>[31mred'), 'terminal escapes are shown as code points');
		assert.ok(!HIDDEN.test(shown), 'no hidden character is drawn as is');
		const preview = await picker.locator('.list [role=option] .preview').first().textContent();
		assert.ok(!HIDDEN.test(preview), `the row preview shows none either: ${preview}`);
		const live = await liveness(picker);
		assertInert(live, 'the picker');
		assert.deepStrictEqual(live.hrefs, [], 'no link in code');
		assert.deepStrictEqual(beacon.requests, [], 'nothing was fetched');
		await page.keyboard.press('Escape');
		await page.locator('.tabs-container .tab', { hasText: 'Best-of-N:' }).first().waitFor({ state: 'detached' });
	});
});

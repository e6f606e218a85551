// The picker's page alone in headless Chromium, without a workbench: the HTML the extension writes
// (buildPickerHtml, with its CSP) and the real bundle and stylesheet from dist/ and media/, served
// from loopback, with a stand-in for VS Code's webview API that records what the page posts and
// keeps its saved state across a reload (as VS Code does for a panel hidden and shown again). Nothing
// is ever posted to the page unless a test says so, so what it draws comes from its own HTML.
//   node esbuild.js && npx mocha --no-config --timeout 180000 test/e2e/pickerPage.e2e.js
'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const host = require('../../scripts/vscode-host');
const h = require('./harness');

const tsx = require('tsx/cjs/api');
const { buildPickerHtml, pickerPlaceholder } = tsx.require('../../src/vscode/pickerHtml.ts', __filename);

const NONCE = 'c2VydmVkLWJ5LWEtdGVzdA==';
/** Model text that would end a script block, open a comment or run, and the two characters JavaScript once took as line ends. */
const HOSTILE = 'return total; // </script><script>window.pwned = "script"</script> <!-- <script>window.pwned = "comment"\u2028\u2029 -->';

const API = `window.acquireVsCodeApi = () => ({
	postMessage: m => (window.posted ??= []).push(m),
	getState: () => (sessionStorage.state === undefined ? undefined : JSON.parse(sessionStorage.state)),
	setState: s => (sessionStorage.state = JSON.stringify(s)),
});`;

function state(runId, candidates, phase = 'done') {
	return {
		runId,
		runKey: `run-${runId}`,
		phase,
		task: {
			kind: 'rewrite',
			title: `Rewrite ${HOSTILE}`,
			diffable: true,
			acceptLabel: 'Accept',
			acceptHint: 'Replace the selection with this candidate (Enter)',
			detail: 'code',
		},
		original: `function total(items) {\n  ${HOSTILE}\n}\n`,
		languageId: 'javascript',
		model: 'llama3.1:8b',
		host: 'http://localhost:11434',
		requested: candidates.length,
		ranker: { kind: 'reward', label: 'reward-model', reason: 'reward model loaded' },
		candidates,
		startedAt: 0,
		elapsedMs: phase === 'done' ? 1200 : undefined,
	};
}

const FIRST = state(1, [
	{ id: 0, status: 'done', text: `function total(items) {\n  ${HOSTILE}\n}`, score: 1.5, rank: 1, count: 1 },
	{ id: 1, status: 'done', text: 'const total = items => items.reduce((s, i) => s + i.price, 0);', score: -0.5, rank: 2, count: 1 },
]);
const NEWER = state(2, [{ id: 0, status: 'streaming', text: 'const newer = 1;', count: 1 }], 'generating');

/**
 * Serves the page and exactly the files it may load; `requests` lists everything asked for. With
 * `first`, the page starts from that state and carries its static first paint, and the bundle is held
 * back until `release()`: what the page shows while VS Code is still loading its script.
 */
function servePage(first) {
	const requests = [];
	let html = '';
	/** @type {(value?: unknown) => void} */
	let release = () => {};
	const released = first ? new Promise(resolve => (release = resolve)) : Promise.resolve();
	const files = { '/dist/picker.js': 'text/javascript', '/media/picker.css': 'text/css' };
	const server = http.createServer(async (req, res) => {
		requests.push(req.url);
		if (req.url === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
		const type = files[req.url ?? ''];
		if (!type) return res.writeHead(404).end();
		if (req.url === '/dist/picker.js') await released;
		res.writeHead(200, { 'content-type': type }).end(fs.readFileSync(path.join(host.ROOT, req.url ?? '')));
	});
	return new Promise(resolve =>
		server.listen(0, '127.0.0.1', () => {
			const origin = `http://127.0.0.1:${/** @type {import('net').AddressInfo} */ (server.address()).port}`;
			html = buildPickerHtml({
				cspSource: origin,
				nonce: NONCE,
				scriptUri: `${origin}/dist/picker.js`,
				styleUri: `${origin}/media/picker.css`,
				title: 'Best-of-N',
				state: first ?? FIRST,
				placeholder: first && pickerPlaceholder(first),
			});
			resolve({ server, origin, requests, release });
		}),
	);
}

describe('the picker page, from its own HTML (headless Chromium)', function () {
	let served;
	let context;
	let page;
	let scratch;
	const rows = () => page.locator('.list [role=option]');

	before(async function () {
		if (!fs.existsSync(path.join(host.ROOT, 'dist', 'picker.js')))
			throw new Error('dist/picker.js is missing: run `node esbuild.js` first');
		served = await servePage();
		scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-picker-page-'));
		context = await host.launchBrowser(scratch);
		await context.addInitScript(API);
		page = context.pages()[0] || (await context.newPage());
		page.setDefaultTimeout(h.patient(30000));
	});

	after(async function () {
		await context?.close().catch(() => {});
		served?.server.close();
		if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
	});

	it('draws the state written into its HTML with no message posted to it, and says so with ready', async function () {
		await page.goto(served.origin);
		await rows().nth(1).waitFor();
		assert.deepEqual(await page.evaluate('window.posted'), [{ type: 'ready', drewPageState: true }]);
		assert.match(await page.locator('.status-row').innerText(), /done/i);
		assert.equal(await rows().count(), 2);
		// The best candidate is active: its text, hostile markup and all, is in the detail pane as text.
		const detail = await page.locator('.detail-body').textContent();
		assert.ok(detail.includes(HOSTILE), `the detail pane shows the candidate's text exactly: ${JSON.stringify(detail)}`);
		assert.ok((await page.locator('.title-row').textContent()).includes(HOSTILE));
	});

	it('keeps hostile text in that state inert: nothing runs, nothing is added, nothing else is fetched', async function () {
		assert.equal(await page.evaluate('window.pwned'), undefined);
		// The data block and the bundle: no script element came out of the text.
		assert.equal(await page.evaluate('document.scripts.length'), 2);
		const block = await page.evaluate(`document.getElementById('bestofn-state').textContent`);
		assert.deepEqual(JSON.parse(block), FIRST, 'the block holds the whole state and nothing else');
		// Chromium asks for a favicon by itself; anything else would be the page fetching.
		const asked = new Set(served.requests.filter(url => url !== '/favicon.ico'));
		assert.deepEqual([...asked].sort(), ['/', '/dist/picker.js', '/media/picker.css']);
	});

	it('still takes the states posted after it', async function () {
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), NEWER);
		await h.until('the newer run', async () => (await rows().count()) === 1 && /newer/.test(await rows().first().innerText()));
	});

	it('shows a running run without animating anything: the bar and the rows change only with the run', async function () {
		const running = state(
			3,
			[
				{ id: 0, status: 'done', text: 'const scored = 1;', score: 0.5, count: 1 },
				{ id: 1, status: 'done', text: 'const unscored = 1;', count: 1 },
				{ id: 2, status: 'streaming', text: 'const streaming', count: 1 },
				{ id: 3, status: 'queued', text: '', count: 1 },
			],
			'generating',
		);
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), running);
		await h.until('the running run', async () => (await rows().count()) === 4 && /streaming/.test(await rows().nth(2).innerText()));
		// Anything running here would have the browser redraw the panel at the display's rate all run long.
		const animations = await page.evaluate(
			`document.getAnimations().map(a => (a.animationName ?? a.transitionProperty ?? 'script') + ' on ' + a.effect?.target?.className)`,
		);
		assert.deepEqual(animations, [], 'nothing animates while the run goes');
		// The bar shows how far the run has got: of 4, one generated and scored (1), one generated (1/2),
		// one half way (1/4), one queued (0).
		const bar = await page.locator('.busy-bar').boundingBox();
		const fill = await page.locator('.busy-bar .busy-fill').boundingBox();
		assert.ok(bar && fill && bar.width > 100, 'the bar is shown across the header');
		assert.ok(Math.abs(fill.width / bar.width - 7 / 16) < 0.01, `filled ${fill.width} of ${bar.width}`);
		const done = state(
			3,
			[0, 1, 2, 3].map(id => ({ id, status: 'done', text: `const c${id} = 1;`, score: id, rank: 4 - id, count: 1 })),
		);
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), done);
		await h.until('the run done, its bar gone', async () => !(await page.locator('.busy-bar').isVisible()));
	});

	it('adds the new words of a streaming candidate after the text already shown, leaving that text as it is', async function () {
		const streaming = text => state(5, [{ id: 0, status: 'streaming', text, count: 1 }], 'generating');
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), streaming('The first words'));
		const pre = page.locator('.detail-body pre.text-view');
		await h.until('the first words', async () => (await pre.textContent()) === 'The first words');
		// What happens to the text shown so far as more comes: changing it has the browser lay out and
		// repaint all of it again at every snapshot, where new nodes after it cost only their own lines.
		await page.evaluate(`(() => {
			const node = document.querySelector('.detail-body pre.text-view');
			window.firstNode = node.firstChild;
			window.textChanges = [];
			const observer = new MutationObserver(records => window.textChanges.push(...records.map(r => r.type)));
			observer.observe(node, { subtree: true, characterData: true, childList: true });
		})()`);
		for (const text of ['The first words and', 'The first words and more', 'The first words and more of them.'])
			await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), streaming(text));
		await h.until('all the words', async () => (await pre.textContent()) === 'The first words and more of them.');
		assert.deepEqual(await page.evaluate('[...new Set(window.textChanges)]'), ['childList'], 'only added, never rewritten');
		assert.equal(await page.evaluate('window.firstNode.data'), 'The first words');
		assert.ok(await page.evaluate('window.firstNode.parentNode === document.querySelector(".detail-body pre.text-view")'));
	});

	it('dims a row that cannot be applied yet by its colour, with no opacity to come and go as candidates end', async function () {
		const rowsOf = statuses =>
			state(
				6,
				statuses.map((status, id) => ({ id, status, text: `const c${id} = 1;`, count: 1 })),
				'generating',
			);
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), rowsOf(['done', 'streaming']));
		await h.until('a done row and a streaming row', async () => /streaming/.test(await rows().nth(1).innerText()));
		const looks = () =>
			page.evaluate(`[...document.querySelectorAll('.list [role=option]')].map(row => {
				const opacities = [row, ...row.querySelectorAll('*')].map(e => getComputedStyle(e).opacity);
				const color = getComputedStyle(row.querySelector('.preview')).color;
				return { color, rowColor: getComputedStyle(row).color, opacities: [...new Set(opacities)] };
			})`);
		const alpha = color => {
			const m = /^(?:rgba?\(|color\(srgb )([^)]*)\)$/.exec(color);
			const parts = (m?.[1] ?? '').split(/[\s,/]+/).filter(Boolean);
			return parts.length === 4 ? Number(parts[3]) : 1;
		};
		const [done, streaming] = await looks();
		assert.deepEqual(done.opacities, ['1'], 'nothing on a finished row has an opacity');
		assert.deepEqual(streaming.opacities, ['1'], 'nothing on a streaming row has an opacity');
		assert.equal(alpha(done.color), 1, `a finished row's text is as its row's: ${done.color}`);
		assert.ok(
			Math.abs(alpha(streaming.color) - 0.75) < 0.01,
			`a streaming row's text is dimmed: ${streaming.color} on ${streaming.rowColor}`,
		);
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), rowsOf(['done', 'done']));
		await h.until('both rows done', async () => !/streaming/.test(await rows().nth(1).innerText()));
		const [, ended] = await looks();
		assert.equal(alpha(ended.color), 1, `once done, its text is no longer dimmed: ${ended.color}`);
	});

	it('shows a running time in whole seconds that moves on, and the final time in tenths', async function () {
		const startedAt = Date.now() - 2_500;
		const running = { ...state(4, [{ id: 0, status: 'streaming', text: 'const clocked', count: 1 }], 'generating'), startedAt };
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), running);
		await h.until('the run drawn', async () => (await rows().count()) === 1 && /clocked/.test(await rows().first().innerText()));
		// Every text the clock shows from now on, as the page draws it.
		await page.evaluate(`(() => {
			window.clockTexts = [];
			const row = document.querySelector('.status-row');
			new MutationObserver(() => {
				const text = row.querySelector('.elapsed')?.textContent ?? '';
				if (text !== window.clockTexts.at(-1)) window.clockTexts.push(text);
			}).observe(row, { subtree: true, childList: true, characterData: true });
		})()`);
		await h.until('the clock to have shown three seconds', async () => (await page.evaluate('window.clockTexts.length')) >= 3);
		const texts = await page.evaluate('window.clockTexts');
		const seconds = texts.map(t => {
			assert.match(t, /^\d+ s$/, `whole seconds while the run goes: ${JSON.stringify(texts)}`);
			return Number.parseInt(t, 10);
		});
		// Counted from the run's start (2.5 s before the state was posted), and moving on.
		assert.ok(seconds[0] >= 3, `${JSON.stringify(texts)} counts from the run's start`);
		seconds.slice(1).forEach((s, i) => assert.ok(s > seconds[i], `the clock moves on: ${JSON.stringify(texts)}`));
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), {
			...running,
			phase: 'done',
			elapsedMs: 4_321,
			candidates: [{ id: 0, status: 'done', text: 'const done = 1;', count: 1 }],
		});
		await h.until('the final time', async () => (await page.locator('.status-row .elapsed').textContent()) === '4.3 s');
	});

	it('moves the clock on with the streaming snapshots while they come, never in a frame of its own', async function () {
		// A run 2.8 s old whose candidate streams: a snapshot with more words every 100 ms, as the host posts them.
		const startedAt = Date.now() - 2_800;
		const running = words => ({
			...state(
				5,
				[
					{
						id: 0,
						status: 'streaming',
						text: `const streamed = [${Array.from({ length: words }, (_, i) => i).join(', ')}`,
						count: 1,
					},
				],
				'generating',
			),
			startedAt,
		});
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), running(1));
		await h.until('the run drawn', async () => (await rows().count()) === 1 && /streamed/.test(await rows().first().innerText()));
		// Each batch of changes the page makes (one per task or frame): whether the clock changed in it, and the text.
		await page.evaluate(`(() => {
			window.clockBatches = [];
			const clock = document.querySelector('.status-row .elapsed');
			const detail = document.querySelector('.detail');
			let shown = clock.textContent;
			new MutationObserver(records => {
				const text = clock.textContent;
				if (text === shown) return;
				shown = text;
				window.clockBatches.push({ clock: text, withText: records.some(r => detail.contains(r.target)) });
			}).observe(document.body, { subtree: true, childList: true, characterData: true });
		})()`);
		// Every 50 ms (the host posts at most every 100): a stall of this test's own loop on a busy
		// machine then needs to last over 200 ms before the clock's 250 ms fold could run out alone.
		for (let words = 2; words <= 49; words++) {
			await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), running(words));
			await new Promise(resolve => setTimeout(resolve, 50));
		}
		const batches = await page.evaluate('window.clockBatches');
		assert.ok(batches.length >= 2, `the clock moved on while the text streamed: ${JSON.stringify(batches)}`);
		assert.deepEqual(
			batches.filter(b => !b.withText),
			[],
			`every change of the clock came in a draw of the streamed text: ${JSON.stringify(batches)}`,
		);
	});

	it('on a reload (the panel shown again) waits for the newest state instead of drawing the old one in its HTML', async function () {
		await page.reload();
		await h.until('ready', () => page.evaluate('window.posted?.length === 1'));
		assert.deepEqual(await page.evaluate('window.posted'), [{ type: 'ready' }]);
		assert.equal(await rows().count(), 0, 'nothing of the state written into the page is drawn');
		await page.evaluate(s => window.postMessage({ type: 'state', state: s }, '*'), NEWER);
		await h.until('the newest run', async () => (await rows().count()) === 1 && /newer/.test(await rows().first().innerText()));
	});
});

describe("the picker page's static first paint, before its script has loaded (headless Chromium)", function () {
	let served;
	let context;
	let page;
	let scratch;
	const first = state(
		7,
		[
			{ id: 0, status: 'queued', text: '', count: 1 },
			{ id: 1, status: 'queued', text: '', count: 1 },
			{ id: 2, status: 'queued', text: '', count: 1 },
		],
		'generating',
	);

	before(async function () {
		if (!fs.existsSync(path.join(host.ROOT, 'dist', 'picker.js')))
			throw new Error('dist/picker.js is missing: run `node esbuild.js` first');
		served = await servePage(first);
		scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-picker-first-paint-'));
		context = await host.launchBrowser(scratch);
		await context.addInitScript(API);
		page = context.pages()[0] || (await context.newPage());
		page.setDefaultTimeout(h.patient(30000));
	});

	after(async function () {
		served?.release();
		await context?.close().catch(() => {});
		served?.server.close();
		if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
	});

	it('shows the run, what it is doing and a row per candidate, styled and busy, while the script is not there', async function () {
		// The page's load event waits for the held script: only the response is waited for here.
		await page.goto(served.origin, { waitUntil: 'commit' });
		const boot = page.locator('#app [role=status]');
		await boot.waitFor({ state: 'visible' });
		assert.equal(await boot.getAttribute('aria-busy'), 'true');
		const text = await boot.innerText();
		assert.ok(text.includes(`Rewrite ${HOSTILE}`), `the heading, hostile text and all, as text: ${JSON.stringify(text)}`);
		assert.ok(text.includes('Generating 3 candidates…'), JSON.stringify(text));
		// The stylesheet applies to it (an unstyled empty row has no height), and the rows are not read out.
		const heights = await page.evaluate(
			`[...document.querySelectorAll('#app [aria-hidden=true] > *')].map(r => r.getBoundingClientRect().height)`,
		);
		assert.deepEqual(heights, [22, 22, 22]);
		assert.equal(await page.evaluate('window.pwned'), undefined);
		assert.equal(await page.evaluate('document.scripts.length'), 2, 'the data block and the bundle, nothing from the text');
		assert.equal(await page.evaluate('window.posted'), undefined, 'no script of the page has run');
	});

	it("is replaced by the script's page once the script comes", async function () {
		served.release();
		await page.locator('.list [role=option]').nth(2).waitFor();
		assert.match(await page.locator('.status-row').innerText(), /generating/i);
		assert.equal(await page.locator('#app [aria-busy=true]').count(), 0, 'the static first paint is gone');
		assert.equal(await page.getByText('Generating 3 candidates…').count(), 0);
		assert.deepEqual(await page.evaluate('window.posted'), [{ type: 'ready', drewPageState: true }]);
	});
});

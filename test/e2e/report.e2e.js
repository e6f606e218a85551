// The ranking report as a person opens it: a preference log of a few weeks of picks in the
// extension's global storage, "Best-of-N: Show Ranking Report" from the palette, charts and tables
// in the webview, reachable with the keyboard. Saves .artifacts/e2e-ranking-report.png.
//   npx mocha --no-config --timeout 180000 test/e2e/report.e2e.js
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const h = require('./harness');

const tsx = require('tsx/cjs/api');
/** @type {typeof import('../fixtures/present')} */
const { at } = tsx.require('../fixtures/present.ts', __filename);

const TEXTS = [
	'const total = items.reduce((s, i) => s + i.price, 0);',
	'let total = 0;\nfor (const i of items) total += i.price;',
	'const total = sum(items.map(i => i.price));',
	'return items.length;',
];

/**
 * A log of 42 picks over three weeks, in cycles of six runs: five ranked by the reward model, whose
 * pick fell at ranks 1, 1, 2, 1, 1 (its #1 picked in 4 of 5), then one by consensus, whose pick fell
 * at ranks 1 and 2 in turn (4 of its 7 at #1). Fixed, so the numbers below are known.
 */
function writeLog(file) {
	const lines = [];
	const start = Date.parse('2026-02-02T09:00:00Z');
	for (let i = 0; i < 42; i++) {
		const reward = i % 6 !== 5;
		const chosenRank = reward ? at([1, 1, 2, 1, 1], i % 6) : at([1, 2], Math.floor(i / 6) % 2);
		const candidates = TEXTS.map((text, id) => ({
			id,
			text,
			seed: 100 + id,
			score: reward ? 2 - id : 0.9 - id / 10,
			rank: id + 1,
			count: 1,
		}));
		lines.push(
			JSON.stringify({
				v: 1,
				time: new Date(start + i * 12 * 3600_000).toISOString(),
				task: 'rewrite',
				instruction: 'make it idiomatic',
				messages: [{ role: 'user', content: 'Instruction: make it idiomatic' }],
				prompt: 'make it idiomatic\n\nvar total = 0; for (var k = 0; k < items.length; k++) total += items[k].price;',
				languageId: 'javascript',
				model: 'qwen2.5-coder:7b',
				backend: 'ollama',
				host: 'http://127.0.0.1:11434',
				ranker: reward
					? { kind: 'reward', label: 'OpenAssistant/reward-model-deberta-v3-large-v2' }
					: { kind: 'consensus', label: 'consensus' },
				...(reward ? { rewardModel: 'OpenAssistant/reward-model-deberta-v3-large-v2' } : {}),
				candidates,
				chosen: chosenRank - 1,
			}),
		);
	}
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

describe('ranking report', function () {
	this.timeout(h.patient(420000)); // the workbench alone took over 3 minutes with several builds on 2 cores
	let wb;

	before(async () => {
		wb = await h.openWorkbench();
		writeLog(h.preferenceLogPath(wb));
	});

	afterEach(async function () {
		await h.screenshotOnFailure(this, wb && wb.page);
	});

	after(async () => {
		if (wb) await wb.teardown();
	});

	it('draws agreement per ranker, the picked ranks, the trend and consensus beside the reward model', async () => {
		const tab = wb.page.locator('.tabs-container .tab', { hasText: 'Best-of-N: Ranking Report' });
		await h.runCommandUntil(wb.page, 'Best-of-N: Show Ranking Report', tab, { timeout: 120000 });
		const frame = await h.webviewTitled(wb.page, 'Best-of-N: Ranking Report');
		try {
			await frame.locator('h2', { hasText: 'Top-1 agreement per ranker' }).waitFor({ timeout: 60000 });
		} catch (e) {
			await h.logWebviewText(frame, 'report');
			h.logWorkbench(wb);
			throw e;
		}
		// 35 reward runs: picks at #1 in 4 of each 5 → 28 of 35 (the 6-cycle's sixth run is consensus).
		const rows = await frame.locator('table').first().locator('tbody tr').allInnerTexts();
		assert.deepStrictEqual(
			rows.map(r => r.split('\t').map(s => s.trim())),
			[
				['OpenAssistant/reward-model-deberta-v3-large-v2', '28', '35', '80%', '64%–90%'],
				['consensus', '4', '7', '57%', '25%–84%'],
			],
		);
		assert.strictEqual(await frame.locator('svg.chart').count(), 4, 'four charts');
		assert.ok((await frame.locator('svg.chart rect.bar').count()) >= 6, 'bars are drawn');
		assert.strictEqual(await frame.locator('svg.chart polyline.line').count(), 1, 'a trend line');
		// The keyboard reaches the tables: Tab moves from the buttons into the first table.
		await frame.locator('button', { hasText: 'Export Preferences…' }).focus();
		for (let i = 0; i < 3; i++) await wb.page.keyboard.press('Tab');
		const focused = await frame.locator(':focus').getAttribute('aria-label');
		assert.strictEqual(focused, 'Top-1 agreement per ranker, as a table');
		await h.screenshot(wb.page, 'e2e-ranking-report');
		assert.deepStrictEqual(wb.pageErrors.map(String), []);
	});
});

// Helpers for end-to-end tests that drive the real workbench (code-server in headless Chromium)
// the way a person would: explorer clicks, the command palette, keys, the picker's webview.
// Integration tests (test/integration) check the extension through the API; these check what the
// user sees, so they wait on the DOM and never call into the extension directly.
//
//   const h = require('./harness');
//   const wb = await h.openWorkbench();          // server + browser + workbench ready
//   await h.openFileFromExplorer(wb.page, 'sample.txt');
//   await h.runCommand(wb.page, 'Best-of-N: …');
//   await wb.teardown();
//
// Selectors are the ones that held on code-server 4.139.1 (VS Code 1.139.1); when an upgrade breaks
// one, it should break here and nowhere else.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const host = require('../../scripts/vscode-host');

const ROOT = host.ROOT;
const ARTIFACTS = path.join(ROOT, '.artifacts');
const FIXTURE_WORKSPACE = path.join(ROOT, 'test', 'fixtures', 'workspace');
const WAIT = 30000; // any single UI step on a quiet machine; the workbench itself gets longer (see openWorkbench)

/**
 * A bound on waiting, stretched by how busy the machine is right now. On 2 cores shared with other
 * jobs the workbench can be several times slower than on a quiet machine: the bounds are there to
 * turn a hang into a failure, not to time anything, so they grow with the load average per core
 * (1× to 4×; BESTOFN_E2E_SLOWDOWN sets the factor instead).
 */
function patient(ms) {
	const set = Number(process.env.BESTOFN_E2E_SLOWDOWN);
	const factor = set > 0 ? set : Math.min(4, Math.max(1, (os.loadavg()[0] ?? 0) / os.cpus().length));
	return Math.round(ms * factor);
}

const escapeRe = s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = text => new RegExp(`^\\s*${escapeRe(text)}\\s*$`);
const indent = text => String(text).replace(/^/gm, '      | '); // a block of text in a failure report

const sleep = ms => new Promise(r => setTimeout(r, ms));

/**
 * Polls `check` (sync or async) until it returns a truthy value; bounded, with a useful error. The
 * bound is a quiet machine's, stretched by `patient`.
 */
async function until(what, check, { timeout: quiet = WAIT } = {}) {
	const timeout = patient(quiet);
	const deadline = Date.now() + timeout;
	let last;
	for (;;) {
		try {
			last = await check();
		} catch (e) {
			last = e;
		}
		if (last && !(last instanceof Error)) return last;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeout} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
		await sleep(100);
	}
}

/**
 * Starts code-server with the extension loaded from the working tree, opens the workbench in
 * headless Chromium and waits until the explorer shows the workspace.
 * The workspace is copied into the run's scratch folder first (copyWorkspace: false opts out), so
 * a test that applies an edit cannot dirty the fixtures in git. `workspaceSettings` become the
 * copy's .vscode/settings.json before the window opens (only with a copy, for the same reason).
 * `viewport` is the browser window's inner size (default 1400×850). `installExtensions`: folders
 * installed (linked) into the server's extensions folder, as a person's extensions are; with them,
 * `extensionDevelopmentPath: []` loads nothing from the page URL (it holds at most one such path).
 *
 * @param {{
 *   workspace?: string, copyWorkspace?: boolean, workspaceSettings?: Record<string, unknown>,
 *   extensionDevelopmentPath?: string | string[], installExtensions?: string[], vsix?: string,
 *   userSettings?: Record<string, unknown>, env?: Record<string, string>,
 *   viewport?: { width: number, height: number },
 * }} [options]
 */
async function openWorkbench({
	workspace = FIXTURE_WORKSPACE,
	copyWorkspace = true,
	workspaceSettings,
	extensionDevelopmentPath = ROOT,
	installExtensions,
	vsix,
	userSettings,
	env,
	viewport,
} = {}) {
	if (workspaceSettings && !copyWorkspace) throw new Error('workspaceSettings are written into the copy; they need copyWorkspace');
	host.ensureHost();
	// With a vsix, the installed package and nothing from the repository.
	const server = await host.startServer({
		extensionDevelopmentPath: vsix ? undefined : extensionDevelopmentPath,
		installExtension: installExtensions,
		vsix,
		userSettings,
		env,
	});
	let context;
	const teardown = async () => {
		if (context)
			await host.within(
				10000,
				context.close().catch(() => {}),
			);
		await server.stop();
	};
	try {
		let folder = path.resolve(workspace);
		if (copyWorkspace) {
			const copy = path.join(server.scratch, 'workspace');
			fs.cpSync(folder, copy, { recursive: true });
			folder = copy;
		}
		if (workspaceSettings) {
			fs.mkdirSync(path.join(folder, '.vscode'), { recursive: true });
			fs.writeFileSync(path.join(folder, '.vscode', 'settings.json'), JSON.stringify(workspaceSettings, null, 2));
		}
		context = await host.launchBrowser(server.scratch, viewport ? { viewport } : undefined);
		const page = context.pages()[0] || (await context.newPage());
		page.setDefaultTimeout(patient(WAIT));
		const pageErrors = []; // uncaught errors in the workbench page; a test may assert on them
		page.on('pageerror', e => pageErrors.push(e));
		await page.goto(server.url(folder), { timeout: host.LOAD_TIMEOUT });
		// 10-14 s from server start on 2 cores; the explorer rows are the last thing to appear.
		await page.locator('.monaco-workbench').waitFor({ timeout: host.LOAD_TIMEOUT });
		await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: host.LOAD_TIMEOUT });
		return { server, context, page, folder, pageErrors, teardown };
	} catch (err) {
		await screenshotQuietly(context, 'open-workbench-failure');
		console.error(`workbench did not open; server log ${server.logPath}:\n${host.tail(server.logPath, 30)}`);
		await teardown();
		throw err;
	}
}

/** Runs a command from the palette by its full label as shown there, e.g. "View: Toggle Terminal". */
async function runCommand(page, title, { timeout = patient(WAIT) } = {}) {
	await chooseCommand(page, title, { timeout });
	await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout });
}

/**
 * Runs a command from the palette until what it shows (`answer`, a locator: a toast, a dialog, a
 * tab) is visible. The palette lists an extension's commands once the workbench has read its
 * manifest, but on a loaded machine the extension host may start seconds later: a development
 * extension's command is not listed yet, and an installed one's ends in VS Code's "command … not
 * found" dialog. Either way this closes what is open and asks again, as a person would; an answer
 * already showing (a slow one from the last try) counts. `each` bounds one try.
 */
async function runCommandUntil(page, title, answer, { timeout = 2 * WAIT, each = 10000 } = {}) {
	const notYet = page.locator('.monaco-dialog-box', { hasText: 'not found' });
	await until(
		`${title} to answer`,
		async () => {
			if (await answer.isVisible()) return true;
			try {
				await runCommand(page, title, { timeout: patient(each) });
			} catch (e) {
				await page.keyboard.press('Escape'); // not listed yet: close the palette
				return e;
			}
			const seen = await Promise.race([
				answer.waitFor({ state: 'visible', timeout: patient(each) }).then(() => 'answered'),
				notYet.waitFor({ state: 'visible', timeout: patient(each) }).then(() => 'not yet'),
			]).catch(() => 'nothing');
			if (seen === 'not yet') await page.keyboard.press('Escape');
			if (seen !== 'answered') await sleep(3000);
			return seen === 'answered';
		},
		{ timeout },
	);
}

/**
 * F1 and the command by its full label, without waiting for the palette to close: for a command
 * that opens its own quick pick in the same widget. Resolves with that widget's text box.
 *
 * The palette lists the commands it knew when it opened: opened before the extension host has read
 * an extension, it never lists that extension's commands, however long it stays open (F1 again
 * keeps the same list). So when the row is not there within a few seconds this closes the palette
 * and opens it again, as a person would, until `timeout`.
 */
async function chooseCommand(page, title, { timeout = patient(WAIT) } = {}) {
	const deadline = Date.now() + timeout;
	const input = page.locator('.quick-input-widget input');
	// The first row is not always ours (recently used, fuzzy matches), so wait for the row whose
	// label is exactly the title, focus it with the keyboard and press Enter, as a person would.
	const row = page
		.locator('.quick-input-list .monaco-list-row')
		.filter({ has: page.locator('.label-name', { hasText: exactly(title) }) })
		.first();
	for (;;) {
		await page.keyboard.press('F1');
		await input.waitFor({ state: 'visible', timeout: Math.max(1000, deadline - Date.now()) });
		try {
			// The palette can close again as it opens: a focus change that was still on its way (the
			// editor taking the keyboard back once a picker has gone) closes it, as it would for a
			// person, who presses F1 again. So the text goes in within a few seconds or the palette is
			// asked for again.
			const short = () => Math.max(1000, Math.min(deadline - Date.now(), patient(5000)));
			await input.fill(`>${title}`, { timeout: short() });
			await row.waitFor({ timeout: short() });
			break;
		} catch (e) {
			if (Date.now() >= deadline) throw e;
			// A stale list: close it and ask again. A palette that closed itself gets no Escape, which
			// the editor would take as the end of its selection.
			const widget = page.locator('.quick-input-widget');
			const open = await widget.evaluate(el => !el.inert && getComputedStyle(el).display !== 'none').catch(() => false);
			if (open) await page.keyboard.press('Escape');
			await widget.waitFor({ state: 'hidden', timeout: 2000 }).catch(() => {});
		}
	}
	for (let i = 0; i < 50 && !(await row.evaluate(el => el.classList.contains('focused'))); i++) {
		await page.keyboard.press('ArrowDown');
	}
	await page.keyboard.press('Enter');
	return input;
}

/**
 * The colour theme, from Preferences: Color Theme, as a person switches it (`label` as listed there,
 * e.g. "Dark Modern"); resolves once the workbench wears it (`kind`: the workbench's class for it).
 */
async function setColorTheme(page, label, kind, { timeout = patient(WAIT) } = {}) {
	const input = await chooseCommand(page, 'Preferences: Color Theme', { timeout });
	await input.fill(label);
	const row = page
		.locator('.quick-input-list .monaco-list-row')
		.filter({ has: page.locator('.label-name', { hasText: exactly(label) }) })
		.first();
	await row.waitFor({ timeout });
	for (let i = 0; i < 20 && !(await row.evaluate(el => el.classList.contains('focused'))); i++) await page.keyboard.press('ArrowDown');
	await page.keyboard.press('Enter');
	await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout });
	await until(
		`the ${label} theme`,
		async () => ((await page.locator('.monaco-workbench').getAttribute('class')) || '').split(' ').includes(kind),
		{
			timeout,
		},
	);
}

/**
 * The active editor's own lines: not those of an editor inside a widget in it (a comment thread's
 * reply box is a Monaco editor too, and can come first in the DOM).
 */
const EDITOR_LINES = '.editor-group-container.active .editor-instance .view-lines:not(.zone-widget .view-lines)';

/** Opens a file by clicking its row in the explorer (top level of the workspace) and waits for its tab. */
async function openFileFromExplorer(page, name, { timeout = patient(WAIT) } = {}) {
	const row = page
		.locator('.explorer-folders-view .monaco-list-row')
		.filter({ has: page.locator('.label-name', { hasText: exactly(name) }) })
		.first();
	await row.click({ timeout });
	await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout });
	await page.locator(EDITOR_LINES).first().waitFor({ timeout });
}

/**
 * Selects the active editor's line that shows `text` as a person does: a click on it, then Home and
 * Shift+End (from its first non-blank character), or with `indentation`, End and Shift+Home twice
 * (from column 0). Resolves once the selection is drawn.
 */
async function selectLine(page, text, { indentation = false, timeout = patient(WAIT) } = {}) {
	const editor = page.locator('.editor-group-container.active .editor-instance');
	await editor
		.locator('.view-line', { hasText: text.replace(/ /g, '\u00a0') })
		.first()
		.click({ timeout });
	const keys = indentation ? ['End', 'Shift+Home', 'Shift+Home'] : ['Home', 'Shift+End'];
	for (const key of keys) await page.keyboard.press(key);
	await editor.locator('.selected-text').first().waitFor({ timeout });
}

/**
 * Text of the active editor's rendered lines, joined with "\n". Monaco renders only what is on
 * screen and shows spaces as U+00A0, so this is "what the user sees", not the whole document.
 */
async function editorText(page) {
	return page
		.locator(EDITOR_LINES)
		.first()
		.evaluate(el =>
			[...el.querySelectorAll('.view-line')]
				.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
				.map(line => line.textContent.replace(/\u00a0/g, ' '))
				.join('\n'),
		);
}

/** Waits until the active editor shows `text` (a string it contains, or a RegExp). */
async function waitForEditorText(page, text, { timeout = patient(WAIT) } = {}) {
	const deadline = Date.now() + timeout;
	let last = '';
	while (Date.now() < deadline) {
		last = await editorText(page).catch(() => '');
		if (typeof text === 'string' ? last.includes(text) : text.test(last)) return last;
		await page.waitForTimeout(200);
	}
	throw new Error(`editor never showed ${text}; last seen:\n${last}`);
}

/**
 * The content frame of a webview. A VS Code webview is two nested iframes: the outer
 * `iframe.webview.ready` (host page, service worker) and `#active-frame` holding our HTML.
 * `index` picks among several open webviews, in DOM order.
 */
function webviewFrame(page, index = 0) {
	return page.locator('iframe.webview.ready').nth(index).contentFrame().locator('#active-frame').contentFrame();
}

/**
 * The content frame of the one open webview whose page title is `title` (the whole title, or a
 * RegExp), once there is exactly one. Unlike `webviewFrame`, it does not depend on DOM order: with
 * the picker and the report both open, or a hidden webview left in the DOM, it still finds the one
 * asked for. The frame it resolves with is bound to that webview's outer iframe, which VS Code names
 * after the webview's id, so webviews opening or closing later do not make it point at another.
 */
async function webviewTitled(page, title, { timeout = WAIT } = {}) {
	const matches = text => (typeof title === 'string' ? text === title : title.test(text));
	const name = await until(
		`the webview titled ${title}`,
		async () => {
			const names = [];
			for (const frame of page.frames()) {
				const outer = frame.parentFrame();
				if (!outer || outer.parentFrame() !== page.mainFrame() || !outer.name()) continue;
				const element = await frame.frameElement().catch(() => undefined);
				if (!element) continue;
				const active = await element.evaluate(el => el.id === 'active-frame').catch(() => false);
				await element.dispose();
				if (active && matches(await frame.title().catch(() => ''))) names.push(outer.name());
			}
			return names.length > 1 ? new Error(`${names.length} open webviews have that title`) : names[0];
		},
		{ timeout },
	);
	return page.locator(`iframe.webview.ready[name="${name}"]`).contentFrame().locator('#active-frame').contentFrame();
}

/**
 * Waits until the picker (`picker` as from webviewTitled) shows its run as `phase`: 'Done',
 * 'Failed', 'Cancelled'.
 */
async function waitForPhase(picker, phase, { timeout = WAIT } = {}) {
	await until(`the picker to show the run ${phase}`, async () => (await picker.locator('.status-row .phase').textContent()) === phase, {
		timeout,
	});
}

/**
 * Waits for an information/warning/error message. Headless, 1.139 shows no toast, but the text
 * is announced in the `.monaco-alert` live region.
 */
async function waitForMessage(page, text, { timeout = patient(WAIT) } = {}) {
	await page.locator('.monaco-alert', { hasText: text }).first().waitFor({ state: 'attached', timeout });
}

/**
 * F1 and "Best-of-N: Rewrite Selection…", then waits for the instruction box it opens (the same
 * quick input widget, with the extension's placeholder). Resolves with the box's title, e.g.
 * "Best-of-N: 3 rewrites from llama3.1:8b": the candidate count the extension read right then.
 */
async function startRewrite(page, { timeout = patient(WAIT) } = {}) {
	const input = await chooseCommand(page, 'Best-of-N: Rewrite Selection…', { timeout });
	await until(
		'the instruction quick pick',
		async () =>
			/How should the selection be rewritten/.test((await input.getAttribute('placeholder')) || '') && (await input.isVisible()),
		{ timeout },
	);
	return (await page.locator('.quick-input-widget .quick-input-title').textContent({ timeout })).trim();
}

/** Types the instruction into the open instruction box and accepts it. */
async function giveInstruction(page, instruction, { timeout = patient(WAIT) } = {}) {
	await page.keyboard.type(instruction);
	await page.locator('.quick-input-list .monaco-list-row', { hasText: instruction }).first().waitFor({ timeout });
	await page.keyboard.press('Enter');
	await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout });
}

/** Saves a screenshot as .artifacts/<name>.png and returns its path. */
async function screenshot(page, name) {
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	const file = path.join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '-')}.png`);
	await page.screenshot({ path: file, timeout: 10000 });
	return file;
}

async function screenshotQuietly(context, name) {
	const page = context && context.pages()[0];
	if (page) await screenshot(page, name).catch(() => {});
}

/** For a mocha afterEach: a screenshot named after the test when it failed. */
async function screenshotOnFailure(mochaContext, page) {
	const test = mochaContext.currentTest;
	if (page && test && test.state === 'failed') {
		const file = await screenshot(page, `e2e-failure-${test.fullTitle()}`).catch(() => undefined);
		if (file) console.error(`    screenshot: ${file}`);
	}
}

/**
 * For a failed test's report: the text a webview shows (`frame` as from webviewFrame), under `name`,
 * or why there is none.
 */
async function logWebviewText(frame, name) {
	const shown = await frame
		.locator('body')
		.evaluate(b => b.innerText, null, { timeout: 2000 })
		.catch(e => `(no ${name}: ${e.message.split('\n')[0]})`);
	console.error(`    ${name} text:\n${indent(shown)}`);
}

/** For a failed test's report: the page's uncaught errors, the server log's path, the extension log's tail. */
function logWorkbench(wb) {
	if (wb.pageErrors.length) console.error(`    page errors: ${wb.pageErrors.map(String).join('\n      ')}`);
	console.error(`    server log ${wb.server.logPath}`);
	const log = findExtensionLog(wb.server.userDataDir);
	if (log) console.error(`    extension log ${log}:\n${indent(host.tail(log, 25))}`);
}

/** The preference log (picks recorded in the extension's global storage) of the workbench's profile. */
function preferenceLogPath(wb) {
	return path.join(wb.server.userDataDir, 'User', 'globalStorage', 'best-of-n.best-of-n', 'preferences.jsonl');
}

/** The extension's own log (its output channel) under a server's user data folder, if there is one. */
function findExtensionLog(userDataDir) {
	const found = [];
	const walk = dir => {
		for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
			const p = path.join(dir, e.name);
			if (e.isDirectory()) walk(p);
			else if (e.name === 'Best-of-N.log') found.push(p);
		}
	};
	try {
		walk(path.join(userDataDir, 'logs'));
	} catch {
		return undefined;
	}
	return found.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
}

module.exports = {
	LOAD_TIMEOUT: host.LOAD_TIMEOUT,
	FIXTURE_WORKSPACE,
	ARTIFACTS,
	sleep,
	patient,
	until,
	openWorkbench,
	runCommand,
	runCommandUntil,
	chooseCommand,
	setColorTheme,
	openFileFromExplorer,
	selectLine,
	editorText,
	waitForEditorText,
	webviewFrame,
	webviewTitled,
	waitForPhase,
	waitForMessage,
	startRewrite,
	giveInstruction,
	screenshot,
	screenshotOnFailure,
	logWebviewText,
	logWorkbench,
	findExtensionLog,
	preferenceLogPath,
};

#!/usr/bin/env node
// Stands in for the VS Code executable that @vscode/test-electron's runTests() spawns
// (`vscodeExecutablePath`), so the same runTests() call that uses a downloaded desktop VS Code
// where there is internet runs the tests in code-server here.
//
// It accepts VS Code's flags (--extensionDevelopmentPath=… --extensionTestsPath=…
// [--disable-extensions] [folder]; everything else is ignored), starts code-server, opens the
// workbench in headless Chromium and exits with the code of the tests. The server never learns
// the result: the workbench reports it to the page through window.codeAutomationExit(), which only
// exists because we expose it from Playwright before the page loads.
//
// env: BESTOFN_TEST_TIMEOUT_MS (default 180000) | VERBOSE=1 (page console) | KEEP_SCRATCH=1
//      BESTOFN_WORKSPACE_TRUST=1: workspace trust on, so the folder opens untrusted (runTests()
//      always passes --disable-workspace-trust, which this script ignores like the flags it does not know)
'use strict';
const fs = require('fs');
const path = require('path');
const util = require('util');
const host = require('./vscode-host');

const ARTIFACTS = path.join(host.ROOT, '.artifacts');
const T0 = Date.now();
const log = (...a) => console.log(`[code-server-as-vscode +${((Date.now() - T0) / 1000).toFixed(1)}s]`, ...a);

/** @param {string[]} argv */
function parseArgs(argv) {
	/** @type {{ devPaths: string[], testsPath?: string, folder?: string, disableExtensions: boolean }} */
	const out = { devPaths: [], testsPath: undefined, folder: undefined, disableExtensions: false };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === undefined) break;
		const eq = a.indexOf('=');
		const key = eq > 0 ? a.slice(0, eq) : a;
		const value = () => {
			const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
			if (v === undefined) throw new Error(`${key} needs a value`);
			return v;
		};
		if (key === '--extensionDevelopmentPath') out.devPaths.push(path.resolve(value()));
		else if (key === '--extensionTestsPath') out.testsPath = path.resolve(value());
		else if (key === '--disable-extensions') out.disableExtensions = true;
		// test-electron adds its own profile dirs; ours are per-run scratch dirs, so skip the value too
		else if ((key === '--user-data-dir' || key === '--extensions-dir') && eq < 0) i++;
		else if (!a.startsWith('-')) out.folder = path.resolve(a);
	}
	// VS Code accepts a tests path without extension and resolves it like require() does
	if (out.testsPath && !fs.existsSync(out.testsPath) && fs.existsSync(out.testsPath + '.js')) out.testsPath += '.js';
	return out;
}

async function main() {
	const args = parseArgs(process.argv.slice(2));
	if (!args.devPaths.length || !args.testsPath) {
		console.error(
			'usage: code-server-as-vscode.js --extensionDevelopmentPath=DIR --extensionTestsPath=FILE [--disable-extensions] [folder]',
		);
		return 2;
	}
	host.ensureHost();
	// process.env (which runTests() extends with extensionTestsEnv) is handed to code-server as is;
	// the extension host it forks inherits it, so tests and extension code see the same variables.
	const trust = process.env.BESTOFN_WORKSPACE_TRUST === '1';
	const server = await host.startServer({
		workspace: args.folder,
		workspaceTrust: trust,
		// No modal "Do you trust the authors…?" at start-up: the folder simply stays in Restricted Mode.
		userSettings: trust ? { 'security.workspace.trust.startupPrompt': 'never' } : {},
	});
	log(`code-server on port ${server.port}, log ${server.logPath}`);
	let ctx;
	let code;
	let page;
	const cleanup = async () => {
		if (ctx)
			await host.within(
				10000,
				ctx.close().catch(() => {}),
			);
		await server.stop();
	};
	// test-electron forwards Ctrl+C as SIGINT; leave no server or browser behind.
	const onSignal = sig => {
		log(`${sig}: stopping`);
		cleanup().finally(() => process.exit(130));
	};
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	try {
		ctx = await host.launchBrowser(server.scratch);
		page = ctx.pages()[0] || (await ctx.newPage());
		let finish;
		const finished = new Promise(resolve => {
			finish = resolve;
		});
		// Must be exposed before goto: the workbench looks for them when it starts the tests.
		await page.exposeFunction('codeAutomationExit', (exitCode, logs) => finish({ exitCode, logs }));
		// The workbench's own log and the extension host's console (mocha's reporter) both arrive
		// here as (level, [format, ...args]). Workbench chatter repeats itself (the same gallery notice
		// nine times), so a plain message already printed once is skipped.
		const seen = new Set();
		await page.exposeFunction('codeAutomationLog', (type, logArgs) => {
			const parts = Array.isArray(logArgs) ? logArgs : [logArgs];
			const text = util.format(...parts);
			if (parts.length === 1 && seen.has(text)) return;
			seen.add(text);
			(type === 'error' ? console.error : console.log)(text);
		});
		if (process.env.VERBOSE) page.on('console', m => console.log('  [page]', m.text().replace(/%c/g, '')));
		const url = server.url(args.folder, {
			extensionDevelopmentPath: args.devPaths,
			extensionTestsPath: args.testsPath,
			disableExtensions: args.disableExtensions,
		});
		log('opening workbench');
		await page.goto(url, { timeout: host.LOAD_TIMEOUT });
		// A deadline, not a speed check: ~20 s of tests on a quiet machine took over 10 min with several builds on 2 cores.
		const timeoutMs = Number(process.env.BESTOFN_TEST_TIMEOUT_MS || 1200000);
		const result = await host.within(timeoutMs, finished, 'timeout');
		if (result === 'timeout') {
			log(`tests did not finish within ${timeoutMs / 1000} s`);
			code = 124;
		} else {
			code = typeof result.exitCode === 'number' ? result.exitCode : 1;
			if (code !== 0) saveWorkbenchLogs(result.logs);
		}
	} catch (err) {
		log('harness error:', (err instanceof Error && err.stack) || err);
		code = 1;
	}
	if (code !== 0) await reportFailure(page, server);
	await cleanup();
	if (code === 0 && !process.env.KEEP_SCRATCH) fs.rmSync(server.scratch, { recursive: true, force: true });
	log(`exit ${code}`);
	return code;
}

const stampName = () => `integration-${new Date().toISOString().replace(/[:.]/g, '-')}`;

// The workbench hands over its own log files with the exit code; they hold extension host errors
// (activation failures, unhandled rejections) that neither mocha nor the server log show.
function saveWorkbenchLogs(logs) {
	if (!Array.isArray(logs) || !logs.length) return;
	const dir = path.join(ARTIFACTS, `${stampName()}-logs`);
	for (const { relativePath, contents } of logs) {
		const file = path.join(dir, relativePath);
		fs.mkdirSync(path.dirname(file), { recursive: true });
		fs.writeFileSync(file, contents);
	}
	log(`workbench logs saved to ${dir}`);
}

async function reportFailure(page, server) {
	console.error(`---- last lines of ${server.logPath} ----\n${host.tail(server.logPath, 40)}\n----`);
	if (!page) return;
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	const shot = path.join(ARTIFACTS, `${stampName()}.png`);
	await page.screenshot({ path: shot, timeout: 10000 }).then(
		() => log(`screenshot ${shot}`),
		() => {},
	);
}

main().then(
	code => process.exit(code),
	err => {
		console.error(err);
		process.exit(1);
	},
);

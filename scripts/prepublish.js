#!/usr/bin/env node
// vscode:prepublish — what `vsce package` and `vsce publish` run first, so that neither can ship an
// unchecked or unbuilt tree: type-check, lint, production bundles. scripts/package.js does this once
// for all six targets and sets BESTOFN_PREPUBLISHED so that each target's vsce call does not redo it.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

if (process.env.BESTOFN_PREPUBLISHED === '1') process.exit(0);
const ROOT = path.resolve(__dirname, '..');
const scripts = require(path.join(ROOT, 'package.json')).scripts;
/** @type {[string, string[]][]} */
const steps = [['npm', ['run', '--silent', 'typecheck']]];
if (scripts.lint) steps.push(['npm', ['run', '--silent', 'lint']]);
steps.push([process.execPath, [path.join(ROOT, 'esbuild.js'), '--production']]);
for (const [cmd, args] of steps) {
	const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
	if (r.status !== 0) process.exit(r.status ?? 1);
}

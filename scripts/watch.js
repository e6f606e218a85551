#!/usr/bin/env node
// `npm run watch`: esbuild rebuilds the bundles on every save while tsc checks each runtime's
// project beside it (esbuild strips types without checking them), as the `yo code` template does.
// Both print in the forms VS Code's $esbuild-watch and $tsc-watch problem matchers read.
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const children = [
	spawn(process.execPath, [path.join(ROOT, 'esbuild.js'), '--watch'], { cwd: ROOT, stdio: 'inherit' }),
	...['.', 'src', 'src/webview', 'test'].map(project =>
		spawn(process.execPath, [tsc, '--noEmit', '--watch', '--preserveWatchOutput', '-p', project], { cwd: ROOT, stdio: 'inherit' }),
	),
];
const stop = () => children.forEach(c => c.kill());
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// One of them ending (a crash, a bad tsconfig) ends the watch, so it cannot look alive while half dead.
for (const child of children) child.on('exit', code => (stop(), process.exit(code ?? 1)));

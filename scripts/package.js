#!/usr/bin/env node
// Makes one .vsix per platform with @vscode/vsce, each holding only what runs there: the bundles,
// media, and that platform's onnxruntime-node binding (the npm package carries every platform's,
// ~290 MB). transformers.js is bundled into dist/rewardWorker.js by esbuild.js, so neither the
// package itself, onnxruntime-web nor sharp ships.
//
//   npm run package                          type-check, lint, production build, all six targets
//   node scripts/package.js [--build] [--check] [TARGET…]
//       --build  run vscode:prepublish first (else dist/ must hold a production build)
//       --check  fail when a package is over its budget
//
// Packages go to .artifacts/vsix/best-of-n-<version>-<target>.vsix.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, '.artifacts', 'vsix');
const MB = 1024 * 1024;

// target → where onnxruntime-node keeps its binding, and the most the package may weigh. The budgets
// are the measured size plus a little headroom; the README states them. onnxruntime-node 1.30 ships
// no Intel-mac binding: that package ranks with a served reward model or by consensus.
const TARGETS = {
	'linux-x64': { ort: 'linux/x64', budgetMb: 30 },
	'linux-arm64': { ort: 'linux/arm64', budgetMb: 30 },
	'darwin-x64': { ort: null, budgetMb: 5 },
	'darwin-arm64': { ort: 'darwin/arm64', budgetMb: 40 },
	'win32-x64': { ort: 'win32/x64', budgetMb: 40 },
	'win32-arm64': { ort: 'win32/arm64', budgetMb: 40 },
};

/** The allow-list for one target: .vscodeignore (shared by every target) plus that target's binding. */
function ignoreFileFor(target) {
	const base = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8');
	const { ort } = TARGETS[target];
	const lines = [base.trimEnd(), `# ${target}: this platform's onnxruntime binding only`];
	if (ort) lines.push(`!node_modules/onnxruntime-node/bin/napi-v6/${ort}/**`);
	const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-pack-')), '.vscodeignore');
	fs.writeFileSync(file, lines.join('\n') + '\n');
	return file;
}

function run(cmd, args, env = {}) {
	const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
	if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error || 'exit ' + r.status})`);
}

function vsce(args, env) {
	run(process.execPath, [require.resolve('@vscode/vsce/vsce'), ...args], env);
}

function packageTarget(target, version) {
	const out = path.join(OUT_DIR, `best-of-n-${version}-${target}.vsix`);
	const ignoreFile = ignoreFileFor(target);
	try {
		// The build was made once for all targets; vscode:prepublish sees the flag and does not redo it.
		vsce(['package', '--target', target, '--ignoreFile', ignoreFile, '--out', out, '--allow-missing-repository'], {
			BESTOFN_PREPUBLISHED: '1',
		});
	} finally {
		fs.rmSync(path.dirname(ignoreFile), { recursive: true, force: true });
	}
	return { target, file: out, bytes: fs.statSync(out).size, budgetMb: TARGETS[target].budgetMb };
}

function main(argv) {
	const check = argv.includes('--check');
	const build = argv.includes('--build');
	const wanted = argv.filter(a => !a.startsWith('--'));
	for (const t of wanted) if (!TARGETS[t]) throw new Error(`unknown target ${t}; one of ${Object.keys(TARGETS).join(', ')}`);
	const targets = wanted.length ? wanted : Object.keys(TARGETS);
	if (build) run('npm', ['run', '--silent', 'vscode:prepublish'], { BESTOFN_PREPUBLISHED: '' });
	if (!fs.existsSync(path.join(ROOT, 'dist', 'rewardWorker.js'))) throw new Error('dist/ is missing: run `npm run package`');
	const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
	fs.mkdirSync(OUT_DIR, { recursive: true });
	const made = targets.map(t => packageTarget(t, version));
	console.log('\npackage                                  size      budget');
	let over = 0;
	for (const m of made) {
		const size = m.bytes / MB;
		const flag = size > m.budgetMb ? '  OVER BUDGET' : '';
		if (flag) over++;
		console.log(`${path.basename(m.file).padEnd(40)} ${size.toFixed(1).padStart(5)} MB  ${String(m.budgetMb).padStart(3)} MB${flag}`);
	}
	if (check && over) throw new Error(`${over} package(s) over budget`);
	return made;
}

module.exports = { TARGETS, OUT_DIR, main };

if (require.main === module) {
	try {
		main(process.argv.slice(2));
	} catch (e) {
		console.error(`[package] ${e instanceof Error ? e.message : String(e)}`);
		process.exit(1);
	}
}

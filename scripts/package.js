#!/usr/bin/env node
// Makes one .vsix per platform with @vscode/vsce, each holding only what runs there: the bundles,
// media, and that platform's onnxruntime-node binding (the npm package carries every platform's,
// ~290 MB). transformers.js is bundled into dist/rewardWorker.js by esbuild.js, so neither the
// package itself, onnxruntime-web nor sharp ships.
//
//   npm run package                          type-check, lint, production build, all six targets
//   node scripts/package.js [--build] [--check] [TARGET…]
//       --build  run vscode:prepublish first (else dist/ must hold a production build)
//       --check  fail when a package is over its budget, or when `vsce ls` for a target lists anything
//                that should not ship (sources, tests, another platform's binding) or misses a
//                picture README.md shows
//       --base-images-url=URL  where README's pictures are served (https), for the marketplace page
//
// README's pictures (media/readme/*.png) ship in every package. vsce rewrites README's relative links
// to absolute ones on the repository named in package.json; this project has no public repository
// yet, so without --base-images-url they are packaged as they are (--no-rewrite-relative-links, else
// vsce refuses). VS Code's extension page loads README images from https only, so there it shows
// them once they are served somewhere: set `repository`, or pass --base-images-url.
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

/** Runs `fn` with the target's ignore file, removed afterwards. */
function withIgnoreFile(target, fn) {
	const ignoreFile = ignoreFileFor(target);
	try {
		return fn(ignoreFile);
	} finally {
		fs.rmSync(path.dirname(ignoreFile), { recursive: true, force: true });
	}
}

const BINDINGS = 'node_modules/onnxruntime-node/bin/napi-v6/';

/**
 * What of `files` (paths as `vsce ls` prints them) must not be in `target`'s package: sources, tests,
 * build scripts, another platform's onnxruntime binding, and what text inference never loads
 * (transformers.js itself is bundled; its web runtime and image library are not needed).
 */
function strayFiles(target, files) {
	const own = TARGETS[target].ort;
	return files.filter(
		f =>
			/^(src|test|scripts|bench|\.vscode-host|\.artifacts)\//.test(f) ||
			/(^|\/)node_modules\/(onnxruntime-web|sharp|@img|@huggingface)\//.test(f) ||
			(f.startsWith(BINDINGS) && !(own && f.startsWith(`${BINDINGS}${own}/`))),
	);
}

/** The files `vsce ls` says `target`'s package holds: the same ignore file as `vsce package`. */
function listTarget(target) {
	return withIgnoreFile(target, ignoreFile => {
		const r = spawnSync(process.execPath, [require.resolve('@vscode/vsce/vsce'), 'ls', '--ignoreFile', ignoreFile], {
			cwd: ROOT,
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		if (r.status !== 0) throw new Error(`vsce ls failed for ${target} (${r.error || 'exit ' + r.status})`);
		return r.stdout.split(/\r?\n/).filter(Boolean);
	});
}

/** The pictures README.md shows from this repository (relative paths), in order. */
function readmeImages(readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')) {
	const links = [...readme.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)/g), ...readme.matchAll(/<img\b[^>]*\bsrc=["']([^"']+)["']/gi)].map(
		m => m[1] ?? '',
	);
	return links.filter(l => l && !/^[a-z][\w+.-]*:/i.test(l) && !l.startsWith('#')).map(l => path.posix.normalize(l.replace(/^\.\//, '')));
}

/** vsce's flags for README's links: rewritten against the repository or a given URL, else kept relative. */
function linkArgs(manifest, baseImagesUrl) {
	const args = manifest.repository ? [] : ['--allow-missing-repository'];
	if (baseImagesUrl) return [...args, '--baseImagesUrl', baseImagesUrl, '--baseContentUrl', baseImagesUrl];
	return manifest.repository ? args : [...args, '--no-rewrite-relative-links'];
}

function run(cmd, args, env = {}) {
	const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
	if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error || 'exit ' + r.status})`);
}

function vsce(args, env) {
	run(process.execPath, [require.resolve('@vscode/vsce/vsce'), ...args], env);
}

function packageTarget(target, version, links) {
	const out = path.join(OUT_DIR, `best-of-n-${version}-${target}.vsix`);
	// The build was made once for all targets; vscode:prepublish sees the flag and does not redo it.
	withIgnoreFile(target, ignoreFile =>
		vsce(['package', '--target', target, '--ignoreFile', ignoreFile, '--out', out, ...links], {
			BESTOFN_PREPUBLISHED: '1',
		}),
	);
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
	const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
	const baseImagesUrl = argv.find(a => a.startsWith('--base-images-url='))?.slice('--base-images-url='.length);
	if (baseImagesUrl !== undefined && !/^https:\/\//.test(baseImagesUrl)) throw new Error('--base-images-url must be an https URL');
	const links = linkArgs(manifest, baseImagesUrl);
	fs.mkdirSync(OUT_DIR, { recursive: true });
	const made = targets.map(t => packageTarget(t, manifest.version, links));
	console.log('\npackage                                  size      budget');
	let over = 0;
	for (const m of made) {
		const size = m.bytes / MB;
		const flag = size > m.budgetMb ? '  OVER BUDGET' : '';
		if (flag) over++;
		console.log(`${path.basename(m.file).padEnd(40)} ${size.toFixed(1).padStart(5)} MB  ${String(m.budgetMb).padStart(3)} MB${flag}`);
	}
	if (links.includes('--no-rewrite-relative-links') && readmeImages().length)
		console.log(
			`\nREADME's ${readmeImages().length} pictures ship in the package with relative links: VS Code's extension page shows them once they are served over https (set "repository" in package.json, or --base-images-url=URL).`,
		);
	if (check && over) throw new Error(`${over} package(s) over budget`);
	if (check) {
		for (const m of made) {
			const files = listTarget(m.target);
			const stray = strayFiles(m.target, files);
			if (stray.length) throw new Error(`vsce ls for ${m.target} lists what must not ship:\n  ${stray.join('\n  ')}`);
			const missing = readmeImages().filter(f => !files.includes(f));
			if (missing.length) throw new Error(`README.md shows pictures that ${m.target}'s package lacks: ${missing.join(', ')}`);
			const binding = files.filter(f => f.startsWith(BINDINGS)).length;
			const own = TARGETS[m.target].ort ? `${binding} files of its own onnxruntime binding` : 'no onnxruntime binding';
			console.log(`${m.target}: vsce ls lists ${files.length} files, ${own}, nothing from src/ or test/`);
		}
	}
	return made;
}

module.exports = { TARGETS, OUT_DIR, main, strayFiles, listTarget, readmeImages, linkArgs };

if (require.main === module) {
	try {
		main(process.argv.slice(2));
	} catch (e) {
		console.error(`[package] ${e instanceof Error ? e.message : String(e)}`);
		process.exit(1);
	}
}

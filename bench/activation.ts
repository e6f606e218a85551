/**
 * Figure 6 in the editor: the extension's activation as VS Code itself times it, in code-server and
 * Debian's Chromium (test/e2e/harness.js), a fresh server, extension host and browser for each sample,
 * the extension installed (linked into the server's extensions folder) as a person's is.
 * VS Code's time is the extension's code loading (requiring dist/extension.js) plus its `activate`
 * call, what "Developer: Show Running Extensions" shows as "Activation: N ms". Beside it in the same
 * host, the baseline: an extension with nothing in it, written here, activating on the same event
 * (ours: `onStartupFinished`), so the host's own cost at that moment is measured alike. Nothing is
 * triggered: both activate once the workbench has started, as they do for a person.
 *
 * Each sample then reads, from outside the extension host, what must not have loaded at activation:
 * no process running one of the extension's workers (the scorer, the built-in generator), no worker
 * thread in the extension host, and no onnxruntime library mapped into it (requiring transformers.js
 * in Node loads onnxruntime-node's shared library, in whichever thread requires it).
 *
 * Needs the host lock, as figure 3 does: run the bench as `flock /tmp/host.lock flock /tmp/bench.lock …`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';

interface Harness {
	openWorkbench(options: {
		workspace: string;
		copyWorkspace: boolean;
		extensionDevelopmentPath: string[];
		installExtensions: string[];
	}): Promise<{ page: Page; server: { pid?: number }; teardown(): Promise<void> }>;
	runCommand(page: Page, title: string): Promise<void>;
	screenshot(page: Page, name: string): Promise<string>;
	sleep(ms: number): Promise<void>;
	until<T>(what: string, check: () => Promise<T | undefined | false>, options?: { timeout?: number }): Promise<T>;
}

/** VS Code's text for an activated extension's row: "Activation: 52ms", or "Startup Activation: 52ms". */
const ACTIVATION = /Activation: (\d+)ms/;
/** Each row of the Running Extensions editor is this tall (VS Code's list delegate). */
const ROW_PX = 70;

/** The baseline, written into a scratch folder. */
const EMPTY = { publisher: 'bestofn-bench', name: 'empty-extension', displayName: 'Empty extension (bench baseline)' };

export interface ActivationSample {
	/** This extension's activation (ms), as VS Code shows it. */
	readonly oursMs: number;
	/** The empty extension's, in the same host. */
	readonly emptyMs: number;
	/** What had loaded in the extension host when the times were read (see `heavyInHost`); empty: nothing. */
	readonly heavy: readonly string[];
}

export interface HostActivation {
	/** The activation events both extensions declared (ours). */
	readonly events: readonly string[];
	readonly samples: readonly ActivationSample[];
}

/** Each sample's activation times, as VS Code reports them. `root`: this repository (the extension). */
export async function measureHostActivation(root: string, samples: number, log: (line: string) => void): Promise<HostActivation> {
	// Plain JavaScript without declarations; loaded only when this figure runs (it brings Playwright).
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const h = require('../test/e2e/harness') as Harness;
	const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
		name: string;
		publisher: string;
		displayName?: string;
		engines: { vscode: string };
		activationEvents?: string[];
	};
	const events = manifest.activationEvents ?? [];
	if (events.length === 0) throw new Error('package.json names no activationEvents for the empty extension to share');
	const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-bench-activation-'));
	const empty = path.join(scratch, 'empty-extension');
	fs.mkdirSync(empty);
	fs.writeFileSync(
		path.join(empty, 'package.json'),
		JSON.stringify({
			...EMPTY,
			version: '0.0.1',
			engines: { vscode: manifest.engines.vscode },
			main: './extension.js',
			// The events ours activates on, so both activate at the same moment of start-up.
			activationEvents: events,
		}),
	);
	fs.writeFileSync(path.join(empty, 'extension.js'), 'exports.activate = function () {};\nexports.deactivate = function () {};\n');
	// The editor names a row by the marketplace's display name when it knows one, else by the identifier.
	const ours = [manifest.displayName, `${manifest.publisher}.${manifest.name}`];
	const baseline = [EMPTY.displayName, `${EMPTY.publisher}.${EMPTY.name}`];
	const results: ActivationSample[] = [];
	try {
		for (let i = 0; i < samples; i++) {
			const workspace = path.join(scratch, `workspace-${i}`);
			fs.mkdirSync(workspace);
			fs.writeFileSync(path.join(workspace, 'notes.md'), 'A note.\n');
			// Both installed (linked into the server's extensions folder), as a person's extensions are: the
			// page URL can load only one extension from its folder. Which is listed first alternates.
			const order = i % 2 === 0 ? [root, empty] : [empty, root];
			const wb = await h.openWorkbench({ workspace, copyWorkspace: false, extensionDevelopmentPath: [], installExtensions: order });
			try {
				const shown = await runningExtensions(h, wb.page, [ours, baseline]);
				const heavy = wb.server.pid ? heavyInHost(wb.server.pid, root) : ['(no server pid: not checked)'];
				const sample = { oursMs: shown[0] ?? NaN, emptyMs: shown[1] ?? NaN, heavy };
				log(
					`activation in the editor (VS Code's own timing), sample ${i + 1}: ours ${sample.oursMs} ms, an empty extension ${sample.emptyMs} ms; loaded in the extension host then: ${heavy.length ? heavy.join(', ') : 'nothing heavy'}`,
				);
				results.push(sample);
			} catch (e) {
				const shot = await h.screenshot(wb.page, 'bench-activation-failure').catch(() => undefined);
				if (shot) log(`activation in the editor failed; screenshot ${shot}`);
				throw e;
			} finally {
				await wb.teardown();
			}
		}
	} finally {
		fs.rmSync(scratch, { recursive: true, force: true });
	}
	return { events, samples: results };
}

/**
 * Opens "Developer: Show Running Extensions" and reads the activation time of each extension named
 * (each by any of its names), as a person would: the list shows the extensions that have activated,
 * slowest first, about nine rows at a time, so it is scrolled through from the top. The editor lists
 * what the host had activated when it opened; opened too early (or before both are done), it is
 * closed and opened again.
 */
async function runningExtensions(h: Harness, page: Page, extensions: ReadonlyArray<ReadonlyArray<string | undefined>>): Promise<number[]> {
	const editor = page.locator('.runtime-extensions-editor');
	const list = editor.locator('.monaco-list').first();
	const rows = editor.locator('.monaco-list-row');
	// Each rendered row's name and activation text (the bench is compiled without the DOM's types).
	type Row = { querySelector(selector: string): { textContent: string | null } | null };
	const readVisible = () =>
		rows.evaluateAll((els: Row[]) =>
			els.map(e => [e.querySelector('.name')?.textContent ?? '', e.querySelector('.activation-time')?.textContent ?? ''] as const),
		);
	/** Every row's activation text by name, scrolling the list from its top to its end. */
	const readAll = async () => {
		const seen = new Map<string, string>();
		if ((await rows.count()) === 0) return seen;
		await list.hover();
		await page.mouse.wheel(0, -1e6);
		await h.sleep(100);
		for (let still = 0; still < 2;) {
			let fresh = false;
			for (const [name, text] of await readVisible()) {
				if (seen.get(name) !== text) fresh = true;
				seen.set(name, text);
			}
			still = fresh ? 0 : still + 1;
			await page.mouse.wheel(0, 4 * ROW_PX);
			await h.sleep(100);
		}
		return seen;
	};
	const timeOf = (seen: Map<string, string>, names: ReadonlyArray<string | undefined>) => {
		for (const name of names) {
			const match = name !== undefined ? ACTIVATION.exec(seen.get(name) ?? '') : null;
			if (match) return Number(match[1]);
		}
		return undefined;
	};
	let last = new Map<string, string>();
	try {
		return await h.until(
			'Developer: Show Running Extensions to show the activation time of both extensions',
			async () => {
				if (!(await editor.isVisible())) await h.runCommand(page, 'Developer: Show Running Extensions');
				// Empty until the editor has read the host (seconds, the first time): keep polling.
				if ((await rows.count()) === 0) return undefined;
				last = await readAll();
				const times = extensions.map(names => timeOf(last, names));
				if (times.every(t => t !== undefined)) return times;
				// Not yet activated when the editor read the host: close it (Esc closes its modal) and ask again.
				await page.keyboard.press('Escape');
				await h.sleep(2000);
				return undefined;
			},
			{ timeout: 60_000 },
		);
	} catch (e) {
		const listed = [...last].map(([name, text]) => `${name}: ${text}`).join('; ');
		throw new Error(`${e instanceof Error ? e.message : String(e)}; the editor listed: ${listed || 'nothing'}`, { cause: e });
	}
}

/** A process and its command line, from /proc. */
interface Proc {
	readonly pid: number;
	readonly ppid: number;
	readonly args: string;
}

function processes(): Proc[] {
	const all: Proc[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
			// "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ")".
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
			all.push({ pid: Number(entry), ppid, args });
		} catch {
			// gone meanwhile
		}
	}
	return all;
}

function descendants(all: readonly Proc[], pid: number): Proc[] {
	const out: Proc[] = [];
	for (const p of all.filter(q => q.ppid === pid)) out.push(p, ...descendants(all, p.pid));
	return out;
}

/**
 * What must not have loaded at activation, as seen from outside the extension host of the server
 * `serverPid` (code-server forks it): any process under it running one of the extension's bundles
 * other than extension.js (the scorer process, the generator), any worker thread in the host (where the workers run when
 * they run in a thread; Node 24, the host's, names them WorkerThread), and onnxruntime's native library mapped into
 * the host (transformers.js loads it when required). Empty when nothing of that is there.
 */
export function heavyInHost(serverPid: number, root: string): string[] {
	const all = processes();
	const hosts = descendants(all, serverPid).filter(p => p.args.includes('--type=extensionHost'));
	if (hosts.length === 0) return ['(no extension host found: not checked)'];
	// By the path inside the extension's folder: the host runs it from wherever it is installed.
	const bundles = fs
		.readdirSync(path.join(root, 'dist'))
		.filter(f => f.endsWith('.js') && f !== 'extension.js')
		.map(f => `${path.sep}dist${path.sep}${f}`);
	const found: string[] = [];
	for (const host of hosts) {
		for (const p of descendants(all, host.pid).filter(q => bundles.some(b => q.args.includes(b))))
			found.push(`process ${p.pid} (${p.args.slice(0, 120)})`);
		let threads = 0;
		try {
			for (const t of fs.readdirSync(`/proc/${host.pid}/task`)) {
				if (fs.readFileSync(`/proc/${host.pid}/task/${t}/comm`, 'utf8').trim() === 'WorkerThread') threads++;
			}
		} catch {
			// the host exited
		}
		if (threads) found.push(`${threads} worker thread${threads > 1 ? 's' : ''} in the extension host`);
		try {
			const mapped = new Set(
				fs
					.readFileSync(`/proc/${host.pid}/maps`, 'utf8')
					.split('\n')
					.map(l => l.split(/\s+/).slice(5).join(' '))
					.filter(f => /onnxruntime/.test(f))
					.map(f => path.basename(f)),
			);
			if (mapped.size) found.push(`${[...mapped].join(', ')} in the extension host`);
		} catch {
			// the host exited
		}
	}
	return found;
}

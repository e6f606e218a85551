/**
 * Figure 3 (the first candidate) and the picker's first paint (figure 6), in the real editor:
 * code-server and Debian's Chromium through test/e2e/harness.js, the bench's model server in its own
 * process, the BERT-base-shaped reward model in the extension host's worker, one workbench for every
 * sample. Each sample is what a person does: select the paragraph, Best-of-N: Rewrite Selection…,
 * type the instruction, Enter; then Esc once the run is done.
 *
 * Every time is one machine's wall clock read in two processes: the server notes when it writes a
 * stream's first token and its last line, and a MutationObserver in the picker's page notes when a
 * candidate's text and its score first appear in the DOM (both `Date.now()`, whole milliseconds). Nothing in the extension knows it
 * is measured: the observer is a Playwright init script, run in every webview frame as it is created.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Frame, FrameLocator, Page } from 'playwright-core';
import type { ServerProcess } from './pipeline';
import { candidateText, INSTRUCTION, SOURCE } from './text';

/** The parts of test/e2e/harness.js used here (it is plain JavaScript). */
interface Harness {
	openWorkbench(options: {
		workspace: string;
		workspaceSettings: Record<string, unknown>;
		userSettings: Record<string, unknown>;
	}): Promise<{ context: BrowserContext; page: Page; teardown(): Promise<void> }>;
	openFileFromExplorer(page: Page, name: string): Promise<void>;
	startRewrite(page: Page): Promise<string>;
	giveInstruction(page: Page, instruction: string): Promise<void>;
	webviewFrame(page: Page, index?: number): FrameLocator;
	/** Polls until `check` gives something (not undefined or false). */
	until<T>(what: string, check: () => Promise<T | undefined | false>, options?: { timeout?: number }): Promise<T>;
}

/** What the picker's page recorded (see RECORDER). Times are `Date.now()`. */
interface PageRecord {
	/** The run's state first drawn (its phase in the status row), and the first task after that frame. */
	stateAt?: number;
	paintedAt?: number;
	/** By row element id (`candidate-<id>`): when its preview first showed text, and what. */
	text: Record<string, { at: number; text: string } | undefined>;
	/** By row element id: when its score first showed a number. */
	score: Record<string, { at: number; text: string } | undefined>;
	/** The webview's host page started, and a new service worker took control of it (controllerchange; none for most). */
	hostAt?: number;
	controllerAt?: number;
	/** The page's HTML (VS Code's 'content' message) reached the host page. */
	contentAt?: number;
	/** The host page created the picker's frame; the HTML's static first paint was in its DOM. */
	frameAt?: number;
	staticAt?: number;
	/** The host page made the frame visible, and what the page held then. */
	visibleAt?: number;
	visibleWith?: 'page' | 'static' | 'nothing';
	/** The picker's script built its page (its list is in the DOM), and the first state message reached the frame. */
	builtAt?: number;
	messageAt?: number;
	/** By row element id: when the first state message with its text, and with its score, reached the frame. */
	textMessage: Record<string, number | undefined>;
	scoreMessage: Record<string, number | undefined>;
	/** By row element id: when the animation frame after that message ran its callbacks, just before the picker drew. */
	textFrame: Record<string, number | undefined>;
	scoreFrame: Record<string, number | undefined>;
	/** By row element id: the first task after the frame that drew its first text, i.e. once that frame's style, layout and paint were done. */
	textRendered: Record<string, number | undefined>;
	/** The first state messages to reach the frame: when, and which rows had text in each. */
	messages: Array<{ at: number; withText: string[] }>;
}

/**
 * Runs in every frame the workbench creates, before the frame's own scripts. A VS Code webview's
 * content frame is an iframe of the webview's host page: its first document (about:blank, where
 * this runs) gives way to `fake.html`, into which the host then writes the extension's page with
 * document.open(). The window stays the same object throughout, so the listener set here sees
 * fake.html's DOMContentLoaded, and an observer on that document sees the picker being built. Once
 * the picker's script has built its page, a listener notes when each state message reaches the frame
 * (listening earlier would not last: document.open() drops a window's listeners). It only reads.
 */
export const RECORDER = `(() => {
	let host = false;
	// In the webview's host page: when it started, and when a new service worker took control. The
	// host page creates the page's frame only once its worker's registration has settled (register(),
	// registration.update() where a worker controls it already, a new worker taking control).
	try {
		if (window !== parent && location.pathname.endsWith('/webview/browser/pre/index.html')) {
			const started = (window.__bestOfNBenchHost = { at: Date.now() });
			navigator.serviceWorker?.addEventListener('controllerchange', () => (started.controllerAt ??= Date.now()));
			// The workbench's messages come through a MessagePort whose handler the page sets: noted,
			// before the page's own handler runs, is when the page's HTML (the 'content' message) came.
			const handler = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage');
			Object.defineProperty(MessagePort.prototype, 'onmessage', {
				configurable: true,
				get() {
					return handler.get.call(this);
				},
				set(fn) {
					handler.set.call(this, function (e) {
						if (e.data && e.data.channel === 'content') started.contentAt ??= Date.now();
						return fn.call(this, e);
					});
				},
			});
		}
	} catch {}
	try {
		host = window !== parent && parent.location.pathname.endsWith('/webview/browser/pre/index.html');
	} catch {}
	if (!host) return;
	// Now: the host page has created the picker's frame (until then nothing of the page can show).
	const rec = { frameAt: Date.now(), text: {}, score: {}, textMessage: {}, scoreMessage: {}, textFrame: {}, scoreFrame: {}, textRendered: {}, messages: [] };
	// The host page keeps the frame at visibility: hidden until the page's load event, or 200 ms
	// after it wrote the page in, whichever comes first: only then can a person see anything of it.
	// Noted with what the page held then: the script's page, the HTML's static first paint, or nothing.
	const hostPage = parent.__bestOfNBenchHost;
	rec.hostAt = hostPage?.at;
	rec.contentAt = hostPage?.contentAt;
	const element = window.frameElement;
	if (element) {
		const seen = new parent.MutationObserver(() => {
			if (rec.visibleAt !== undefined || element.style.visibility !== 'visible') return;
			rec.visibleAt = Date.now();
			rec.visibleWith = document.querySelector('.list') ? 'page' : document.querySelector('#app .boot') ? 'static' : 'nothing';
			seen.disconnect();
		});
		seen.observe(element, { attributes: true, attributeFilter: ['style'] });
	}
	// The animation frame after a message: noted as the frame's first callback starts, before the
	// picker draws in it. A callback asked for here could run after the picker's (its listener can
	// come first: a Chromium trace shows it does), so the picker's own requests are wrapped once its
	// page is built (it looks requestAnimationFrame up at each call). A task queued there runs once
	// the frame's rendering (style, layout, paint) is done.
	const waiting = [];
	const frameOf = (of, id, rendered) => waiting.push([of, id, rendered]);
	const frameStarts = () => {
		const now = Date.now();
		for (const [of, id, rendered] of waiting.splice(0)) {
			of[id] ??= now;
			if (rendered) setTimeout(() => (rendered[id] ??= Date.now()));
		}
	};
	const wrapFrames = () => {
		const request = window.requestAnimationFrame.bind(window);
		window.requestAnimationFrame = callback =>
			request(time => {
				frameStarts();
				return callback(time);
			});
	};
	window.__bestOfNBench = rec;
	// The bench waits here for a run's scores, in one pending evaluate, rather than asking the page
	// every 100 ms: each of Playwright's questions is a few DevTools messages on this renderer's main
	// thread, the one the first texts' way to the picker goes through (a trace showed them there).
	const waiters = [];
	const settle = () => {
		for (const w of waiters.splice(0)) {
			if (w.done()) w.resolve();
			else waiters.push(w);
		}
	};
	window.__bestOfNBenchScored = n =>
		new Promise(resolve => {
			const ids = Array.from({ length: n }, (_, i) => 'candidate-' + i);
			waiters.push({ done: () => rec.paintedAt !== undefined && ids.every(id => rec.score[id]), resolve: () => resolve(true) });
			settle();
		});
	const look = () => {
		try {
			see(Date.now());
		} catch (e) {
			rec.error = String(e);
		}
	};
	const heard = event => {
		const now = Date.now();
		const state = event.data && event.data.type === 'state' ? event.data.state : undefined;
		if (!state) return;
		rec.messageAt ??= now;
		if (rec.messages.length < 40) rec.messages.push({ at: now, withText: state.candidates.filter(c => c.text).map(c => 'candidate-' + c.id) });
		for (const c of state.candidates) {
			const id = 'candidate-' + c.id;
			if (c.text && rec.textMessage[id] === undefined) {
				rec.textMessage[id] = now;
				frameOf(rec.textFrame, id, rec.textRendered);
			}
			if (c.score !== undefined && rec.scoreMessage[id] === undefined) {
				rec.scoreMessage[id] = now;
				frameOf(rec.scoreFrame, id);
			}
		}
	};
	const see = now => {
		if (rec.staticAt === undefined && document.querySelector('#app .boot')) rec.staticAt = now;
		rec.controllerAt ??= hostPage?.controllerAt;
		if (rec.builtAt === undefined && document.querySelector('.list')) {
			rec.builtAt = now;
			addEventListener('message', heard, true);
			wrapFrames();
		}
		if (rec.stateAt === undefined && document.querySelector('.status-row .phase')?.textContent) {
			rec.stateAt = now;
			// A task queued while a frame is being drawn runs once that frame's rendering is done.
			setTimeout(() => {
				rec.paintedAt = Date.now();
				settle();
			});
		}
		for (const row of document.querySelectorAll('.list [role=option]')) {
			const preview = row.querySelector('.preview')?.textContent ?? '';
			if (!rec.text[row.id] && preview && preview !== '\u2026') rec.text[row.id] = { at: now, text: preview };
			const score = row.querySelector('.score')?.textContent ?? '';
			if (!rec.score[row.id] && /[0-9]/.test(score)) rec.score[row.id] = { at: now, text: score };
		}
		settle();
	};
	addEventListener('DOMContentLoaded', () => {
		if (!location.pathname.endsWith('/fake.html')) return;
		// Held by the window too, so nothing can collect it while the picker lives.
		window.__bestOfNBenchObserver = new MutationObserver(look);
		window.__bestOfNBenchObserver.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
	});
})();`;

/** In the workbench page: when the last Enter went down (the instruction accepted). */
const ENTER_LISTENER = `addEventListener('keydown', e => { if (e.key === 'Enter') window.__bestOfNEnter = Date.now(); }, true)`;

export interface FirstCandidateOptions {
	readonly server: ServerProcess;
	readonly modelDir: string;
	/** Measured runs, after one warm-up run that loads the reward model. */
	readonly samples: number;
	readonly n: number;
	readonly k: number;
	readonly words: number;
	readonly tokenDelayMs: number;
	readonly log: (line: string) => void;
	/** Times one score of a typical pair (raw onnxruntime-node), after each sample: the machine as the runs had it. */
	readonly timeOneScore: () => Promise<number>;
}

export interface FirstCandidateFigures {
	/** Per sample: the run's first token written → that candidate's text in the picker's DOM. */
	readonly firstTokenToDomMs: number[];
	/** Every candidate of every sample: its first token written → its text in the DOM. */
	readonly eachTokenToDomMs: number[];
	/** The same split as the first token's: → its first state message with text in the frame, that message → its animation frame, that frame → the DOM. */
	readonly eachTokenToMessageMs: number[];
	readonly eachTextMessageToFrameMs: number[];
	readonly eachTextFrameToDomMs: number[];
	/** After the DOM: that frame's style, layout and paint, until the first task after it. */
	readonly eachTextDomToRenderedMs: number[];
	/** Per sample: the first completed candidate's last line written → its score in the DOM. */
	readonly completedToScoreMs: number[];
	/** The first token's and the score's paths split where the state message reached the picker's frame. */
	readonly firstTokenToMessageMs: number[];
	readonly textMessageToDomMs: number[];
	readonly completedToScoreMessageMs: number[];
	readonly scoreMessageToDomMs: number[];
	/** The message → DOM part split where the animation frame that drew it began: waiting for it, and drawing. */
	readonly textMessageToFrameMs: number[];
	readonly textFrameToDomMs: number[];
	readonly scoreMessageToFrameMs: number[];
	readonly scoreFrameToDomMs: number[];
	/** Per sample, from Enter on the instruction; the first is the warm-up's (the window's first picker). */
	readonly paint: PaintTimes[];
	/** One score, timed after each sample while the workbench stays open. */
	readonly oneScoreMs: number[];
}

/** From Enter on the instruction: the picker's page built, its first state message, the DOM shows the run, that frame drawn. */
export interface PaintTimes {
	/** The webview's host page started, and a new service worker took control of it (NaN: none did). */
	readonly hostMs: number;
	readonly controllerMs: number;
	/** The page's HTML reached the host page. */
	readonly contentMs: number;
	/** The host page created the picker's frame, and the frame was made visible. */
	readonly frameMs: number;
	readonly visibleMs: number;
	/** The static first paint in the page's DOM (NaN: the HTML had none). */
	readonly staticMs: number;
	/**
	 * What a person sees first: the frame made visible if it held the static first paint then, else the
	 * script's page once both drawn and visible; and the script's page alone (all a page without the
	 * static first paint shows), side by side in the same run.
	 */
	readonly firstSeenMs: number;
	readonly pageSeenMs: number;
	/** Whether the frame held the static first paint when it was made visible. */
	readonly staticSeen: boolean;
	readonly builtMs: number;
	readonly messageMs: number;
	readonly stateShownMs: number;
	readonly paintedMs: number;
}

const FILE = 'source.md';

export async function measureFirstCandidate(o: FirstCandidateOptions): Promise<FirstCandidateFigures> {
	// Plain JavaScript without declarations; loaded only when this figure runs (it brings Playwright).
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const h = require('../test/e2e/harness') as Harness;
	const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bestofn-bench-ws-'));
	fs.writeFileSync(path.join(workspace, FILE), `${SOURCE}\n`);
	const wb = await h.openWorkbench({
		workspace,
		// Machine-overridable settings go in the workspace (see test/e2e/rewrite.e2e.js).
		workspaceSettings: { 'bestOfN.ollama.host': o.server.url, 'bestOfN.rewardModel': o.modelDir },
		userSettings: {
			'bestOfN.model': 'bench',
			'bestOfN.ranker': 'reward',
			'bestOfN.rewardDtype': 'fp32',
			'bestOfN.candidates': o.n,
			'bestOfN.concurrency': o.k,
			'bestOfN.maxTokens': 4096,
		},
	});
	const { page } = wb;
	const figures = {
		firstTokenToDomMs: [] as number[],
		eachTokenToDomMs: [] as number[],
		eachTokenToMessageMs: [] as number[],
		eachTextMessageToFrameMs: [] as number[],
		eachTextFrameToDomMs: [] as number[],
		eachTextDomToRenderedMs: [] as number[],
		completedToScoreMs: [] as number[],
		firstTokenToMessageMs: [] as number[],
		textMessageToDomMs: [] as number[],
		completedToScoreMessageMs: [] as number[],
		scoreMessageToDomMs: [] as number[],
		textMessageToFrameMs: [] as number[],
		textFrameToDomMs: [] as number[],
		scoreMessageToFrameMs: [] as number[],
		scoreFrameToDomMs: [] as number[],
		paint: [] as PaintTimes[],
		oneScoreMs: [] as number[],
	};
	try {
		await wb.context.addInitScript(RECORDER);
		await page.evaluate(ENTER_LISTENER);
		await h.openFileFromExplorer(page, FILE);
		for (let sample = 0; sample <= o.samples; sample++) {
			const s = await oneRun(h, page, o, sample === 0).catch(async (e: unknown) => {
				// What the picker showed and recorded, for the report.
				const frame = h.webviewFrame(page).locator('html');
				const shown = await frame.evaluate('document.body.innerText', null, { timeout: 2000 }).catch(() => '(no picker)');
				const rec = await frame.evaluate('JSON.stringify(window.__bestOfNBench)', null, { timeout: 2000 }).catch(() => '(none)');
				o.log(`picker text:\n${String(shown)}\nrecorded: ${String(rec)}`);
				throw e;
			});
			o.log(
				`${sample === 0 ? 'warm-up' : `sample ${sample}`}: first token → DOM ${s.firstTokenToDomMs.toFixed(0)} ms (message in the frame ${s.firstTokenToMessageMs.toFixed(0)}, its frame ${s.firstTokenToFrameMs.toFixed(0)}; each ${s.eachTokenToDomMs.map(v => v.toFixed(0)).join(', ')}), completed → score ${s.completedToScoreMs.toFixed(0)} ms (message ${s.completedToScoreMessageMs.toFixed(0)}, frame ${s.completedToScoreFrameMs.toFixed(0)}), Enter → host page ${s.paint.hostMs} ms, service worker in control ${s.paint.controllerMs} ms, HTML reached it ${s.paint.contentMs} ms, frame created ${s.paint.frameMs} ms, static page in the DOM ${s.paint.staticMs} ms, frame visible ${s.paint.visibleMs} ms, page built ${s.paint.builtMs} ms, first message ${s.paint.messageMs} ms, run shown ${s.paint.stateShownMs} ms, painted ${s.paint.paintedMs} ms; first seen ${s.paint.firstSeenMs} ms, the script's page seen ${s.paint.pageSeenMs} ms`,
			);
			for (const line of s.eachLines) o.log(`  ${line}`);
			figures.paint.push(s.paint);
			if (sample === 0) continue;
			figures.oneScoreMs.push(await o.timeOneScore());
			figures.firstTokenToDomMs.push(s.firstTokenToDomMs);
			figures.eachTokenToDomMs.push(...s.eachTokenToDomMs);
			figures.eachTokenToMessageMs.push(...s.each.map(e => e.toMessage));
			figures.eachTextMessageToFrameMs.push(...s.each.map(e => e.messageToFrame));
			figures.eachTextFrameToDomMs.push(...s.each.map(e => e.frameToDom));
			figures.eachTextDomToRenderedMs.push(...s.each.map(e => e.domToRendered));
			figures.completedToScoreMs.push(s.completedToScoreMs);
			figures.firstTokenToMessageMs.push(s.firstTokenToMessageMs);
			figures.textMessageToDomMs.push(s.firstTokenToDomMs - s.firstTokenToMessageMs);
			figures.completedToScoreMessageMs.push(s.completedToScoreMessageMs);
			figures.scoreMessageToDomMs.push(s.completedToScoreMs - s.completedToScoreMessageMs);
			figures.textMessageToFrameMs.push(s.firstTokenToFrameMs - s.firstTokenToMessageMs);
			figures.textFrameToDomMs.push(s.firstTokenToDomMs - s.firstTokenToFrameMs);
			figures.scoreMessageToFrameMs.push(s.completedToScoreFrameMs - s.completedToScoreMessageMs);
			figures.scoreFrameToDomMs.push(s.completedToScoreMs - s.completedToScoreFrameMs);
		}
	} finally {
		await wb.teardown();
		fs.rmSync(workspace, { recursive: true, force: true });
	}
	return figures;
}

async function oneRun(h: Harness, page: Page, o: FirstCandidateOptions, warmUp: boolean) {
	await o.server.configure({ parallel: o.k, tokenDelayMs: o.tokenDelayMs, words: o.words, hold: true });
	o.server.take();
	// The whole paragraph, as a person selects it.
	await page.locator('.editor-group-container.active .editor-instance .view-lines').first().click();
	await page.keyboard.press('Control+A');
	await page.locator('.editor-group-container.active .editor-instance .selected-text').first().waitFor();
	await h.startRewrite(page);
	await h.giveInstruction(page, INSTRUCTION);
	const enterAt = Number(await page.evaluate('window.__bestOfNEnter'));

	const picker = h.webviewFrame(page);
	const record = () => picker.locator('html').evaluate<PageRecord | undefined, undefined>('window.__bestOfNBench', undefined);
	// The first tokens wait until the picker shows the run, so the figure is the picker's own path.
	await h.until('the picker to show the run', async () => (await record())?.stateAt !== undefined || undefined, { timeout: 60000 });
	const trace = process.env.BESTOFN_TRACE_DIR ? await startTrace(page, process.env.BESTOFN_TRACE_DIR) : undefined;
	const rowIds = Array.from({ length: o.n }, (_, id) => `candidate-${id}`);
	// The picker's frame itself, found before the tokens go, so that waiting for the scores is one
	// evaluate sent as they go, and no DevTools message reaches the page until they show (see
	// __bestOfNBenchScored). Polling every 100 ms put 2–19 ms of DevTools work on the renderer's main
	// thread inside the first texts' way to the picker.
	const scored = (await pickerFrame(page)).evaluate(`window.__bestOfNBenchScored(${o.n})`);
	o.server.release();
	await within(warmUp ? 120000 : 60000, 'every candidate scored in the picker', scored);
	const rec = await record();
	if (!rec || rec.paintedAt === undefined || !rowIds.every(id => rec.score[id]))
		throw new Error(`the picker recorded ${JSON.stringify(rec)}`);
	const served = o.server.take();
	if (trace) o.log(`trace written: ${await trace.stop({ warmUp, rec, served })}`);
	if (served.length !== o.n) throw new Error(`the server finished ${served.length} requests, not ${o.n}`);
	const baseSeed = Math.min(...served.map(s => s.seed ?? Number.NaN));
	const shown = served.map(s => {
		// Candidate i of a run is sent with the run's seed + i.
		const id = `candidate-${(s.seed ?? Number.NaN) - baseSeed}`;
		const text = rec.text[id];
		const score = rec.score[id];
		const firstWord = candidateText(s.seed ?? 0, o.words).split(' ')[0] ?? '';
		if (!text || !score || !text.text.startsWith(firstWord))
			throw new Error(`row ${id} showed ${JSON.stringify(text?.text)}, not the text of seed ${s.seed} ("${firstWord} …")`);
		const heard = (at: number | undefined) => at ?? Number.NaN;
		return {
			served: s,
			textAt: text.at,
			scoreAt: score.at,
			textMessageAt: heard(rec.textMessage[id]),
			scoreMessageAt: heard(rec.scoreMessage[id]),
			textFrameAt: heard(rec.textFrame[id]),
			scoreFrameAt: heard(rec.scoreFrame[id]),
			textRenderedAt: heard(rec.textRendered?.[id]),
		};
	});
	const first = shown.reduce((a, b) => (b.served.firstTokenAt < a.served.firstTokenAt ? b : a));
	const each = shown.map(s => ({
		toMessage: s.textMessageAt - s.served.firstTokenAt,
		messageToFrame: s.textFrameAt - s.textMessageAt,
		frameToDom: s.textAt - s.textFrameAt,
		domToRendered: s.textRenderedAt - s.textAt,
	}));
	// For the log: each candidate's path from its first token, on the run's clock (0: the run's first token written).
	const t0 = first.served.firstTokenAt;
	const eachLines = [...shown]
		.sort((a, b) => a.served.firstTokenAt - b.served.firstTokenAt)
		.map(
			s =>
				`seed +${(s.served.seed ?? 0) - baseSeed}: token ${s.served.firstTokenAt - t0}, message ${s.textMessageAt - t0}, frame ${s.textFrameAt - t0}, DOM ${s.textAt - t0}, rendered ${s.textRenderedAt - t0} ms`,
		);
	eachLines.push(
		`messages: ${(rec.messages ?? [])
			.slice(0, 12)
			.map(m => `${m.at - t0} (${m.withText.length} with text)`)
			.join(', ')}`,
	);
	const completed = shown.reduce((a, b) => (b.served.finishedAt < a.served.finishedAt ? b : a));
	// The script's page is seen once it is drawn and the frame is visible.
	const pageSeen = Math.max(rec.paintedAt ?? Number.NaN, rec.visibleAt ?? Number.NaN);

	// Esc closes the finished picker and gives the editor back.
	await page.keyboard.press('Escape');
	await h.until('the picker to close', async () => (await page.locator('iframe.webview.ready').count()) === 0 || undefined);
	return {
		firstTokenToDomMs: first.textAt - first.served.firstTokenAt,
		eachTokenToDomMs: shown.map(s => s.textAt - s.served.firstTokenAt),
		each,
		eachLines,
		completedToScoreMs: completed.scoreAt - completed.served.finishedAt,
		firstTokenToMessageMs: first.textMessageAt - first.served.firstTokenAt,
		completedToScoreMessageMs: completed.scoreMessageAt - completed.served.finishedAt,
		firstTokenToFrameMs: first.textFrameAt - first.served.firstTokenAt,
		completedToScoreFrameMs: completed.scoreFrameAt - completed.served.finishedAt,
		paint: {
			hostMs: (rec.hostAt ?? Number.NaN) - enterAt,
			controllerMs: (rec.controllerAt ?? Number.NaN) - enterAt,
			contentMs: (rec.contentAt ?? Number.NaN) - enterAt,
			frameMs: (rec.frameAt ?? Number.NaN) - enterAt,
			visibleMs: (rec.visibleAt ?? Number.NaN) - enterAt,
			staticMs: (rec.staticAt ?? Number.NaN) - enterAt,
			firstSeenMs: (rec.visibleWith === 'static' ? (rec.visibleAt ?? Number.NaN) : pageSeen) - enterAt,
			pageSeenMs: pageSeen - enterAt,
			staticSeen: rec.visibleWith === 'static',
			builtMs: (rec.builtAt ?? Number.NaN) - enterAt,
			messageMs: (rec.messageAt ?? Number.NaN) - enterAt,
			stateShownMs: (rec.stateAt ?? Number.NaN) - enterAt,
			paintedMs: (rec.paintedAt ?? Number.NaN) - enterAt,
		},
	};
}

/** The picker's content frame (inside the webview's host page) as a Playwright frame. */
async function pickerFrame(page: Page): Promise<Frame> {
	const host = await (await page.locator('iframe.webview.ready').first().elementHandle())?.contentFrame();
	const inner = await (await host?.locator('#active-frame').elementHandle())?.contentFrame();
	if (!inner) throw new Error("the picker's frame is not there");
	return inner;
}

/** `promise`, or an error after `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			promise,
			new Promise<never>(
				(_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)),
			),
		]);
	} finally {
		clearTimeout(timer);
	}
}

/**
 * Diagnosis only (BESTOFN_TRACE_DIR): a Chromium trace of the browser from just before the first
 * tokens go until every score shows, and `perf record` of the whole machine over the same time (needs
 * perf and root). Both are on CLOCK_MONOTONIC; `clock` pairs it with Date.now(), the bench's clock,
 * so the trace, perf's samples and the recorded times line up. Written per sample into that folder
 * with the page's record and `ps`, to tell which process is which.
 */
async function startTrace(page: Page, dir: string) {
	const { execFileSync, spawn } = await import('node:child_process');
	fs.mkdirSync(dir, { recursive: true });
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Tracing.start', {
		transferMode: 'ReturnAsStream',
		traceConfig: {
			recordMode: 'recordAsMuchAsPossible',
			includedCategories: [
				'toplevel',
				'toplevel.flow',
				'devtools.timeline',
				'disabled-by-default-devtools.timeline',
				'disabled-by-default-devtools.timeline.frame',
				'v8.execute',
				'ipc',
				'mojom',
				'scheduler',
				'renderer.scheduler',
				'benchmark',
				'latencyInfo',
			],
		},
	});
	const perfFile = path.join(dir, `perf-${Date.now()}.data`);
	const perf = spawn('perf', ['record', '-a', '-g', '-F', '1999', '-k', 'CLOCK_MONOTONIC', '-o', perfFile], { stdio: 'ignore' });
	await new Promise(r => setTimeout(r, 300)); // perf's start-up
	const clock = { date: Date.now(), monoUs: Number(process.hrtime.bigint() / 1000n) };
	return {
		async stop(record: object): Promise<string> {
			const done = new Promise<string>(r => cdp.once('Tracing.tracingComplete', e => r(String(e.stream))));
			await cdp.send('Tracing.end');
			const handle = await done;
			const parts: string[] = [];
			for (;;) {
				const chunk = await cdp.send('IO.read', { handle, size: 1 << 20 });
				parts.push(chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString() : chunk.data);
				if (chunk.eof) break;
			}
			await cdp.send('IO.close', { handle });
			await cdp.detach();
			perf.kill('SIGINT');
			await new Promise(r => perf.once('exit', r));
			const stamp = String(Date.now());
			fs.writeFileSync(path.join(dir, `trace-${stamp}.json`), parts.join(''));
			const ps = execFileSync('ps', ['-eo', 'pid,ppid,pcpu,args', '--no-headers']).toString();
			fs.writeFileSync(path.join(dir, `sample-${stamp}.json`), JSON.stringify({ ...record, clock, ps, perfFile }, null, 1));
			return stamp;
		},
	};
}

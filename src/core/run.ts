/**
 * One best-of-N run: N streamed generations (at most `concurrency` at once), each scored as soon as it
 * completes, then ranked. Pure: it talks to a `CandidateGenerator` and an optional `RewardScorer` and
 * reports progress as `PickerState` snapshots; the extension and the CLI are two views of it.
 *
 * One AbortController per run: `cancel()` aborts every stream, the reward load and pending scores.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { consensusScores } from './consensus';
import { BestOfNError, cancelledError, describeError, isCancelled, settingName, type SettingNamer } from './errors';
import type { CandidateGenerator, GenerationOptions, GenerationRequest, GenerationResult } from './generation';
import type { Logger } from './logger';
import { nullLogger } from './logger';
import type { CandidateView, PickerState, RankerView, RunPhase } from './protocol';
import type { LoadProgress, RewardScorer } from './reward';
import { heldTextError, heldTextLimit, runLimitError } from './runLimits';
import { ServerPace, slowedBy, type PaceReading } from './serverPace';
import { generationHost, type Settings } from './settings';
import type { Task } from './tasks/task';

export interface RunOptions {
	readonly runId: number;
	/** Names the run across windows and restarts (see `PickerState.runKey`); random by default. */
	readonly runKey?: string;
	/** What is asked of the model and how its replies are cleaned and judged. */
	readonly task: Task;
	readonly settings: Settings;
	readonly generator: CandidateGenerator;
	/** Absent when the ranker is consensus or no reward model is configured (`rankerReason` says which). */
	readonly scorer?: RewardScorer;
	/** Why there is no scorer, for the picker's header. */
	readonly rankerReason?: string;
	/**
	 * Without a scorer: a notice that a reward model would rank, if one were set up (shown on every
	 * such run, with the button that sets one up). Absent when consensus was chosen on purpose.
	 */
	readonly rankerNotice?: string;
	readonly logger?: Logger;
	/** Seed of candidate 0; candidate i uses seed + i. Random by default so Regenerate gives new text. */
	readonly seed?: number;
	readonly now?: () => number;
	/** How the front end names settings in the messages it shows (default the extension's `bestOfN.…`). */
	readonly nameSetting?: SettingNamer;
	/**
	 * Hold the remaining scores until generation ends once scoring is measured to slow the model server
	 * (`ServerPace`); default true. False scores every candidate as it completes (the bench's "before").
	 */
	readonly holdScoresWhenServerSlows?: boolean;
}

interface Slot {
	readonly id: number;
	status: CandidateView['status'];
	raw: string;
	text: string;
	/** `raw` grew since `text` was cleaned from it (cleaning waits for the next snapshot). */
	stale?: boolean;
	error?: string;
	/** What failed it, kept whole so a run that failed entirely reports it with its setting. */
	failure?: BestOfNError;
	score?: number;
	scoreError?: string;
	/** Index into `slots` of the candidate this one duplicates. */
	duplicateOf?: number;
	count: number;
	tokens?: number;
	durationMs?: number;
	evalMs?: number;
	/** When its request opened (or its choice first appeared). */
	startedAt?: number;
	doneReason?: string;
	/** The sampling seed its request carried. */
	seed?: number;
	/** Order of completion, to break ties and keep unscored candidates stable. */
	finishedOrder?: number;
	/** Stops this candidate's own request (where it has one to itself). */
	stop?: AbortController;
	/** Whether it has received anything but whitespace yet. */
	hasWords?: boolean;
	/** Whether its cleaned text has shown anything yet. */
	showsText?: boolean;
	/** Completed, its score held until generation ends (scoring slowed the model server). */
	scoreHeld?: boolean;
}

export interface RunResult {
	readonly state: PickerState;
	/** Set when no candidate could be produced, with the cause a person can act on. */
	readonly error?: BestOfNError;
}

const STREAM_EMIT_MS = 50;
/** How long a reply may grow while each delta is cleaned to see whether its first text shows (`showsTextNow`). */
const FIRST_TEXT_CHECK_CHARS = 4096;

/** Errors that will fail every other request the same way: stop the run instead of repeating them. */
const FATAL_KINDS: ReadonlySet<string> = new Set(['unreachable', 'unauthorized', 'model-not-found']);

export class BestOfNRun {
	private readonly controller = new AbortController();
	private readonly slots: Slot[];
	private readonly listeners = new Set<(state: PickerState) => void>();
	private readonly logger: Logger;
	private readonly now: () => number;
	private readonly startedAt: number;
	private readonly runKey: string;
	private phase: RunPhase = 'generating';
	private ranker: RankerView;
	private finished = 0;
	private notice: PickerState['notice'];
	private endedAt?: number;
	private fatal?: BestOfNError;
	/** Scoring is serialized: one pending promise chain, fed as candidates complete. */
	private scoring: Promise<void> = Promise.resolve();
	/** Completed candidates waiting for the scorer (a local model), taken all at once by the next call. */
	private readonly readyToScore: Slot[] = [];
	/** The streams' pace with and without a score running: whether scoring slows the model server. */
	private readonly pace = new ServerPace();
	/** Completed candidates whose scores wait for generation to end, since scoring slowed the server. */
	private readonly scoresHeld: Slot[] = [];
	/** Set once scoring was measured to slow the server: the rest of this run's scores wait for generation. */
	private holding = false;
	private heldCount = 0;
	private firstRatio?: number;
	private rewardUsable: boolean;
	private started?: Promise<RunResult>;
	private pendingEmit?: ReturnType<typeof setTimeout>;
	/** Characters of candidate text held now, and the most a run may hold (runLimits.ts). */
	private held = 0;
	private readonly heldLimit: number;

	constructor(private readonly options: RunOptions) {
		// Every open request, the reward load and each pending score listen to the one signal.
		setMaxListeners(0, this.controller.signal);
		this.logger = options.logger ?? nullLogger;
		this.now = options.now ?? Date.now;
		this.startedAt = this.now();
		this.runKey = options.runKey ?? randomUUID();
		this.slots = Array.from({ length: options.settings.candidates }, (_, id) => ({
			id,
			status: 'queued',
			raw: '',
			text: '',
			count: 1,
		}));
		this.heldLimit = heldTextLimit(options.settings);
		this.rewardUsable = options.scorer !== undefined;
		this.ranker = options.scorer
			? {
					kind: 'reward',
					label: rewardModelLabel(options.settings.rewardModel),
					reason: 'loading reward model…',
					loading: 'starting',
				}
			: { kind: 'consensus', label: 'consensus', reason: options.rankerReason ?? 'no reward model configured' };
		if (!options.scorer && options.rankerNotice)
			this.notice = { severity: 'warning', text: options.rankerNotice, action: 'setupReward' };
	}

	get signal(): AbortSignal {
		return this.controller.signal;
	}

	/** Called with a fresh snapshot after every change (the caller throttles rendering). */
	onState(listener: (state: PickerState) => void): { dispose(): void } {
		this.listeners.add(listener);
		return { dispose: () => this.listeners.delete(listener) };
	}

	/** Aborts every stream, the reward load and pending scores. Idempotent. */
	cancel(): void {
		if (this.controller.signal.aborted) return;
		this.controller.abort(cancelledError());
	}

	/** Runs once; later calls return the same result. */
	start(): Promise<RunResult> {
		this.started ??= this.execute();
		return this.started;
	}

	snapshot(): PickerState {
		const { task, settings } = this.options;
		for (const slot of this.slots) {
			if (slot.stale) {
				slot.text = task.clean(slot.raw, true);
				slot.stale = false;
			}
		}
		return {
			runId: this.options.runId,
			runKey: this.runKey,
			phase: this.phase,
			task: task.view,
			original: task.source,
			languageId: task.languageId,
			model: settings.model,
			host: generationHost(settings),
			requested: settings.candidates,
			ranker: this.ranker,
			candidates: this.ordered().map(toView),
			startedAt: this.startedAt,
			elapsedMs: this.endedAt === undefined ? undefined : this.endedAt - this.startedAt,
			notice: this.notice,
		};
	}

	/** The final text of a candidate, by id, if it completed. */
	candidateText(id: number): string | undefined {
		const slot = this.slots[id];
		return slot && slot.status === 'done' && slot.duplicateOf === undefined ? slot.text : undefined;
	}

	private async execute(): Promise<RunResult> {
		const { settings, scorer } = this.options;
		const signal = this.controller.signal;
		// The front ends refuse these before a run; this keeps any other caller inside the caps too.
		const refused = runLimitError(settings, this.options.task.source.length);
		if (refused) {
			for (const slot of this.slots) slot.status = 'cancelled';
			this.fatal = refused;
			this.end('failed');
			this.notice = { severity: 'error', text: this.describe(refused) };
			this.emit();
			return { state: this.snapshot(), error: refused };
		}
		const rewardLoad = scorer ? this.loadReward(scorer) : Promise.resolve();
		this.emit();

		const seed = this.options.seed ?? Math.floor(Math.random() * 2 ** 31);
		const { generator } = this.options;
		let workers: Promise<void>[];
		if (generator.generateMany) {
			workers = [this.generateAll(generator.generateMany.bind(generator), seed)];
		} else {
			// One queue the workers take from in turn.
			const queue = this.slots.values();
			workers = Array.from({ length: Math.min(settings.concurrency, this.slots.length) }, async () => {
				for (const slot of queue) {
					if (signal.aborted) return;
					await this.generateOne(slot, seed + slot.id);
				}
			});
		}
		await Promise.all(workers);
		// The streams are over: what was held is scored now (or dropped, if the run was cancelled).
		if (scorer) this.scoreNow(scorer, this.takeHeld());
		if (!signal.aborted) {
			// Generation is over; what is left is the reward model (perhaps still downloading) and the scores.
			this.phase = 'scoring';
			this.emit();
		}
		await rewardLoad;
		await this.scoring;

		if (signal.aborted) {
			for (const slot of this.slots) if (slot.status === 'queued' || slot.status === 'streaming') slot.status = 'cancelled';
			this.end(this.fatal ? 'failed' : 'cancelled');
		} else {
			this.rankByConsensusIfNeeded();
			const done = this.slots.filter(s => s.status === 'done');
			this.end(done.length > 0 ? 'done' : 'failed');
		}
		if (this.phase === 'failed' && !this.fatal) {
			const first = this.slots.find(s => s.status === 'failed');
			this.fatal = first?.failure ?? new BestOfNError('server', first?.error ?? 'No candidate was produced.');
		}
		if (this.fatal) this.notice = { severity: 'error', text: this.describe(this.fatal) };
		this.emit();
		return { state: this.snapshot(), error: this.fatal };
	}

	private request(seed: number): GenerationRequest {
		const { settings, task } = this.options;
		const options: GenerationOptions = {
			temperature: settings.temperature,
			topP: settings.topP,
			maxTokens: settings.maxTokens,
			contextLength: settings.contextLength,
			seed,
		};
		return { model: settings.model, messages: task.messages(), options };
	}

	private async generateOne(slot: Slot, seed: number): Promise<void> {
		this.markStarted(slot, seed);
		slot.stop = new AbortController();
		try {
			const signal = AbortSignal.any([this.controller.signal, slot.stop.signal]);
			const result = await this.options.generator.generate(this.request(seed), signal, delta => this.addDelta(slot, delta));
			if (slot.status === 'streaming') this.markFinished(slot, result);
		} catch (e) {
			// A candidate stopped by the run itself (too much text) has failed already.
			if (slot.status === 'streaming') this.markFailed(slot, e);
		}
	}

	/** Every candidate through the generator's own batching (one request with `n`, where it can). */
	private async generateAll(generateMany: NonNullable<CandidateGenerator['generateMany']>, seed: number): Promise<void> {
		// A generator's report about an index it was not given, or a candidate already settled, is ignored.
		const open = (i: number): Slot | undefined => {
			const slot = this.slots[i];
			return slot?.status === 'queued' || slot?.status === 'streaming' ? slot : undefined;
		};
		await generateMany(this.request(seed), this.slots.length, this.options.settings.concurrency, this.controller.signal, {
			started: (i, requestSeed) => {
				const slot = open(i);
				if (slot) this.markStarted(slot, requestSeed);
			},
			delta: (i, text) => {
				const slot = open(i);
				if (slot) this.addDelta(slot, text);
			},
			finished: (i, result) => {
				const slot = open(i);
				if (slot) this.markFinished(slot, result);
			},
			failed: (i, e) => {
				const slot = open(i);
				if (slot) this.markFailed(slot, e);
			},
		}).catch((e: unknown) => {
			// Only a cancel is expected here; anything else fails the candidates still open.
			for (const s of this.slots) if (s.status === 'queued' || s.status === 'streaming') this.markFailed(s, e);
		});
	}

	private markStarted(slot: Slot, seed: number): void {
		if (slot.status !== 'queued') return;
		slot.seed = seed;
		slot.status = 'streaming';
		slot.startedAt = this.now();
		this.emit();
	}

	private addDelta(slot: Slot, delta: string): void {
		if (slot.status !== 'streaming' && slot.status !== 'queued') return;
		this.pace.chunk(slot.id, this.now());
		const first = !slot.hasWords && /\S/.test(delta);
		if (first) slot.hasWords = true;
		slot.raw += delta;
		slot.stale = true;
		this.held += delta.length;
		if (this.held > this.heldLimit) return this.stopHolding(slot);
		// A candidate's first words are what the person waits for: shown at once; the rest is coalesced.
		const firstText = this.showsTextNow(slot);
		if (first || firstText) this.emit();
		else this.emitSoon();
	}

	/**
	 * Whether this delta made the candidate's cleaned text show something for the first time. A reply
	 * often opens with what cleaning hides (a fence, a line of chat), so its first words to show come
	 * later than its first words: each delta is cleaned until they do, while the reply is short enough
	 * that this costs nothing (past that, they come with the next coalesced snapshot).
	 */
	private showsTextNow(slot: Slot): boolean {
		if (slot.showsText || slot.raw.length > FIRST_TEXT_CHECK_CHARS) return false;
		slot.text = this.options.task.clean(slot.raw, true);
		slot.stale = false;
		slot.showsText = slot.text !== '';
		return slot.showsText;
	}

	/** The candidate whose text crossed the run's cap: its request is stopped and its text let go. */
	private stopHolding(slot: Slot): void {
		this.pace.end(slot.id, this.now());
		this.held -= slot.raw.length;
		slot.raw = '';
		slot.text = '';
		slot.stale = false;
		this.markFailed(slot, heldTextError(this.options.settings));
		slot.stop?.abort();
	}

	private markFinished(slot: Slot, result: GenerationResult): void {
		const { task } = this.options;
		this.held += result.text.length - slot.raw.length;
		if (this.held > this.heldLimit) {
			slot.raw = result.text;
			return this.stopHolding(slot);
		}
		this.pace.end(slot.id, this.now());
		slot.raw = result.text;
		slot.stale = false;
		slot.text = task.clean(result.text, false);
		slot.tokens = result.tokens;
		slot.evalMs = result.evalMs;
		slot.doneReason = result.doneReason;
		slot.durationMs = this.now() - (slot.startedAt ?? this.startedAt);
		slot.status = 'done';
		slot.finishedOrder = this.finished++;
		const twin = this.slots.find(s => s !== slot && s.status === 'done' && s.duplicateOf === undefined && s.text === slot.text);
		if (twin) {
			slot.duplicateOf = twin.id;
			twin.count++;
		} else {
			this.queueScore(slot);
		}
		this.emit();
	}

	private markFailed(slot: Slot, e: unknown): void {
		this.pace.end(slot.id, this.now());
		if (isCancelled(e) || this.controller.signal.aborted) {
			slot.status = 'cancelled';
		} else {
			slot.status = 'failed';
			slot.error = this.describe(e);
			slot.failure = e instanceof BestOfNError ? e : new BestOfNError('server', slot.error, { cause: e });
			this.logger.warn(`candidate ${slot.id + 1} failed: ${slot.error}`);
			if (e instanceof BestOfNError && FATAL_KINDS.has(e.kind) && !this.fatal) {
				this.fatal = e;
				this.cancel();
			}
		}
		this.emit();
	}

	private async loadReward(scorer: RewardScorer): Promise<void> {
		const label = rewardModelLabel(this.options.settings.rewardModel);
		try {
			const info = await scorer.load(this.controller.signal, (p: LoadProgress) => {
				this.ranker = { ...this.ranker, loading: describeProgress(p) };
				this.emit();
			});
			this.ranker =
				info.source === 'server'
					? // The server's model is the ranker; the URL is only where it runs.
						{ kind: 'reward', label: info.id, reason: `served at ${this.options.settings.rewardModel}` }
					: { kind: 'reward', label, reason: `${info.id}, pairs up to ${info.maxLength} tokens` };
		} catch (e) {
			this.rewardUsable = false;
			if (isCancelled(e)) {
				this.ranker = { kind: 'none', label: 'unranked', reason: 'cancelled before the reward model loaded' };
				return;
			}
			const why = this.describe(e);
			this.logger.error(`reward model ${label} did not load: ${why}`);
			if (this.options.settings.ranker === 'reward') {
				this.ranker = { kind: 'none', label: 'unranked', reason: `reward model failed: ${why}` };
				this.notice = { severity: 'error', text: why, action: 'setupReward' };
			} else {
				this.ranker = { kind: 'consensus', label: 'consensus', reason: `reward model unavailable, ${why}` };
				this.notice = { severity: 'warning', text: `Ranked by consensus: ${why}`, action: 'setupReward' };
			}
		}
		this.emit();
	}

	/**
	 * Scores this candidate once the reward model has loaded: beside earlier scores for a scorer that
	 * takes concurrent calls (a server); for a local model (one worker) behind the call in
	 * progress, together with every other candidate that completed meanwhile, in one call, which the
	 * scorer may run as one batch (faster on a CPU when their lengths are alike).
	 */
	private queueScore(slot: Slot): void {
		const scorer = this.options.scorer;
		if (!scorer || !this.rewardUsable) return;
		if (this.holdsScores()) {
			slot.scoreHeld = true;
			this.scoresHeld.push(slot);
			this.heldCount++;
			return;
		}
		// The last stream ended: what was held goes with this one, in the same call.
		this.scoreNow(scorer, [...this.takeHeld(), slot]);
	}

	private scoreNow(scorer: RewardScorer, slots: readonly Slot[]): void {
		if (slots.length === 0) return;
		if (scorer.concurrent) {
			for (const slot of slots) this.scoring = Promise.all([this.scoring, this.scoreSlots(scorer, [slot])]).then(() => undefined);
			return;
		}
		this.readyToScore.push(...slots);
		this.scoring = this.scoring.then(() => this.scoreSlots(scorer, this.readyToScore.splice(0)));
	}

	private takeHeld(): Slot[] {
		const held = this.scoresHeld.splice(0);
		for (const slot of held) slot.scoreHeld = false;
		return held;
	}

	/**
	 * Whether a candidate that just completed waits for generation to end before it is scored: only while
	 * other streams are still to come, and only once the scores so far were measured to slow them
	 * (`ServerPace.slowed`). A server elsewhere streams at its pace whatever the run does, so there
	 * every candidate is scored as it completes, which is what lets the ranking arrive early.
	 */
	private holdsScores(): boolean {
		if (!this.slots.some(s => s.status === 'streaming' || s.status === 'queued')) return false;
		if (this.holding) return true;
		const { ratio } = this.pace.read(this.now());
		if (ratio === undefined) return false;
		this.firstRatio ??= ratio;
		if (this.options.holdScoresWhenServerSlows === false || !slowedBy(ratio)) return false;
		this.holding = true;
		this.logger.info(
			`the model server's streams went at ${ratio.toFixed(2)} of their pace while candidates were scored: the other scores wait until generation ends`,
		);
		return true;
	}

	/**
	 * What the run measured of the streams' pace with and without scoring (`firstRatio`: the reading its
	 * first decision saw), and how many scores it held: for the bench.
	 */
	paceReading(): PaceReading & { readonly firstRatio?: number; readonly held: number } {
		return { ...this.pace.read(this.now()), firstRatio: this.firstRatio, held: this.heldCount };
	}

	private async scoreSlots(scorer: RewardScorer, slots: readonly Slot[]): Promise<void> {
		const signal = this.controller.signal;
		if (slots.length === 0 || signal.aborted || !this.rewardUsable) return;
		try {
			await scorer.load(signal); // memoized: waits for the one load in flight
			this.pace.scoreStarted(this.now());
			const scores = await scorer
				.score(
					slots.map(s => this.options.task.rewardPair(s.text)),
					signal,
				)
				.finally(() => this.pace.scoreEnded(this.now()));
			slots.forEach((slot, i) => {
				slot.score = scores[i];
				this.logger.debug(`candidate ${slot.id + 1} scored ${slot.score}`);
			});
		} catch (e) {
			if (isCancelled(e) || !this.rewardUsable) return;
			const why = this.describe(e);
			for (const slot of slots) slot.scoreError = why;
			const which = slots.map(s => s.id + 1).join(', ');
			this.logger.warn(`candidate${slots.length > 1 ? 's' : ''} ${which} could not be scored: ${why}`);
			this.abandonReward(why);
		}
		this.emit();
	}

	/**
	 * After a scoring failure (typically the worker crashed) the remaining candidates cannot be scored by
	 * the same model, and a list half ranked by logits is misleading: in `auto` mode the whole run is
	 * re-ranked by consensus; in `reward` mode the scores obtained stay and the picker says why the rest
	 * have none.
	 */
	private abandonReward(why: string): void {
		this.rewardUsable = false;
		if (this.options.settings.ranker === 'reward') {
			this.notice = { severity: 'error', text: `Some candidates could not be scored: ${why}` };
			return;
		}
		for (const slot of this.slots) {
			slot.score = undefined;
			slot.scoreError = undefined;
		}
		this.ranker = { kind: 'consensus', label: 'consensus', reason: `reward scoring failed, ${why}` };
		this.notice = { severity: 'warning', text: `Ranked by consensus: ${why}` };
	}

	private rankByConsensusIfNeeded(): void {
		if (this.ranker.kind !== 'consensus') return;
		const unique = this.slots.filter(s => s.status === 'done' && s.duplicateOf === undefined);
		const scores = consensusScores(
			unique.map(s => s.text),
			unique.map(s => s.count),
		);
		unique.forEach((s, i) => (s.score = scores[i]));
	}

	/**
	 * Best first: scored by score, then completed unscored, streaming, queued, failed, cancelled.
	 * Failed before cancelled: after a fatal error the row with the reason leads, not an empty one.
	 */
	private ordered(): Slot[] {
		const bucket = (s: Slot) =>
			s.status === 'done'
				? s.score !== undefined
					? 0
					: 1
				: s.status === 'streaming'
					? 2
					: s.status === 'queued'
						? 3
						: s.status === 'failed'
							? 4
							: 5;
		return this.slots
			.filter(s => s.duplicateOf === undefined)
			.sort(
				(a, b) =>
					bucket(a) - bucket(b) ||
					(b.score ?? 0) - (a.score ?? 0) ||
					(a.finishedOrder ?? a.id + 1000) - (b.finishedOrder ?? b.id + 1000),
			);
	}

	private describe(e: unknown): string {
		return describeError(e, this.options.nameSetting ?? settingName);
	}

	private end(phase: RunPhase): void {
		this.phase = phase;
		this.endedAt = this.now();
	}

	/**
	 * Tokens arrive far faster than anyone reads them: streaming updates are coalesced into one
	 * snapshot per `STREAM_EMIT_MS`, so cleaning and snapshotting cost O(text) a tick, not a token.
	 */
	private emitSoon(): void {
		this.pendingEmit ??= setTimeout(() => this.emit(), STREAM_EMIT_MS);
	}

	private emit(): void {
		clearTimeout(this.pendingEmit);
		this.pendingEmit = undefined;
		if (this.listeners.size === 0) return;
		const state = this.snapshot();
		for (const listener of this.listeners) listener(state);
	}
}

function toView(slot: Slot, index: number, all: Slot[]): CandidateView {
	const rankable = slot.status === 'done' && slot.score !== undefined;
	return {
		id: slot.id,
		status: slot.status,
		text: slot.text,
		error: slot.error,
		score: slot.score,
		scoreError: slot.scoreError,
		rank: rankable ? all.slice(0, index + 1).filter(s => s.status === 'done' && s.score !== undefined).length : undefined,
		count: slot.count,
		tokens: slot.tokens,
		durationMs: slot.durationMs,
		evalMs: slot.evalMs,
		doneReason: slot.doneReason,
		seed: slot.seed,
		scoreHeld: slot.scoreHeld || undefined,
	};
}

/**
 * How the picker names a reward model: a Hub id as it is (`org/name`), a folder by its last segment,
 * since the full path only pushes everything else off the header.
 */
export function rewardModelLabel(model: string): string {
	const isPath = /^(\/|\.|~|[A-Za-z]:[\\/]|\\\\)/.test(model);
	if (!isPath) return model;
	const segments = model.split(/[\\/]+/).filter(Boolean);
	return segments[segments.length - 1] ?? model;
}

function describeProgress(p: LoadProgress): string {
	if (p.status === 'ready' || p.status === 'done') return `loaded ${p.file}`;
	if (p.percent !== undefined) return `downloading ${p.file} ${Math.round(p.percent)}%`;
	return `${p.status} ${p.file}`;
}

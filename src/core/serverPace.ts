/**
 * Whether this run's own scoring slows the model server, measured from the chunks the run receives.
 *
 * A model server on the same CPU as the reward model (a CPU-only Ollama) loses its cores to every
 * score: its threads meet at a barrier after each layer, so one preempted thread holds up the whole
 * step, and a ~350 ms score held a one-slot server up 400–500 ms (bench/RESULTS.md, figure 1b). A server
 * elsewhere (a GPU box, a remote API) streams at the same pace whatever the run does, and there scoring
 * each candidate as it completes is what makes the ranking come early. Which of the two a server is
 * cannot be told from its URL (a loopback URL may forward to a GPU box), so it is measured: the streams'
 * pace while a score runs against their pace while none does.
 *
 * Pace is tokens per millisecond of stream time: every chunk after a stream's first counts as one token
 * (a chunk carrying several tokens counts once on both sides alike, so batching cancels out of the
 * ratio), and each open stream contributes its time, so one slot or four compare alike. A stream's time
 * starts at its first chunk: the wait for a first token (prompt processing, a queue on the server)
 * is not its decoding pace. Time with no chunk counts too, so a stream that stalls for a whole score
 * shows as a stall, not as no data.
 */

/**
 * Pace while scoring ÷ pace otherwise below which scoring is taken to slow the server. On the bench's
 * 2-core machine (bench/RESULTS.md, "Holding scores when scoring slows the model server") the CPU-bound
 * server of figure 1b read 0.07–0.69 with the reward model's one or two threads (and 0.91–1.00 in
 * three runs where the server stayed as slow between scores as during them, which this ratio cannot
 * see); the loopback server that waits between tokens (figures 1 and 2, as a GPU box would) read
 * 0.93–1.05, its timers and the run's own thread sharing the cores with the score. Three quarters sits
 * between the two, nearer the slowed side's worst reading.
 */
export const SLOWED_BELOW = 0.75;
/** Tokens seen with no score running before the pace otherwise is trusted. */
const MIN_QUIET_TOKENS = 16;
/** Tokens the streams would have made at that pace during scores before the pace while scoring is trusted. */
const MIN_EXPECTED_TOKENS = 8;

/** Whether a reading's ratio says scoring slows the server: the one rule, for the run and `slowed`. */
export function slowedBy(ratio: number | undefined): boolean {
	return ratio !== undefined && ratio < SLOWED_BELOW;
}

export interface PaceReading {
	/** Pace while scoring ÷ pace otherwise; undefined until there is enough of both to compare. */
	readonly ratio?: number;
	/** Stream time during scores and otherwise, ms summed over open streams, and the tokens in each. */
	readonly scoringMs: number;
	readonly scoringTokens: number;
	readonly quietMs: number;
	readonly quietTokens: number;
}

export class ServerPace {
	/** Streams whose first chunk came, and whether each has ended. */
	private readonly streams = new Map<number, boolean>();
	private open = 0;
	private scores = 0;
	private last: number | undefined;
	private scoringMs = 0;
	private quietMs = 0;
	private scoringTokens = 0;
	private quietTokens = 0;

	/** A chunk of `stream` arrived at `t` (ms). */
	chunk(stream: number, t: number): void {
		this.advance(t);
		const ended = this.streams.get(stream);
		if (ended === undefined) {
			this.streams.set(stream, false);
			this.open++;
			return;
		}
		if (ended) return;
		if (this.scores > 0) this.scoringTokens++;
		else this.quietTokens++;
	}

	/** `stream` ended (completed, failed or stopped) at `t`. */
	end(stream: number, t: number): void {
		this.advance(t);
		if (this.streams.get(stream) === false) {
			this.streams.set(stream, true);
			this.open--;
		}
	}

	/** A score call began computing at `t` (calls may overlap, for a scorer that takes concurrent calls). */
	scoreStarted(t: number): void {
		this.advance(t);
		this.scores++;
	}

	scoreEnded(t: number): void {
		this.advance(t);
		this.scores = Math.max(0, this.scores - 1);
	}

	/** What has been measured up to `now`. */
	read(now: number): PaceReading {
		this.advance(now);
		const reading = {
			scoringMs: this.scoringMs,
			scoringTokens: this.scoringTokens,
			quietMs: this.quietMs,
			quietTokens: this.quietTokens,
		};
		if (this.quietTokens < MIN_QUIET_TOKENS || this.quietMs <= 0) return reading;
		const quietPace = this.quietTokens / this.quietMs;
		// Too little stream time during scores (candidates that end together, a score that began as the
		// last stream ended) says nothing about them: a token or two either way would swing the ratio.
		if (quietPace * this.scoringMs < MIN_EXPECTED_TOKENS) return reading;
		return { ...reading, ratio: this.scoringTokens / this.scoringMs / quietPace };
	}

	/** Whether the streams went at less than `SLOWED_BELOW` of their pace while scores ran (see there). */
	slowed(now: number): boolean {
		return slowedBy(this.read(now).ratio);
	}

	private advance(t: number): void {
		if (this.last !== undefined && t > this.last) {
			const streamMs = this.open * (t - this.last);
			if (this.scores > 0) this.scoringMs += streamMs;
			else this.quietMs += streamMs;
		}
		if (this.last === undefined || t > this.last) this.last = t;
	}
}

/** The benchmark's input: a paragraph to rewrite and candidate rewrites of a chosen length. */
import { mulberry32 } from './onnxGraph';

export const INSTRUCTION = 'Rewrite this documentation so that a new contributor understands it on first reading.';

export const SOURCE = `The reward worker runs in a thread of its own so that scoring never blocks the editor. It is started on the
first call, loads the configured model once, and keeps it in memory between runs until it has been idle for the
configured number of minutes; then the thread is terminated and the memory returned to the system. A crash of the
worker fails only the calls that were in flight: the next call starts a fresh worker and loads the model again.
Each request carries an identifier, and the worker answers each request exactly once, with either a result or an
error of the same identifier, after any number of progress messages. Scores are raw logits, one per pair, in the
order the pairs were given; higher is better, and nothing is normalized, so scores of different models cannot be
compared with each other. Pairs longer than the model accepts lose the beginning of the prompt first, because the
model must see the response to judge it; only when the response alone is too long is the end of the response cut.
Quantized models are scored one pair at a time, since their scores depend on the other pairs of a batch.`;

const WORDS = `the worker thread scores each candidate as soon as the server has sent its last token so that a person sees
the ranking without waiting for anything but the model itself while the editor stays responsive and every request is
answered once with a result or an error that names what went wrong and how to fix it the model is loaded when first
needed kept warm between runs and unloaded after a quiet period to give memory back long inputs lose the start of the
prompt before any of the response because the response is what is judged quantized weights are scored one at a time`
	.split(/\s+/)
	.filter(Boolean);

/** `words` words of prose, different for each seed, in sentences. */
export function candidateText(seed: number, words: number): string {
	const next = mulberry32(seed + 1);
	const out: string[] = [];
	for (let i = 0; i < words; i++) {
		// next() < 1, so the index is always in range.
		let w = WORDS[Math.floor(next() * WORDS.length)] ?? 'word';
		if (out.at(-1)?.endsWith('.') ?? true) w = w.charAt(0).toUpperCase() + w.slice(1);
		if (i === words - 1 || next() < 0.07) w += '.';
		else if (next() < 0.05) w += ',';
		out.push(w);
	}
	return out.join(' ');
}

/**
 * Caps that protect the machine from one run, the same for the extension and the CLI: what a run may
 * ask for (N × maxTokens), the selection it may send, and the candidate text it may hold. Past a cap a
 * run is refused before anything is sent, or, for held text, the candidate that crosses it is stopped;
 * the message names what to change. Nothing is cut short without a word.
 */
import { BestOfNError } from './errors';
import type { Settings } from './settings';

export const RUN_LIMITS = {
	/**
	 * N × maxTokens: the most tokens one run may ask for. 16 × 4096 or 4 × 16384 fit; 16 × 32768 (half a
	 * million tokens, hours on a local GPU and about 2 MB of text) does not.
	 */
	runTokens: 65_536,
	/**
	 * The most characters a selection may have: 256 Ki, about 65 000 tokens, more than a local model's
	 * context holds with room for a rewrite of it. A larger selection would only be cut by the server.
	 */
	selectionCharacters: 262_144,
	/**
	 * Characters of candidate text a run may hold per token it asked for. A token is about 4 characters
	 * of code or prose; 16 leaves room for long whitespace and symbol tokens, and stops a server that
	 * ignores the token limit before it fills the memory.
	 */
	charactersPerToken: 16,
} as const;

/**
 * Why a run with these settings and a selection of `selectionLength` characters must not start.
 * `selection` is how the front end names the text (the CLI's is its input).
 */
export function runLimitError(settings: Settings, selectionLength: number, selection = 'selection'): BestOfNError | undefined {
	const asked = settings.candidates * settings.maxTokens;
	if (asked > RUN_LIMITS.runTokens) {
		return new BestOfNError(
			'bad-input',
			`One run would ask for ${fmt(asked)} tokens ({candidates} ${settings.candidates} × {maxTokens} ${fmt(settings.maxTokens)}), more than the ${fmt(RUN_LIMITS.runTokens)} a run may ask for. Lower {candidates} or {maxTokens}.`,
			{ setting: settings.candidates > 4 ? 'candidates' : 'maxTokens' },
		);
	}
	if (selectionLength > RUN_LIMITS.selectionCharacters) {
		return new BestOfNError(
			'bad-input',
			`The ${selection} has ${fmt(selectionLength)} characters, more than the ${fmt(RUN_LIMITS.selectionCharacters)} one run may send (about ${fmt(RUN_LIMITS.selectionCharacters / 4)} tokens, past what a local model's context holds). Give it a part at a time; nothing was sent.`,
		);
	}
	return undefined;
}

/** How many characters of candidate text a run with these settings may hold. */
export function heldTextLimit(settings: Settings): number {
	return settings.candidates * settings.maxTokens * RUN_LIMITS.charactersPerToken;
}

/** The error that stops the candidate whose text crossed `heldTextLimit`. */
export function heldTextError(settings: Settings): BestOfNError {
	return new BestOfNError(
		'server',
		`Stopped: the run's candidates reached ${fmt(heldTextLimit(settings))} characters, more than {candidates} ${settings.candidates} × {maxTokens} ${fmt(settings.maxTokens)} tokens can hold, so the server is not keeping to the token limit. If the text is real, raise {maxTokens}.`,
		{ setting: 'maxTokens' },
	);
}

function fmt(n: number): string {
	return Math.round(n).toLocaleString('en-US');
}

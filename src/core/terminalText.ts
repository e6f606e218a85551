/* eslint-disable no-control-regex -- matching control characters is what this file is for */
/**
 * Text from a model or a server, made safe to print on a terminal. A reply can carry escape
 * sequences (clear the screen, retitle the window, hide text, OSC 8 links, OSC 52 clipboard writes)
 * and bidirectional-override characters that make code read differently from how it runs
 * ("Trojan Source", CVE-2021-42574). Printed as plain text they act on the terminal or the reader.
 *
 * `forTerminal` removes escape sequences and control characters (keeping tab and newline) and shows
 * each bidi control as a visible `<U+202E>`, so the reader sees it is there. `jsonForTerminal` keeps
 * JSON lossless: it writes those characters as `\uXXXX` escapes, which parse back to the same strings.
 * Pure; the CLI uses both unless `--raw`.
 */

/** ESC-introduced sequences: CSI (ESC [ … final), OSC/DCS/SOS/PM/APC (… BEL or ESC \), and two-byte escapes. */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][\s\S]*?(?:\x07|\x1b\\|$)|\x1b[ -/]*[0-~]?/g;
/** C0 controls but tab and newline, DEL, and C1 controls (U+0080–U+009F; U+009B is a one-byte CSI). */
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
/** Explicit embeddings, overrides and isolates, and the marks that steer them. */
export const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

export function forTerminal(text: string): string {
	return text
		.replace(/\r\n/g, '\n')
		.replace(ESCAPES, '')
		.replace(CONTROLS, '')
		.replace(BIDI_CONTROLS, c => `<${codePoint(c)}>`);
}

/** JSON text whose control and bidi characters are `\uXXXX` escapes; `JSON.parse` gives back the same value. */
export function jsonForTerminal(json: string): string {
	return json.replace(
		/[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g,
		c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
	);
}

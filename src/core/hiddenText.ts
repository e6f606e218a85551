/* eslint-disable no-control-regex -- matching control characters is what this file is for */
/**
 * Characters that change how text reads without being seen: bidirectional embeddings, overrides and
 * isolates, which make code read differently from how it runs ("Trojan Source", CVE-2021-42574), and
 * C0/C1 controls such as a terminal's ESC. The picker and the inline explanations show each as a
 * visible `<U+202E>`, as the CLI prints them, so a candidate reads as it would run. Only what is drawn
 * changes: the model's text as it came is what is applied, copied or inserted.
 */
const HIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const codePoint = (c: string) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`;

/** `text` with each hidden character replaced by its visible code point; character by character, so it can stream. */
export function showHidden(text: string): string {
	return text.replace(HIDDEN, codePoint);
}

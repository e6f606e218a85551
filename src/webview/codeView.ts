/**
 * Highlighted tokens (see `highlight.ts`) as elements: a span per scope with the scope's classes, and
 * the text always as a Text node, so whatever a model wrote stays text (hidden controls shown).
 */
import type { Token, TokenLine } from './highlight';
import { showHidden } from '../core/hiddenText';

function tokenNode(t: Token): Node {
	let node: Node = document.createTextNode(showHidden(t.text));
	for (const scope of [...t.scopes].reverse()) {
		const span = document.createElement('span');
		span.className = scope;
		span.append(node);
		node = span;
	}
	return node;
}

/** One line's tokens, appended to `parent`. */
export function appendTokens(parent: Node, line: TokenLine): void {
	for (const t of line) parent.appendChild(tokenNode(t));
}

/** Lines joined by newlines, for a `<pre>`. */
export function tokenLinesFragment(lines: readonly TokenLine[]): DocumentFragment {
	const fragment = document.createDocumentFragment();
	lines.forEach((line, i) => {
		if (i > 0) fragment.appendChild(document.createTextNode('\n'));
		appendTokens(fragment, line);
	});
	return fragment;
}

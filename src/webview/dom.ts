/**
 * Element helpers for the picker's views. Every string from the host reaches the page through
 * `textContent` or a Text node, never markup. The setters write only what changed, so the redraw
 * on every snapshot leaves unchanged nodes (and a text selection in them) alone.
 */

export function el<K extends keyof HTMLElementTagNameMap>(
	tag: K,
	className?: string,
	attrs?: Record<string, string>,
): HTMLElementTagNameMap[K] {
	const node = document.createElement(tag);
	if (className) node.className = className;
	for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, v);
	return node;
}

export function setText(node: HTMLElement, text: string): void {
	if (node.textContent !== text) node.textContent = text;
}

/** `undefined` removes the attribute. */
export function setAttr(node: HTMLElement, name: string, value: string | undefined): void {
	if (value === undefined) {
		if (node.hasAttribute(name)) node.removeAttribute(name);
	} else if (node.getAttribute(name) !== value) {
		node.setAttribute(name, value);
	}
}

export function show(node: HTMLElement, visible: boolean): void {
	if (node.hidden === visible) node.hidden = !visible;
}

export function button(label: string, className: string, onClick: () => void, title?: string): HTMLButtonElement {
	const b = el('button', `btn ${className}`, { type: 'button' });
	b.textContent = label;
	if (title) b.title = title;
	b.addEventListener('click', () => onClick());
	return b;
}

/**
 * Renders a model's Markdown as DOM nodes, inertly. markdown-it parses (with `html: false`, so raw
 * HTML in a reply stays text); the tokens become elements from a fixed list of tags, filled only
 * through text nodes — never `innerHTML`. Links get no `href`: a click asks the host to open them,
 * which it does only through VS Code after checking the scheme. Images are not loaded: their alt text
 * is shown instead, so a reply cannot make the webview fetch anything.
 */
import MarkdownIt from 'markdown-it';
import { showHidden } from '../core/hiddenText';

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

type Token = ReturnType<MarkdownIt['parse']>[number];

/** Block and inline tags markdown-it produces that may appear on the page. */
const ALLOWED = new Set([
	'p',
	'h1',
	'h2',
	'h3',
	'h4',
	'h5',
	'h6',
	'ul',
	'ol',
	'li',
	'blockquote',
	'em',
	'strong',
	's',
	'table',
	'thead',
	'tbody',
	'tr',
	'th',
	'td',
	'hr',
	'br',
]);

export interface MarkdownOptions {
	/** Called with the link's target when a link is clicked. */
	openLink(href: string): void;
}

export function renderMarkdown(source: string, options: MarkdownOptions): DocumentFragment {
	const root = document.createDocumentFragment();
	const stack: Node[] = [root];
	// Close tags never pop the root (`stack.length > 1` below), so the fallback is never taken.
	const top = () => stack.at(-1) ?? root;
	emit(md.parse(source, {}), stack, top, options);
	return root;
}

function emit(tokens: readonly Token[], stack: Node[], top: () => Node, options: MarkdownOptions): void {
	for (const t of tokens) {
		switch (t.type) {
			case 'inline':
				emit(t.children ?? [], stack, top, options);
				break;
			case 'text':
				top().appendChild(document.createTextNode(showHidden(t.content)));
				break;
			case 'softbreak':
				top().appendChild(document.createTextNode('\n'));
				break;
			case 'hardbreak':
				top().appendChild(document.createElement('br'));
				break;
			case 'code_inline': {
				const code = document.createElement('code');
				code.textContent = showHidden(t.content);
				top().appendChild(code);
				break;
			}
			case 'fence':
			case 'code_block': {
				const pre = document.createElement('pre');
				const code = document.createElement('code');
				code.textContent = showHidden(t.content);
				pre.appendChild(code);
				top().appendChild(pre);
				break;
			}
			case 'image': {
				// Not loaded: a remote image would be a request the reply makes on the user's behalf.
				const alt = t.children?.map(c => c.content).join('') || t.content;
				const span = document.createElement('span');
				span.className = 'md-image';
				span.textContent = alt ? `[image: ${showHidden(alt)}]` : '[image]';
				top().appendChild(span);
				break;
			}
			case 'link_open': {
				const a = document.createElement('a');
				const href = t.attrGet('href') ?? '';
				a.title = showHidden(href);
				a.setAttribute('role', 'link');
				a.tabIndex = 0;
				a.addEventListener('click', e => {
					e.preventDefault();
					if (href) options.openLink(href);
				});
				top().appendChild(a);
				stack.push(a);
				break;
			}
			case 'link_close':
				if (stack.length > 1) stack.pop();
				break;
			case 'html_block':
			case 'html_inline':
				// Not produced with `html: false`; if it ever were, it is still only text.
				top().appendChild(document.createTextNode(showHidden(t.content)));
				break;
			default: {
				// Tight lists mark their paragraphs hidden: the items hold the text directly.
				if (t.hidden) break;
				const tag = ALLOWED.has(t.tag) ? t.tag : t.block ? 'div' : 'span';
				if (t.nesting === 1) {
					const node = document.createElement(tag);
					top().appendChild(node);
					stack.push(node);
				} else if (t.nesting === -1) {
					if (stack.length > 1) stack.pop();
				} else if (t.tag === 'hr' || t.tag === 'br') {
					top().appendChild(document.createElement(t.tag));
				}
			}
		}
	}
}

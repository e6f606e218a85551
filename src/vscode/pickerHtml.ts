/**
 * The picker webview's HTML. Pure (no `vscode` import) so its Content Security Policy is unit-tested.
 *
 * The page is a shell: the nonce'd bundle builds everything and asks for state with `ready`. The
 * panel's first snapshot may be written into it as a JSON data block (never executed, so the CSP needs
 * no 'unsafe-inline'), which the bundle reads with `textContent` and draws at once; a reloaded page
 * asks with `ready` instead. There is no connect-src: the webview never talks to a model server.
 *
 * Before the bundle has built the page, the HTML itself can show a static first paint (see
 * `pickerPlaceholder`), plain markup styled by the same stylesheet, so nothing inline is needed.
 * VS Code keeps a webview's frame hidden until its load event or 200 ms after writing the page into
 * it, whichever is first; when the bundle takes longer than that (the window's first picker, a
 * loaded machine), this is what a person sees instead of an empty panel.
 */
import { PAGE_STATE_ID, type PickerState } from '../core/protocol';

export interface PickerHtmlOptions {
	/** `webview.cspSource`. */
	readonly cspSource: string;
	/** Fresh per page load, from `crypto.randomBytes`. */
	readonly nonce: string;
	/** `webview.asWebviewUri(...)` of dist/picker.js and media/picker.css, as strings. */
	readonly scriptUri: string;
	readonly styleUri: string;
	readonly title?: string;
	/** The first snapshot, written into the page as JSON (see `jsonForScriptBlock`). */
	readonly state?: unknown;
	/** What the page shows before its script has built it (see `pickerPlaceholder`). */
	readonly placeholder?: PickerPlaceholder;
}

/**
 * The static first paint: the run's heading, what it is doing, and a row per candidate to come, as
 * plain markup the script replaces when it builds the page. It holds no model output. It describes
 * the page's first snapshot: a page VS Code reloads later (same HTML) shows it until the script
 * builds the page from its own saved state.
 */
export interface PickerPlaceholder {
	/** The header's line (the instruction, or what is explained): the person's own words, escaped. */
	readonly heading: string;
	/** What the run is doing, e.g. "Generating 4 candidates…". */
	readonly status: string;
	/** How many empty rows to draw. */
	readonly rows: number;
}

/** Rows drawn at most: enough to fill a pane, not one per candidate of a huge N. */
const MAX_PLACEHOLDER_ROWS = 12;

export function pickerPlaceholder(state: PickerState): PickerPlaceholder {
	const n = state.requested;
	return {
		heading: state.task.title,
		status: state.phase === 'generating' ? `Generating ${n} candidate${n === 1 ? '' : 's'}…` : 'Loading…',
		rows: n,
	};
}

function placeholderHtml(p: PickerPlaceholder): string {
	const rows = Math.max(0, Math.min(MAX_PLACEHOLDER_ROWS, Math.floor(p.rows) || 0));
	// A status that says it is busy; the empty rows are hidden from assistive technology. The script's
	// page, with its own live regions, replaces all of it.
	return `<div class="boot" role="status" aria-busy="true">
<div class="boot-header"><p class="boot-heading">${escapeHtml(p.heading)}</p><p class="boot-status">${escapeHtml(p.status)}</p></div>
<div class="boot-rows" aria-hidden="true">${'<div class="boot-row"></div>'.repeat(rows)}</div>
</div>`;
}

function escapeHtml(value: string): string {
	return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * JSON that stays inert inside a `<script type="application/json">` block: `<`, `>` and `&` (so no
 * `</script>`, `<!--` or `<script` in model text can end the block or change how it is parsed) and
 * U+2028/U+2029 are written as \u escapes, which JSON.parse turns back into the same characters.
 */
export function jsonForScriptBlock(value: unknown): string {
	return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function pickerCsp(cspSource: string, nonce: string): string {
	return [
		`default-src 'none'`,
		`style-src ${cspSource}`,
		`script-src 'nonce-${nonce}'`,
		`img-src ${cspSource}`,
		`font-src ${cspSource}`,
	].join('; ');
}

export function buildPickerHtml(o: PickerHtmlOptions): string {
	// A nonce is base64; a cspSource is source expressions separated by spaces (code-server gives "'self' https://*.vscode-cdn.net"): anything else would let markup into the policy.
	if (!/^[A-Za-z0-9+/=_-]+$/.test(o.nonce)) throw new Error('picker: invalid CSP nonce');
	if (/[;"<>\r\n]/.test(o.cspSource)) throw new Error(`picker: invalid CSP source ${JSON.stringify(o.cspSource)}`);
	const csp = pickerCsp(o.cspSource, o.nonce);
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title ?? 'Best-of-N')}</title>
</head>
<body>
<div id="app">${o.placeholder ? placeholderHtml(o.placeholder) : ''}</div>
${o.state === undefined ? '' : `<script type="application/json" id="${PAGE_STATE_ID}">${jsonForScriptBlock(o.state)}</script>\n`}<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}

/**
 * Messages between the ranking report webview and the extension host; both sides import this file.
 * As with the picker, the webview speaks first (`ready`) and the host answers with the whole report,
 * so a reloaded page redraws from one message. What the webview sends is validated here.
 */
import type { RankingReport } from './agreement';

/** Sent by the host. */
export type HostToReport = { readonly type: 'report'; readonly report: RankingReport };

/** Sent by the webview: it loaded, or a button asked for one of the preference commands. */
export type ReportToHost =
	{ readonly type: 'ready' } | { readonly type: 'export' } | { readonly type: 'evaluate' } | { readonly type: 'openSettings' };

export function parseReportMessage(value: unknown): ReportToHost | undefined {
	if (typeof value !== 'object' || value === null) return undefined;
	const type = (value as Record<string, unknown>).type;
	switch (type) {
		case 'ready':
		case 'export':
		case 'evaluate':
		case 'openSettings':
			return { type };
		default:
			return undefined;
	}
}

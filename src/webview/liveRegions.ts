/**
 * The page's two live regions: the visible hint (why a key did nothing) and the screen-reader-only
 * announcer (which candidate is active, "Ranking complete"). Both are cleared first and set a moment
 * later, so the same words said twice are still spoken twice.
 */
import { el } from './dom';

export interface LiveRegions {
	readonly hint: HTMLElement;
	readonly announcer: HTMLElement;
	announce(text: string): void;
	/** Shown for four seconds. */
	showHint(text: string): void;
}

export function createLiveRegions(): LiveRegions {
	const hint = el('div', 'hint', { role: 'status', 'aria-live': 'polite' });
	const announcer = el('div', 'sr-only', { 'aria-live': 'polite' });
	let announceTimer: ReturnType<typeof setTimeout> | undefined;
	let hintTimer: ReturnType<typeof setTimeout> | undefined;
	return {
		hint,
		announcer,
		announce(text) {
			announcer.textContent = '';
			clearTimeout(announceTimer);
			announceTimer = setTimeout(() => (announcer.textContent = text), 50);
		},
		showHint(text) {
			hint.textContent = '';
			clearTimeout(hintTimer);
			hintTimer = setTimeout(() => {
				hint.textContent = text;
				hintTimer = setTimeout(() => (hint.textContent = ''), 4000);
			}, 50);
		},
	};
}

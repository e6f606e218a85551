/**
 * The picker's key map: which key does what, without a DOM, so it is tested in node. `picker.ts`
 * runs the action and prevents the key's default only when there is one.
 *
 * Only Enter applies a candidate. Every other key moves or shows, so a person who goes on typing
 * after the picker took focus ("use ES2015 syntax5") cannot replace their selection by accident.
 */
import type { Move } from './view';

export type KeyAction =
	| { readonly kind: 'move'; readonly move: Move }
	/** Scroll the detail pane by most of its height, down (1) or up (−1). */
	| { readonly kind: 'page'; readonly direction: 1 | -1 }
	/** Make the candidate in this row (0-based) active. Never applies: a stray digit must not edit the file. */
	| { readonly kind: 'moveTo'; readonly index: number }
	| { readonly kind: 'accept' | 'escape' | 'toggleView' | 'toggleWrap' | 'openDiff' | 'copy' | 'regenerate' };

/** The parts of a `KeyboardEvent` the map reads. */
export type KeyPress = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'isComposing' | 'defaultPrevented'>;

// A Map, not an object literal, so no key name can hit a prototype property.
const keys = new Map<string, KeyAction>([
	['ArrowDown', { kind: 'move', move: 'next' }],
	['j', { kind: 'move', move: 'next' }],
	['ArrowUp', { kind: 'move', move: 'previous' }],
	['k', { kind: 'move', move: 'previous' }],
	['Home', { kind: 'move', move: 'first' }],
	['End', { kind: 'move', move: 'last' }],
	['PageDown', { kind: 'page', direction: 1 }],
	['PageUp', { kind: 'page', direction: -1 }],
	['Enter', { kind: 'accept' }],
	['Escape', { kind: 'escape' }],
	['v', { kind: 'toggleView' }],
	['w', { kind: 'toggleWrap' }],
	['d', { kind: 'openDiff' }],
	['c', { kind: 'copy' }],
	['r', { kind: 'regenerate' }],
]);

/**
 * What a key press does, or `undefined` to leave it to the browser. Chords belong to VS Code and
 * IME composition to the input method, so both pass through.
 */
export function keyAction(e: KeyPress, onButton: boolean): KeyAction | undefined {
	if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return undefined;
	// A focused button keeps its own Enter and Space.
	if (onButton && (e.key === 'Enter' || e.key === ' ')) return undefined;
	// Letters work with Shift or Caps Lock too: the legend shows them as capitals.
	const action = keys.get(e.key.length === 1 ? e.key.toLowerCase() : e.key);
	if (action) return action;
	if (e.key.length === 1 && e.key >= '1' && e.key <= '9') return { kind: 'moveTo', index: Number(e.key) - 1 };
	return undefined;
}

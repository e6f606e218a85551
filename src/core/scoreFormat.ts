/**
 * How a score reads, the same in the picker and in the CLI's text output: two decimals, reward
 * logits always signed ("+1.23", "−0.42", with a real minus so columns line up), consensus
 * similarities in 0–1 bare ("0.87"). Pure (one type import), so the webview bundle can take it too.
 */
import type { RankerKind } from './protocol';

export function formatScore(score: number | undefined, kind: RankerKind, digits = 2): string {
	if (score === undefined || !Number.isFinite(score)) return '';
	const fixed = Math.abs(score).toFixed(digits);
	if (kind !== 'reward') return score < 0 ? `\u2212${fixed}` : fixed;
	if (Number(fixed) === 0) return fixed;
	return (score > 0 ? '+' : '\u2212') + fixed;
}

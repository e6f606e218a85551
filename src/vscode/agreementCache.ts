/**
 * The running top-1 agreement per ranker, for the picker's header: computed from the preference log
 * when it changes, looked up synchronously with each snapshot. Below `MIN_RUNS` picks a rate says
 * little, so the header shows nothing until then.
 */
import { topOneAgreement, type RankerAgreement } from '../core/agreement';
import { errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import type { PickerState, RankerAgreementView } from '../core/protocol';
import { Disposable } from './dispose';
import type { PreferenceStore } from './preferenceStore';

export const MIN_RUNS = 10;

export class AgreementCache extends Disposable {
	private byRanker = new Map<string, RankerAgreement>();
	private loaded?: Promise<void>;

	constructor(
		private readonly store: PreferenceStore,
		private readonly logger: Logger,
	) {
		super();
		this._register(store.onDidChange(() => void this.reload()));
	}

	/** Starts reading the log (once); the header shows agreement from the next snapshot on. */
	warm(): void {
		this.loaded ??= this.reload();
	}

	/** The agreement of the ranker that ranks `state`, when it has ranked at least `MIN_RUNS` recorded picks. */
	for(state: PickerState): RankerAgreementView | undefined {
		this.warm();
		if (state.ranker.kind === 'none') return undefined;
		const found = this.byRanker.get(state.ranker.kind === 'reward' ? state.ranker.label : 'consensus');
		return found && found.n >= MIN_RUNS ? { agreed: found.k, runs: found.n, ci95: found.ci95 } : undefined;
	}

	private async reload(): Promise<void> {
		try {
			const { records } = await this.store.read();
			this.byRanker = new Map(topOneAgreement(records).map(a => [a.ranker, a]));
		} catch (e) {
			this.logger.warn(`preference log unreadable for the picker's agreement: ${errorMessage(e)}`);
		}
	}
}

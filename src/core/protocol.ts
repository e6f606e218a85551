/**
 * Messages between the picker webview and the extension host. Both sides import this file.
 *
 * The webview speaks first (`ready`); the host then sends whole `PickerState` snapshots, so a
 * reloaded webview redraws from a single message and never has to replay history.
 * Everything the webview sends is untrusted input: the host runs it through `parseWebviewMessage`.
 */

export type CandidateStatus = 'queued' | 'streaming' | 'done' | 'failed' | 'cancelled';

export interface CandidateView {
	/** Stable for the run (the index of its request); used in every message about it. */
	readonly id: number;
	readonly status: CandidateStatus;
	/** The text so far (the final text once `done`), as the run's task cleaned it. */
	readonly text: string;
	/** Failure in one sentence (status `failed`). */
	readonly error?: string;
	/** Ranker score; absent until computed. Reward: raw logit. Consensus: mean similarity 0–1. */
	readonly score?: number;
	/** Why there is no score, if scoring failed. */
	readonly scoreError?: string;
	/** 1 = best; absent until the candidate is ranked. */
	readonly rank?: number;
	/** How many generated candidates had exactly this text (1 = unique). */
	readonly count: number;
	readonly tokens?: number;
	/** Wall time from the request's start to its last token. */
	readonly durationMs?: number;
	/** The server's own generation time, when it says (`GenerationResult.evalMs`). */
	readonly evalMs?: number;
	/** `length` when it hit the token limit (the text is likely cut short). */
	readonly doneReason?: string;
	/** The sampling seed it was generated with (kept in the preference log). */
	readonly seed?: number;
	/**
	 * Completed, and its score waits until generation ends: the run measured that scoring slows the model
	 * server (it shares this CPU), so the picker says it is waiting rather than leaving it looking stuck.
	 */
	readonly scoreHeld?: boolean;
}

export type RunPhase = 'generating' | 'scoring' | 'done' | 'cancelled' | 'failed';

export type RankerKind = 'reward' | 'consensus' | 'none';

export interface RankerView {
	readonly kind: RankerKind;
	/** Short name for the header: the reward model id, or "consensus". */
	readonly label: string;
	/** Why this ranker: "reward model loaded", "no reward model configured", "reward model failed: …". */
	readonly reason: string;
	/** Reward model load/download progress while it is loading. */
	readonly loading?: string;
}

export type TaskKind = 'rewrite' | 'explain';

/** Which task a picker shows and what it may do with a candidate. */
export interface TaskView {
	readonly kind: TaskKind;
	/** The header's line: the instruction, or what is explained ("Explain app.ts:12–20"). */
	readonly title: string;
	/** Whether a candidate can be compared with the selection (text/diff toggle, diff editor). */
	readonly diffable: boolean;
	/** The accept button's word, and its tooltip. */
	readonly acceptLabel: string;
	readonly acceptHint: string;
	/** How the detail pane shows a candidate: as code (plain text) or as rendered Markdown. */
	readonly detail: 'code' | 'markdown';
}

export interface RankerAgreementView {
	/** Picks where the ranker's #1 was chosen, of `runs` recorded runs it ranked. */
	readonly agreed: number;
	readonly runs: number;
	/** 95% interval of the rate, 0–1. */
	readonly ci95: readonly [number, number];
}

export interface PickerState {
	/** Counts the runs of one window: which picker, diff and documents belong together. */
	readonly runId: number;
	/**
	 * Unique to this run, in every window and after a restart: the preference log keeps one record per
	 * run key, so choosing again from the same run (Show Other Candidates) replaces the earlier pick.
	 */
	readonly runKey: string;
	readonly phase: RunPhase;
	readonly task: TaskView;
	/** The selected text the candidates are about. */
	readonly original: string;
	readonly languageId: string;
	readonly model: string;
	readonly host: string;
	readonly requested: number;
	readonly ranker: RankerView;
	/** Best first once ranked; in request order before that. Duplicates are collapsed into one. */
	readonly candidates: readonly CandidateView[];
	/** When the run started (epoch ms), so the webview can tick the elapsed time itself. */
	readonly startedAt: number;
	/** Set once the run has ended. */
	readonly elapsedMs?: number;
	/** How often this ranker's #1 was the person's pick in the preference log, once there are enough picks. */
	readonly agreement?: RankerAgreementView;
	/** A run-level message (all candidates failed, document changed, …). */
	readonly notice?: Notice;
	/** Set when the built-in model (no server) generates this run. */
	readonly builtin?: BuiltinModelView;
}

/** What the picker says about the built-in model while it is the backend. */
export interface BuiltinModelView {
	/** Tokens per second of its last generation on this machine (this run's once it finished); undefined until measured. */
	readonly tokensPerSecond?: number;
}

/** What fixes a notice, offered as a button beside it: `setupReward` opens the reward model picker. */
export type NoticeAction = 'setupReward';

export interface Notice {
	readonly severity: 'info' | 'warning' | 'error';
	readonly text: string;
	readonly action?: NoticeAction;
}

/** Sent by the host. */
export type HostToWebview = { readonly type: 'state'; readonly state: PickerState };

/**
 * The id of the `<script type="application/json">` block in which the host writes the panel's first
 * snapshot into its page, so the page draws it without waiting for the round trip of `ready`.
 */
export const PAGE_STATE_ID = 'bestofn-state';

/** Sent by the webview. */
export type WebviewToHost =
	/** The page loaded; `drewPageState`: it drew the snapshot written into its HTML (the panel's first page). */
	| { readonly type: 'ready'; readonly drewPageState?: true }
	| { readonly type: 'accept'; readonly id: number }
	| { readonly type: 'openDiff'; readonly id: number }
	| { readonly type: 'copy'; readonly id: number }
	| { readonly type: 'cancel' }
	| { readonly type: 'regenerate' }
	| { readonly type: 'close' }
	| { readonly type: 'showLog' }
	/** A link in a rendered explanation was clicked; the host opens only web and mail links. */
	| { readonly type: 'openLink'; readonly href: string }
	/** The notice's "Set Up Reward Model…" button. */
	| { readonly type: 'setupReward' };

/** Schemes a clicked link may have; anything else (command:, file:, javascript:) is refused. */
export const OPENABLE_SCHEMES: readonly string[] = ['http:', 'https:', 'mailto:'];

/** The link as an absolute URL with an openable scheme, or undefined. */
export function openableLink(href: string): string | undefined {
	if (href.length > 2048) return undefined;
	let url: URL;
	try {
		url = new URL(href);
	} catch {
		return undefined;
	}
	return OPENABLE_SCHEMES.includes(url.protocol) ? url.href : undefined;
}

/** Validates a message from the webview; anything malformed yields undefined and is ignored. */
export function parseWebviewMessage(value: unknown): WebviewToHost | undefined {
	if (typeof value !== 'object' || value === null) return undefined;
	const m = value as Record<string, unknown>;
	const type = m.type;
	switch (type) {
		case 'ready':
			return m.drewPageState === true ? { type, drewPageState: true } : { type };
		case 'cancel':
		case 'regenerate':
		case 'close':
		case 'showLog':
		case 'setupReward':
			return { type };
		case 'accept':
		case 'openDiff':
		case 'copy': {
			const id = m.id;
			if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id > 1000) return undefined;
			return { type, id };
		}
		case 'openLink': {
			const href = typeof m.href === 'string' ? openableLink(m.href) : undefined;
			return href ? { type, href } : undefined;
		}
		default:
			return undefined;
	}
}

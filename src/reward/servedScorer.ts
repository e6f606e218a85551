/**
 * A reward model served by vLLM in its pooling runner (`vllm serve MODEL --runner pooling`), for
 * reward models that transformers.js cannot run (Skywork-Reward-V2, Qwen3- and Llama-based ones).
 * `bestOfN.rewardModel` is then the server's root URL.
 *
 * Wire format (vLLM's vllm/entrypoints/pooling/pooling/protocol.py and examples/pooling/pooling/
 * pooling_online.py): the model id is `data[0].id` of `GET /v1/models`; `POST /pooling` with
 * `{model, messages}` applies the model's own chat template to the conversation and answers
 * `{data: [{index, object: "pooling", data}]}` where `data` is `list[float]` (one value per label:
 * a sequence reward model has one) or `list[list[float]]` (one row per token, for a model pooled
 * with `ALL`: the last token's row holds the sequence's reward). A bare number is taken as is.
 *
 * Each pair is its own request and pairs go out concurrently: the server batches them.
 */
import { BestOfNError, cancelledError } from '../core/errors';
import { nullLogger, type Logger } from '../core/logger';
import type { LoadProgress, RewardModelInfo, RewardPair, RewardScorer } from '../core/reward';
import { redactKey, transportError, type ServerContext } from '../core/httpErrors';
import { IdleTimer } from '../core/idleTimeout';

export interface ServedRewardScorerOptions {
	/** The server's root as configured (`http://gpu-box:8001`); a trailing `/v1` is tolerated. */
	readonly url: string;
	readonly apiKey?: () => Promise<string | undefined>;
	readonly logger?: Logger;
	/** A request fails when nothing arrives for this long (`requestIdleSeconds`); 0 or absent: no limit of ours. */
	readonly idleMs?: number;
}

/** Whether a `bestOfN.rewardModel` value names a served reward model rather than a folder or Hub id. */
export function isRewardServer(value: string): boolean {
	return /^https?:\/\//i.test(value.trim());
}

export class ServedRewardScorer implements RewardScorer {
	/** Pairs may be scored side by side: the run sends them as candidates finish. */
	readonly concurrent = true;
	private readonly root: string;
	private readonly logger: Logger;
	private loading?: Promise<RewardModelInfo>;
	/** The idle timeout of each request; the extension updates it from the settings before each run. */
	idleMs: number;

	constructor(private readonly options: ServedRewardScorerOptions) {
		this.root = options.url.trim().replace(/\/+$/, '').replace(/\/v1$/, '');
		this.logger = options.logger ?? nullLogger;
		this.idleMs = options.idleMs ?? 0;
	}

	load(signal: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<RewardModelInfo> {
		if (signal.aborted) return Promise.reject(cancelledError());
		if (!this.loading) {
			onProgress?.({ file: this.options.url, status: 'initiate' });
			const loading = this.readModel(signal);
			this.loading = loading;
			// A failed or cancelled look-up is tried again by the next call (the server may be up by then).
			loading.catch(() => {
				if (this.loading === loading) this.loading = undefined;
			});
		}
		return this.loading.then(info => {
			onProgress?.({ file: info.id, status: 'ready' });
			return info;
		});
	}

	async score(pairs: readonly RewardPair[], signal: AbortSignal): Promise<number[]> {
		const { id } = await this.load(signal);
		const key = await this.key();
		return Promise.all(pairs.map(pair => this.scoreOne(id, pair, key, signal)));
	}

	private async readModel(signal: AbortSignal): Promise<RewardModelInfo> {
		const key = await this.key();
		const body = await this.request('/v1/models', { method: 'GET' }, key, signal, 'the model list arrived');
		const models = (body as { data?: Array<{ id?: unknown; max_model_len?: unknown }> }).data;
		const first = Array.isArray(models) ? models.find(m => typeof m.id === 'string') : undefined;
		if (!first) {
			throw new BestOfNError('reward-failed', `The reward model server at ${this.options.url} lists no model in /v1/models.`, {
				setting: 'rewardModel',
			});
		}
		const info: RewardModelInfo = {
			id: first.id as string,
			maxLength: typeof first.max_model_len === 'number' ? first.max_model_len : 0,
			source: 'server',
		};
		this.logger.info(`reward model ${info.id} served at ${this.root}`);
		return info;
	}

	private async scoreOne(model: string, pair: RewardPair, key: string | undefined, signal: AbortSignal): Promise<number> {
		const body = await this.request(
			'/pooling',
			{
				method: 'POST',
				body: JSON.stringify({
					model,
					messages: [
						{ role: 'user', content: pair.prompt },
						{ role: 'assistant', content: pair.response },
					],
					// The raw reward (a logit), as the local reward models show it: vLLM's classify pooler
					// otherwise applies its activation (a sigmoid for one label), which flattens large rewards
					// into ties at 1.0. A server that does not know the field ignores it.
					use_activation: false,
				}),
			},
			key,
			signal,
			'the score arrived',
		);
		const score = scoreOf((body as { data?: Array<{ data?: unknown }> }).data?.[0]?.data);
		if (score === undefined) {
			throw new BestOfNError(
				'reward-failed',
				`The reward model server at ${this.options.url} answered /pooling without a score in data[0].data; is ${model} a reward model?`,
				{ setting: 'rewardModel' },
			);
		}
		return score;
	}

	private async request(
		path: string,
		init: RequestInit,
		key: string | undefined,
		signal: AbortSignal,
		unfinished: string,
	): Promise<unknown> {
		if (signal.aborted) throw cancelledError();
		const headers: Record<string, string> = { Accept: 'application/json' };
		if (init.body !== undefined) headers['Content-Type'] = 'application/json';
		if (key) headers.Authorization = `Bearer ${key}`;
		const url = this.options.url;
		const ctx: ServerContext = {
			host: url,
			server: 'the reward model server',
			hostSetting: 'rewardModel',
			startHint: 'Start it (`vllm serve MODEL --runner pooling`), or set {rewardModel} to a server that runs, a folder or a Hub id.',
			queueHint: 'it may be overloaded.',
			signal,
			unfinished,
		};
		let response: Response;
		let text: string;
		const idle = new IdleTimer(this.idleMs, signal);
		try {
			response = await fetch(`${this.root}${path}`, { ...init, headers, signal: idle.signal });
			text = await readText(response, () => idle.touch());
		} catch (e) {
			const error =
				transportError(idle.fired && !signal.aborted ? idle.error : e, ctx) ??
				new BestOfNError('reward-failed', `The reward model server at ${url} failed: ${String(e)}`);
			// Nothing there is "not found" (the next run looks again); anything else failed.
			if (error.kind === 'unreachable')
				throw new BestOfNError('reward-not-found', error.template, { setting: 'rewardModel', cause: e });
			if (error.kind === 'cancelled') throw error;
			throw new BestOfNError('reward-failed', error.template, { setting: error.setting, cause: e });
		} finally {
			idle.stop();
		}
		let body: unknown;
		try {
			body = JSON.parse(text);
		} catch {
			body = undefined;
		}
		if (response.ok && body !== undefined) return body;
		const words = wordsOf(body, key);
		if (response.status === 401 || response.status === 403) {
			throw new BestOfNError(
				'reward-failed',
				`The reward model server at ${url} refused the request (HTTP ${response.status}${words ? `: ${words}` : ''}); it needs ${key ? 'another' : 'an'} API key (Best-of-N: Set API Key…, or OPENAI_API_KEY for the CLI).`,
				{ setting: 'rewardModel' },
			);
		}
		if (path === '/pooling' && response.status === 404) {
			throw new BestOfNError(
				'reward-failed',
				`The server at ${url} has no pooling API (HTTP 404${words ? `: ${words}` : ''}): serve the reward model with \`vllm serve MODEL --runner pooling\`, or set {rewardModel} to such a server.`,
				{ setting: 'rewardModel' },
			);
		}
		if (body === undefined) {
			const type = response.headers.get('content-type')?.split(';')[0] || 'no content type';
			throw new BestOfNError(
				'reward-not-found',
				`${url} answered HTTP ${response.status} with ${type}, which is not a vLLM server; set {rewardModel} to the root URL of the server running the reward model.`,
				{ setting: 'rewardModel' },
			);
		}
		throw new BestOfNError(
			'reward-failed',
			`The reward model server at ${url} answered HTTP ${response.status}${words ? `: ${words}` : ''}.`,
			{
				setting: 'rewardModel',
			},
		);
	}

	private async key(): Promise<string | undefined> {
		return (await this.options.apiKey?.())?.trim() || undefined;
	}
}

/** The body as text, calling `onData` as each piece arrives (the idle timeout's sign of life). */
async function readText(response: Response, onData: () => void): Promise<string> {
	onData();
	if (!response.body) return '';
	const decoder = new TextDecoder();
	let text = '';
	const reader = (response.body as ReadableStream<Uint8Array>).getReader();
	for (;;) {
		const { value, done } = await reader.read();
		if (done) return text + decoder.decode();
		onData();
		text += decoder.decode(value, { stream: true });
	}
}

/** `data[i].data` as a score: a number; the first value of a list; of rows (one per token), the last row's first. */
export function scoreOf(data: unknown): number | undefined {
	if (typeof data === 'number' && Number.isFinite(data)) return data;
	if (!Array.isArray(data) || data.length === 0) return undefined;
	if (Array.isArray(data[0])) return scoreOf(data[data.length - 1]);
	return scoreOf(data[0]);
}

function wordsOf(body: unknown, key: string | undefined): string {
	if (typeof body !== 'object' || body === null) return '';
	const b = body as Record<string, unknown>;
	const inner = b.error;
	const words =
		typeof inner === 'string'
			? inner
			: typeof inner === 'object' && inner !== null && typeof (inner as { message?: unknown }).message === 'string'
				? (inner as { message: string }).message
				: typeof b.message === 'string'
					? b.message
					: typeof b.detail === 'string'
						? b.detail
						: '';
	return redactKey(words, key).trim();
}

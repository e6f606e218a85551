/**
 * The model server of the benchmarks, in a process of its own (as a real Ollama would be, so the
 * extension's work never slows the server's clock and the other way round): the loopback Ollama of
 * the tests, pacing one word per `tokenDelayMs` per open stream, `parallel` streams at once; and
 * beside it, configured alike, the tests' loopback OpenAI-compatible server as vLLM runs one (one
 * request with `n` choices, each choice a stream in one of `parallel` slots), where each choice
 * counts as one request of Ollama's. It tells
 * the parent, over the IPC channel, when each request arrived, when its first token and its last
 * line went out, on the shared wall clock (`epochMs`). With `hold`, every stream's first token waits
 * for the parent's `release` (a server still evaluating the prompt), so the parent can be watching.
 * With `cpu`, tokens cost CPU time instead (a CPU-only server sharing the extension's cores).
 */
import { FakeOllama, type FakeRequest } from '../test/fixtures/fakeOllama';
import { FakeVllm } from '../test/fixtures/fakeVllm';
import { CpuDecoder, type DecoderOptions } from './cpuDecoder';
import { candidateText } from './text';

export interface ServerConfig {
	readonly parallel: number;
	readonly tokenDelayMs: number;
	/** Words per candidate. */
	readonly words: number;
	/** Hold each stream's first token until `release`. */
	readonly hold?: boolean;
	/**
	 * Decode on the CPU (bench/cpuDecoder.ts), like a CPU-only Ollama on this machine: each token costs
	 * computation instead of `tokenDelayMs` of waiting, so work on the same cores slows the server.
	 * The Ollama only (figure 1b).
	 */
	readonly cpu?: DecoderOptions;
}

export type ServerMessage =
	/** `url`: the Ollama; `openaiBaseUrl`: the OpenAI-compatible server's base URL (`…/v1`). */
	| { readonly type: 'ready'; readonly url: string; readonly openaiBaseUrl: string }
	| {
			/** One Ollama request, or one choice of an OpenAI-compatible request. */
			readonly type: 'finished';
			readonly id: number;
			readonly seed: number | undefined;
			readonly receivedAt: number;
			readonly firstTokenAt: number;
			readonly finishedAt: number;
	  }
	| { readonly type: 'configured' };

export type ParentMessage =
	{ readonly type: 'configure'; readonly config: ServerConfig } | { readonly type: 'release' } | { readonly type: 'stop' };

/**
 * Wall-clock milliseconds, comparable across processes and with the browser's Date.now(). Not
 * `performance.timeOrigin + performance.now()`: that follows the monotonic clock from the process's
 * start, and on this VM the wall clock moved 10 s away from it during one bench run, which put every
 * figure 3 sample 10 s off. Whole milliseconds, as the browser's.
 */
export function epochMs(): number {
	return Date.now();
}

if (require.main === module) {
	const send = (m: ServerMessage) => process.send?.(m);
	let words = 200;
	const arrived = new Map<number, number>();
	const firstToken = new Map<number, number>();
	let held: { promise: Promise<void>; release: () => void } | undefined;
	let decoder: CpuDecoder | undefined;
	const release = () => {
		held?.release();
		held = undefined;
	};
	const server = new FakeOllama({
		models: ['bench:latest'],
		chunkSize: 'word',
		respond: (request: FakeRequest) => {
			arrived.set(request.id, epochMs());
			decoder?.open();
			return candidateText(request.seed ?? 0, words);
		},
		beforeChunk: async (request, index) => {
			if (index === 0 && held) await held.promise;
			if (decoder) await decoder.next();
			if (index === 0) firstToken.set(request.id, epochMs());
		},
		onFinished: request => {
			decoder?.close();
			send({
				type: 'finished',
				id: request.id,
				seed: request.seed,
				receivedAt: arrived.get(request.id) ?? request.receivedAt,
				firstTokenAt: firstToken.get(request.id) ?? Number.NaN,
				finishedAt: epochMs(),
			});
		},
	});
	// Choice i of a request gets the text of seed + i, as Ollama's i-th request of a run (seed + i) does.
	const choiceKey = (request: { id: number }, index: number) => -(request.id * 1000 + index);
	const vllm = new FakeVllm({
		models: ['bench'],
		respond: (request, index) => {
			if (!arrived.has(choiceKey(request, 0))) arrived.set(choiceKey(request, 0), epochMs());
			return candidateText((request.body.seed ?? 0) + index, words);
		},
		beforeToken: async (request, index, token) => {
			if (token !== 0) return;
			if (held) await held.promise;
			firstToken.set(choiceKey(request, index), epochMs());
		},
		onChoiceFinished: (request, index) =>
			send({
				type: 'finished',
				id: choiceKey(request, index),
				seed: request.body.seed === undefined ? undefined : request.body.seed + index,
				receivedAt: arrived.get(choiceKey(request, 0)) ?? Number.NaN,
				firstTokenAt: firstToken.get(choiceKey(request, index)) ?? Number.NaN,
				finishedAt: epochMs(),
			}),
	});
	process.on('message', (m: ParentMessage) => {
		if (m.type === 'configure') {
			server.parallel = m.config.parallel;
			vllm.parallel = m.config.parallel;
			vllm.tokenDelayMs = m.config.tokenDelayMs;
			const cpu = m.config.cpu;
			server.tokenDelayMs = cpu ? 0 : m.config.tokenDelayMs;
			words = m.config.words;
			if (decoder && (!cpu || cpu.msPerToken !== decoder.options.msPerToken || cpu.threads !== decoder.options.threads)) {
				void decoder.stop();
				decoder = undefined;
			}
			if (cpu) decoder ??= new CpuDecoder(cpu);
			release();
			if (m.config.hold) {
				let open = () => {};
				held = { promise: new Promise<void>(resolve => (open = resolve)), release: () => open() };
			}
			send({ type: 'configured' });
		} else if (m.type === 'release') {
			release();
		} else {
			release();
			void Promise.all([server.close(), vllm.close(), decoder?.stop()]).then(() => process.exit(0));
		}
	});
	void Promise.all([server.start(), vllm.start()]).then(([{ url }]) => send({ type: 'ready', url, openaiBaseUrl: vllm.baseUrl }));
}

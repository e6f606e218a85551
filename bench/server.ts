/**
 * The model server of the benchmarks, in a process of its own (as a real Ollama would be, so the
 * extension's work never slows the server's clock and the other way round): the loopback Ollama of
 * the tests, pacing one word per `tokenDelayMs` per open stream, `parallel` streams at once. It tells
 * the parent, over the IPC channel, when each request arrived and when its last line went out, on the
 * shared wall clock (`epochMs`).
 */
import { FakeOllama, type FakeRequest } from '../test/fixtures/fakeOllama';
import { candidateText } from './text';

export interface ServerConfig {
	readonly parallel: number;
	readonly tokenDelayMs: number;
	/** Words per candidate. */
	readonly words: number;
}

export type ServerMessage =
	| { readonly type: 'ready'; readonly url: string }
	| { readonly type: 'finished'; readonly id: number; readonly receivedAt: number; readonly finishedAt: number }
	| { readonly type: 'configured' };

export type ParentMessage = { readonly type: 'configure'; readonly config: ServerConfig } | { readonly type: 'stop' };

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function epochMs(): number {
	return performance.timeOrigin + performance.now();
}

if (require.main === module) {
	const send = (m: ServerMessage) => process.send?.(m);
	let words = 200;
	const arrived = new Map<number, number>();
	const server = new FakeOllama({
		models: ['bench:latest'],
		chunkSize: 'word',
		respond: (request: FakeRequest) => {
			arrived.set(request.id, epochMs());
			return candidateText(request.seed ?? 0, words);
		},
		onFinished: request =>
			send({ type: 'finished', id: request.id, receivedAt: arrived.get(request.id) ?? request.receivedAt, finishedAt: epochMs() }),
	});
	process.on('message', (m: ParentMessage) => {
		if (m.type === 'configure') {
			server.parallel = m.config.parallel;
			server.tokenDelayMs = m.config.tokenDelayMs;
			words = m.config.words;
			send({ type: 'configured' });
		} else {
			void server.close().then(() => process.exit(0));
		}
	});
	void server.start().then(({ url }) => send({ type: 'ready', url }));
}

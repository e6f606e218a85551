/**
 * The raw floor's onnxruntime session in a process of its own, started the way the extension starts
 * its scorer (src/reward/scorerProcess.ts: a fresh Node whose main thread makes the session, glibc's
 * mmap threshold raised). So raw and ours place onnxruntime's weights alike, and raw no longer
 * depends on the heap the bench process has built up by then. Started by bench/raw.ts with the model
 * file as its argument; says `ready`, then answers each `time` with the milliseconds of
 * `session.run` alone (the tensors are built before the clock starts, as before).
 */
import * as Ort from 'onnxruntime-node';
import { scorerSessionOptions, type PairInput } from '../src/reward/scorer';

export type RawChildRequest = { readonly type: 'time'; readonly id: number; readonly inputs: readonly PairInput[] };
export type RawChildReply =
	| { readonly type: 'ready' }
	| { readonly type: 'timed'; readonly id: number; readonly ms: number }
	| { readonly type: 'failed'; readonly id?: number; readonly message: string };

const send = (reply: RawChildReply) => process.send?.(reply);
process.on('disconnect', () => process.exit(0));

/** The inputs right-padded into one batch, as the extension pads them; only what the graph takes. */
function feeds(session: Ort.InferenceSession, inputs: readonly PairInput[]): Record<string, Ort.Tensor> {
	const width = Math.max(...inputs.map(i => i.input_ids.length));
	const shape = [inputs.length, width];
	const fill = (row: (i: PairInput) => readonly number[]) => {
		const data = new BigInt64Array(inputs.length * width);
		inputs.forEach((input, r) => row(input).forEach((v, c) => (data[r * width + c] = BigInt(v))));
		return new Ort.Tensor('int64', data, shape);
	};
	const all: Record<string, () => Ort.Tensor> = {
		input_ids: () => fill(i => i.input_ids),
		attention_mask: () => fill(i => i.input_ids.map(() => 1)),
		token_type_ids: () => fill(i => i.token_type_ids ?? i.input_ids.map(() => 0)),
	};
	const out: Record<string, Ort.Tensor> = {};
	// A DeBERTa-v3 export has no token_type_ids, as the scorer knows.
	for (const name of session.inputNames) {
		const make = all[name];
		if (!make) throw new Error(`the model asks for an input "${name}", which a reward model does not have`);
		out[name] = make();
	}
	return out;
}

async function main(file: string): Promise<void> {
	// The scorer's own session options, so raw and ours run the same pass.
	const session = await Ort.InferenceSession.create(file, scorerSessionOptions(0));
	// One at a time: the parent awaits each answer before it asks again.
	process.on('message', (request: RawChildRequest) => {
		void (async () => {
			try {
				const input = feeds(session, request.inputs);
				const t0 = performance.now();
				await session.run(input);
				send({ type: 'timed', id: request.id, ms: performance.now() - t0 });
			} catch (e) {
				send({ type: 'failed', id: request.id, message: e instanceof Error ? e.message : String(e) });
			}
		})();
	});
	send({ type: 'ready' });
}

main(process.argv[2] ?? '').catch((e: unknown) => {
	send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
	process.exitCode = 1;
});

/**
 * What downloading the built-in model would cost, asked before anything is downloaded: the files
 * transformers.js will fetch for a Hub id and dtype, which of them the download cache already holds,
 * and the size of the rest (from the Hub's answer to a one-byte range request, as transformers.js
 * itself probes sizes). A front end states the size and downloads only after the person agrees.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BestOfNError, cancelledError, errorMessage } from '../core/errors';
import { hubEndpoint, locateModel } from '../core/modelFiles';
import type { BuiltinDtype } from '../core/settings';
import { BUILTIN_ONNX_FILE } from './builtinModel';

export interface DownloadPlan {
	readonly model: string;
	/** Files still to download, with their sizes in bytes. */
	readonly files: readonly { readonly file: string; readonly bytes: number }[];
	readonly bytes: number;
}

/** transformers.js's default Hub, when `HF_ENDPOINT` names no mirror. */
const HUB = 'https://huggingface.co/';

/** The files a load reads, required first; `_data` exists only for exports over protobuf's 2 GB. */
function filesFor(dtype: BuiltinDtype): { file: string; optional: boolean }[] {
	const onnx = `onnx/${BUILTIN_ONNX_FILE[dtype]}`;
	return [
		{ file: 'config.json', optional: false },
		{ file: 'tokenizer.json', optional: false },
		{ file: 'tokenizer_config.json', optional: false },
		{ file: 'generation_config.json', optional: true },
		{ file: onnx, optional: false },
		{ file: `${onnx}_data`, optional: true },
	];
}

/** Whether every file a load of this Hub model reads is in the download cache (a folder always is). */
export function builtinModelCached(model: string, dtype: BuiltinDtype, cacheDir: string): boolean {
	const where = locateModel(model);
	if (where.source === 'local') return true;
	return filesFor(dtype)
		.filter(f => !f.optional)
		.every(f => fs.existsSync(path.join(cacheDir, where.id, f.file)));
}

/**
 * Sizes the download of a Hub model. Rejects with `model-not-found` when the Hub has no such model or
 * no export for the dtype, `unreachable` when the Hub does not answer, `cancelled` on abort.
 */
export async function planBuiltinDownload(
	model: string,
	dtype: BuiltinDtype,
	cacheDir: string,
	signal?: AbortSignal,
): Promise<DownloadPlan> {
	const where = locateModel(model);
	if (where.source === 'local') return { model, files: [], bytes: 0 };
	const base = hubEndpoint() ?? HUB;
	const files: { file: string; bytes: number }[] = [];
	for (const { file, optional } of filesFor(dtype)) {
		if (fs.existsSync(path.join(cacheDir, where.id, file))) continue;
		const url = `${base}${where.id}/resolve/main/${file}`;
		let response: Response;
		try {
			response = await fetch(url, { headers: { Range: 'bytes=0-0' }, signal });
		} catch (e) {
			if (signal?.aborted) throw cancelledError();
			throw new BestOfNError('unreachable', `Could not reach ${base} to size the built-in model ${model}: ${errorMessage(e)}.`, {
				cause: e,
			});
		}
		await response.body?.cancel();
		if (response.status === 404 || response.status === 401) {
			if (optional) continue;
			const what = file.startsWith('onnx/') ? `no ONNX export for dtype ${dtype} (${file})` : `no ${file}`;
			throw new BestOfNError(
				'model-not-found',
				`The Hugging Face Hub has ${what} for the built-in model ${model}, or the model is private. Set {builtinModel} to a chat model with an ONNX export, or {builtinDtype} to one it has.`,
				{ setting: file.startsWith('onnx/') ? 'builtinDtype' : 'builtinModel' },
			);
		}
		if (!response.ok) throw new BestOfNError('server', `The Hugging Face Hub answered ${response.status} for ${file} of ${model}.`);
		files.push({ file, bytes: sizeOf(response) });
	}
	return { model, files, bytes: files.reduce((n, f) => n + f.bytes, 0) };
}

/** `Content-Range: bytes 0-0/TOTAL` for a 206; a server that ignores ranges sends the whole length. */
function sizeOf(response: Response): number {
	const range = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
	if (range) return Number(range[1]);
	const linked = Number(response.headers.get('x-linked-size'));
	if (Number.isFinite(linked) && linked > 0) return linked;
	const length = Number(response.headers.get('content-length'));
	return Number.isFinite(length) ? length : 0;
}

/** "639 MB", "1.3 GB": sizes as the Hub shows them (powers of 1000). */
export function formatBytes(bytes: number): string {
	if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
	if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
	if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
	return `${bytes} bytes`;
}

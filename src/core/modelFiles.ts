/**
 * Where a model transformers.js loads comes from (a folder or a Hub id, the Hub or its mirror), what a
 * model folder holds, and its download progress in the contract's terms. Shared by the reward scorer
 * and the built-in generator, which load their models the same way; no network and no threads here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorMessage } from './errors';
import type { LoadProgress } from './reward';

export type ModelLocation = { readonly source: 'local'; readonly dir: string } | { readonly source: 'hub'; readonly id: string };

/**
 * An absolute path, or one starting with `.` or `~`, is a folder (relative ones resolve against the
 * current directory, so hosts should pass absolute paths); anything else is a Hub id.
 */
export function locateModel(model: string): ModelLocation {
	if (model === '~' || model.startsWith('~/') || model.startsWith('~\\')) {
		return { source: 'local', dir: path.join(os.homedir(), model.slice(1)) };
	}
	if (path.isAbsolute(model) || model.startsWith('.')) return { source: 'local', dir: path.resolve(model) };
	return { source: 'hub', id: model };
}

/**
 * The Hub to download from: `HF_ENDPOINT` (huggingface_hub's variable, set by people behind a mirror)
 * when it is an http(s) URL, with the trailing slash transformers.js's `env.remoteHost` has; undefined
 * otherwise, leaving transformers.js's own default (https://huggingface.co/).
 */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
	const value = env.HF_ENDPOINT?.trim();
	if (!value) return undefined;
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		return undefined;
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
	url.search = '';
	url.hash = '';
	return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** What a load sets of transformers.js's global `env` (a worker's process or thread has its own). */
export interface TransformersEnv {
	cacheDir: string | null;
	allowRemoteModels: boolean;
	allowLocalModels: boolean;
	localModelPath: string;
	remoteHost: string;
}

/** transformers.js's own `env.remoteHost`, restored when `HF_ENDPOINT` is not (or no longer) set. */
let builtInRemoteHost: string | undefined;

/**
 * Points transformers.js at the model `where` for one load: its download cache, whether it may reach
 * the Hub, and which Hub (`HF_ENDPOINT`, read at every load: a worker has the environment of its start).
 */
export function configureTransformersEnv(env: TransformersEnv, where: ModelLocation, cacheDir: string, allowRemote: boolean): void {
	env.cacheDir = cacheDir;
	env.allowRemoteModels = allowRemote;
	// Local lookups must stay on: the download cache is read through them even when offline. A Hub id's
	// "local" copy is looked for in the cache folder rather than inside the extension's install folder.
	env.allowLocalModels = true;
	if (where.source === 'hub') {
		env.localModelPath = cacheDir;
		builtInRemoteHost ??= env.remoteHost;
		env.remoteHost = hubEndpoint() ?? builtInRemoteHost;
	}
}

/** How messages name the Hub a download goes to: the mirror, when `HF_ENDPOINT` picked one. */
export function hubName(env: NodeJS.ProcessEnv = process.env): string {
	const endpoint = hubEndpoint(env);
	if (endpoint) return `the Hugging Face Hub mirror at ${endpoint} (HF_ENDPOINT)`;
	const ignored = env.HF_ENDPOINT?.trim();
	return ignored ? `the Hugging Face Hub (HF_ENDPOINT "${ignored}" is not an http(s) URL, so it was ignored)` : 'the Hugging Face Hub';
}

export function isDirectory(dir: string): boolean {
	try {
		return fs.statSync(dir).isDirectory();
	} catch {
		return false;
	}
}

/** The .onnx files in a model folder's onnx/ subfolder and top level, sorted. */
export function onnxFilesIn(dir: string): string[] {
	const found: string[] = [];
	for (const sub of ['onnx', '']) {
		try {
			found.push(...fs.readdirSync(path.join(dir, sub)).filter(f => f.endsWith('.onnx')));
		} catch {
			// no such folder
		}
	}
	return [...new Set(found)].sort();
}

/** The first of `files` in `folder` that exists and is not valid JSON, with the parser's words. */
export function invalidJson(folder: string, files: readonly string[]): { file: string; why: string } | undefined {
	for (const name of files) {
		const file = path.join(folder, name);
		let text: string;
		try {
			text = fs.readFileSync(file, 'utf8');
		} catch {
			continue;
		}
		try {
			JSON.parse(text);
		} catch (e) {
			return { file, why: `is not valid JSON (${errorMessage(e)})` };
		}
	}
	return undefined;
}

/** transformers.js's error for a model file it did not find (not in the folder, the cache, or on the Hub). */
export function isFileNotFound(e: unknown): boolean {
	return e instanceof Error && e.name === 'ModelFileNotFoundError';
}

/** fetch() failures (DNS, refused, reset, TLS) come as TypeError('fetch failed') with the reason in `cause`. */
export function networkReason(e: unknown): string | undefined {
	if (!(e instanceof Error)) return undefined;
	const cause = (e as { cause?: unknown }).cause;
	if (e.message === 'fetch failed' || /ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN/.test(e.message)) {
		return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
	}
	return undefined;
}

/** Why one of a model's files could not be read: a damaged file (its path), or a model not to be found. */
export type ReadFailure =
	{ readonly kind: 'damaged'; readonly file: string; readonly why: string } | { readonly kind: 'not-found'; readonly reason: string };

/**
 * What went wrong reading `file` (config.json, tokenizer.json, onnx/…) of a model whose files are in
 * `folder`, as the reward scorer and the built-in generator both tell it; undefined when it is none of
 * these, and the loader says what it can.
 */
export function readFailure(e: unknown, file: string, folder: string, allowRemote: boolean): ReadFailure | undefined {
	if (e instanceof SyntaxError) {
		// transformers.js says what did not parse, not in which file: the tokenizer reads two.
		const bad = invalidJson(folder, file === 'tokenizer.json' ? [file, 'tokenizer_config.json'] : [file]);
		if (bad) return { kind: 'damaged', ...bad };
	}
	// onnxruntime: "Load model from PATH failed:Protobuf parsing failed." for a truncated or garbled file.
	if (file.endsWith('.onnx') && /protobuf parsing failed/i.test(errorMessage(e)))
		return { kind: 'damaged', file: path.join(folder, file), why: 'is not a readable ONNX model (Protobuf parsing failed)' };
	const net = networkReason(e);
	if (net) return { kind: 'not-found', reason: `${hubName()} could not be reached (${net})` };
	if (isFileNotFound(e))
		return {
			kind: 'not-found',
			reason: allowRemote
				? `${hubName()} has no such model, or it is private or gated (${file} was not found)`
				: `${file} is not in the download cache and downloads are turned off`,
		};
	return undefined;
}

/** The fields of transformers.js's `ProgressInfo` that are read (stated here: core does not import it). */
export type TransformersProgress =
	| { readonly status: 'initiate' | 'download' | 'done'; readonly file: string }
	| { readonly status: 'progress'; readonly file: string; readonly progress: number; readonly loaded: number; readonly total: number }
	| { readonly status: 'ready' | 'progress_total' };

/** transformers.js also sends `progress_total` (an aggregate over files); the contract is per file. */
export function forwardProgress(info: TransformersProgress, onProgress: (p: LoadProgress) => void): void {
	switch (info.status) {
		case 'initiate':
		case 'download':
		case 'done':
			onProgress({ file: info.file, status: info.status });
			break;
		case 'progress':
			// Without a content-length the percentage is unknown; the contract leaves it out then.
			onProgress({
				file: info.file,
				status: 'progress',
				...(Number.isFinite(info.progress) ? { percent: Math.max(0, Math.min(100, info.progress)) } : {}),
				...(Number.isFinite(info.loaded) && Number.isFinite(info.total) && info.total > 0
					? { loaded: info.loaded, total: info.total }
					: {}),
			});
			break;
		default:
			break;
	}
}

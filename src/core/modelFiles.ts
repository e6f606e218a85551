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

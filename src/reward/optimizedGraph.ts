/**
 * The external-data copy of a model (externalData.ts) with onnxruntime's basic graph optimisations
 * already applied, written once beside it: `<copy's folder>/optimized/model.onnx` and its data file.
 *
 * Why: at every load onnxruntime folds the constant parts of the graph. For a DeBERTa-v3-shaped model
 * that evaluates the relative-position path (the position embeddings through each layer's key and
 * query projections): 38 MB of new weights, ~100 MB passing through the heap that glibc keeps, so an
 * 8-bit 190 MB model held 270 MB after the load instead of 112 MB. Folded once and saved, the new
 * weights are mapped from the data file like the others and the load has nothing left to fold.
 * Turning folding off instead computes that path again in every score (1.35–2.8× slower).
 *
 * Only the basic level is saved (constant folding, redundant nodes, semantics-preserving fusions into
 * standard operators), which onnxruntime documents as independent of the hardware; the extended and
 * layout levels, which may pick kernels for this CPU, still run at each load as before.
 *
 * The optimisation runs in a child process (the running Node, or VS Code's Electron as Node), so its
 * heap spike ends with that process instead of staying in the extension host's. Any failure leaves the
 * copy in use, with a log line: the model then loads as before. A failure that would only happen again
 * (see `LastingFailure`) is remembered beside the copy, so later loads do not spend the child's seconds
 * and memory on it again.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../core/errors';
import { freeBytes } from './externalData';

const OPTIMIZED_DIR = 'optimized';
const MODEL_FILE = 'model.onnx';
const DATA_FILE = 'model.onnx_data';
/** Beside the copy: the optimisation failed for a lasting reason (see `failureKey` for what it holds for). */
const FAILED_FILE = 'optimized.failed';
/** The child's exit code when onnxruntime itself refused the model (as opposed to Node failing to start it). */
export const ORT_FAILED_EXIT = 3;
/** A folder a killed child left half written is removed after this long. */
const STALE_PARTIAL_MS = 3600_000;

/**
 * What the child runs (`node -e`): open the model with basic optimisations, save the optimised graph
 * with every weight of 1 KiB or more in an external-data file, exit 0. Plain JavaScript, so that any
 * Node or Electron runs it without this extension's bundles. argv: onnxruntime-node's entry, the
 * model, the file to write.
 */
const CHILD_SCRIPT = `
const [ortPath, input, output] = process.argv.slice(1);
const ort = require(ortPath);
ort.InferenceSession.create(input, {
	graphOptimizationLevel: 'basic',
	optimizedModelFilePath: output,
	extra: { session: {
		optimized_model_external_initializers_file_name: ${JSON.stringify(DATA_FILE)},
		optimized_model_external_initializers_min_size_in_bytes: '1024',
	} },
}).then(s => s.release()).then(
	() => process.exit(0),
	e => { process.stderr.write(String(e && e.message || e)); process.exit(${ORT_FAILED_EXIT}); },
);
`;

/**
 * A failure that the same copy, the same onnxruntime and the same child would meet again at every load:
 * onnxruntime rejected the graph or could not save it (the child's own error exit), crashed on it
 * (SIGSEGV, SIGILL, SIGFPE), exited without writing anything, or could not open what it wrote. Unless
 * onnxruntime's message speaks of memory, disk, permissions or a missing file (`MACHINE`): those
 * depend on the machine's state at that moment, not on the model.
 *
 * Not lasting, so the next load tries again: no room on disk (checked before, or ENOSPC while writing),
 * a child killed by a signal other than a crash (the OOM killer's SIGKILL, SIGTERM when VS Code shuts
 * down, SIGABRT from an allocation that failed), a child that could not be started, any other exit
 * code (Node or Electron failing before onnxruntime ran), and the time limit: a machine too loaded to
 * finish within it cannot be told apart from a graph that never finishes, and a retry costs one more
 * wait while a marker would cost the memory saving for good.
 */
class LastingFailure extends Error {}

/** Words of a failure that comes from the machine's state rather than from the model. */
const MACHINE =
	/ENOSPC|no space left|EDQUOT|quota|ENOMEM|out of memory|bad_alloc|cannot allocate|failed to allocate|EMFILE|ENFILE|too many open files|EACCES|EPERM|permission denied|EROFS|read-only file system|EIO\b|input\/output error|ENOENT|no such file|does ?n[o']t exist/i;
const CRASH_SIGNALS: ReadonlySet<string> = new Set(['SIGSEGV', 'SIGILL', 'SIGFPE']);

/** `message` as a `LastingFailure`, unless it speaks of the machine's state; the paths in it are not read. */
function classify(message: string, paths: readonly string[]): Error {
	const words = paths.reduce((text, p) => text.split(p).join(''), message);
	return MACHINE.test(words) ? new Error(message) : new LastingFailure(message);
}

export interface OptimizeOptions {
	/** Where a failure is reported; the load goes on with the copy. */
	readonly log?: (line: string) => void;
	/** The child is stopped after this long (default 10 minutes: a 2 GB model on a slow disk). */
	readonly timeoutMs?: number;
	/** The program the child runs (default: this process's Node or Electron). */
	readonly execPath?: string;
}

/** Where the optimised graph of the external-data copy `copy` is kept. */
export function optimizedPath(copy: string): string {
	return path.join(path.dirname(copy), OPTIMIZED_DIR, MODEL_FILE);
}

/**
 * The path to open the model from: the optimised graph of the external-data copy `copy` (written now
 * if missing), or `copy` itself when it cannot be made.
 */
export async function optimizedGraph(
	copy: string,
	{ log = () => undefined, timeoutMs = 600_000, execPath }: OptimizeOptions = {},
): Promise<string> {
	const target = optimizedPath(copy);
	if (fs.existsSync(target)) return target;
	const dir = path.dirname(copy);
	const before = failedBefore(copy);
	if (before !== undefined) {
		log(
			`The reward model's graph is not optimised ahead of the load: that failed before for this model and this onnxruntime (${before}); loading it as is, which holds more memory while onnxruntime optimises it. Delete ${failedPath(copy)} to try again.`,
		);
		return copy;
	}
	let staging: string | undefined;
	try {
		removeStalePartials(dir);
		const dataBytes = fileSize(path.join(dir, DATA_FILE)) + fileSize(copy);
		const free = freeBytes(dir);
		if (free < dataBytes * 1.25)
			throw new Error(`${Math.round(free / 1e6)} MB free on disk, ${Math.round((dataBytes * 1.25) / 1e6)} MB needed`);
		staging = fs.mkdtempSync(path.join(dir, `${OPTIMIZED_DIR}.partial-`));
		await runChild(copy, path.join(staging, MODEL_FILE), timeoutMs, execPath ?? process.execPath);
		if (!fs.existsSync(path.join(staging, MODEL_FILE))) throw new LastingFailure('onnxruntime wrote no optimised model');
		try {
			fs.renameSync(staging, path.dirname(target));
			staging = undefined;
		} catch (e) {
			// Another worker may have finished the same optimisation meanwhile.
			if (!fs.existsSync(target)) throw e;
		}
		// Written after a failure remembered for an earlier onnxruntime or copy.
		fs.rmSync(failedPath(copy), { force: true });
		return target;
	} catch (e) {
		const remembered = e instanceof LastingFailure && remember(copy, errorMessage(e));
		log(
			`The reward model's graph could not be optimised ahead of the load (${errorMessage(e)}); loading it as is, which holds more memory while onnxruntime optimises it.${remembered ? ` Later loads do the same without trying again; delete ${failedPath(copy)} to try again.` : ''}`,
		);
		return copy;
	} finally {
		if (staging) fs.rmSync(staging, { recursive: true, force: true });
	}
}

/**
 * After the optimised graph of `copy` did not open with `error`: removes it, and remembers the failure
 * (returning true) when a graph written afresh by this same load did not open for a reason other than
 * the machine's state. A graph found on disk is only removed, so the next load writes it again: it
 * may have been damaged since it was written.
 */
export function discardOptimizedGraph(copy: string, error: unknown, writtenNow: boolean): boolean {
	fs.rmSync(path.dirname(optimizedPath(copy)), { recursive: true, force: true });
	return (
		writtenNow &&
		classify(errorMessage(error), [optimizedPath(copy), copy]) instanceof LastingFailure &&
		remember(copy, errorMessage(error))
	);
}

function failedPath(copy: string): string {
	return path.join(path.dirname(copy), FAILED_FILE);
}

/**
 * What a remembered failure holds for: the copy as it is on disk (its folder is already the source's
 * path, size and time), the child's script, and the onnxruntime and Node that ran it. A new version of
 * any of them tries again.
 */
function failureKey(copy: string): string {
	const stat = fs.statSync(copy);
	let ort = '';
	try {
		ort = (require('onnxruntime-node') as { env: { versions: { node?: string } } }).env.versions.node ?? '';
	} catch {
		// Not loadable here: the load that follows names the problem.
	}
	return crypto.createHash('sha256').update([stat.size, stat.mtimeMs, CHILD_SCRIPT, ort, process.versions.node].join('\0')).digest('hex');
}

/** The reason a lasting failure was remembered with for `copy` as it is now, if one was. */
function failedBefore(copy: string): string | undefined {
	try {
		const marker = JSON.parse(fs.readFileSync(failedPath(copy), 'utf8')) as { key?: unknown; reason?: unknown };
		return marker.key === failureKey(copy) ? String(marker.reason) : undefined;
	} catch {
		return undefined;
	}
}

/** Whether the failure could be written down. */
function remember(copy: string, reason: string): boolean {
	try {
		fs.writeFileSync(failedPath(copy), JSON.stringify({ key: failureKey(copy), reason, at: new Date().toISOString() }));
		return true;
	} catch {
		return false;
	}
}

/**
 * The optimising child's environment: the scorer's, less the two glibc settings that only serve the
 * scorer's readied heap (scorerProcess.ts `SCORER_MALLOC_ENV`): the child should give its freed memory
 * back and map its large blocks on their own, as it did before those settings.
 */
export function optimizerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
	const { MALLOC_MMAP_MAX_: _max, MALLOC_TRIM_THRESHOLD_: _trim, ...rest } = env;
	return { ...rest, ELECTRON_RUN_AS_NODE: '1' };
}

function runChild(input: string, output: string, timeoutMs: number, execPath: string): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		// In VS Code's extension host the program is Electron, which runs as plain Node with this variable.
		const child = spawn(execPath, ['-e', CHILD_SCRIPT, require.resolve('onnxruntime-node'), input, output], {
			env: optimizerEnv(process.env),
			stdio: ['ignore', 'ignore', 'pipe'],
			windowsHide: true,
		});
		let stderr = '';
		child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + String(chunk)).slice(-2000)));
		const timer = setTimeout(() => {
			child.kill();
			reject(new Error(`onnxruntime took longer than ${Math.round(timeoutMs / 1000)} s`));
		}, timeoutMs);
		child.once('error', e => {
			clearTimeout(timer);
			reject(e);
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			if (code === 0) return resolve();
			const message = stderr.trim() || `the optimising process exited with ${signal ?? `code ${code}`}`;
			const lasting = code === ORT_FAILED_EXIT || (signal !== null && CRASH_SIGNALS.has(signal));
			reject(lasting ? classify(message, [input, output]) : new Error(message));
		});
	});
}

function fileSize(file: string): number {
	try {
		return fs.statSync(file).size;
	} catch {
		return 0;
	}
}

function removeStalePartials(dir: string): void {
	for (const name of fs.readdirSync(dir)) {
		if (!name.startsWith(`${OPTIMIZED_DIR}.partial-`)) continue;
		const full = path.join(dir, name);
		try {
			if (Date.now() - fs.statSync(full).mtimeMs > STALE_PARTIAL_MS) fs.rmSync(full, { recursive: true, force: true });
		} catch {
			// Removed by another worker meanwhile.
		}
	}
}

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
 * copy in use, with a log line: the model then loads as before.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../core/errors';
import { freeBytes } from './externalData';

const OPTIMIZED_DIR = 'optimized';
const MODEL_FILE = 'model.onnx';
const DATA_FILE = 'model.onnx_data';
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
	e => { process.stderr.write(String(e && e.message || e)); process.exit(1); },
);
`;

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
	let staging: string | undefined;
	try {
		removeStalePartials(dir);
		const dataBytes = fileSize(path.join(dir, DATA_FILE)) + fileSize(copy);
		const free = freeBytes(dir);
		if (free < dataBytes * 1.25)
			throw new Error(`${Math.round(free / 1e6)} MB free on disk, ${Math.round((dataBytes * 1.25) / 1e6)} MB needed`);
		staging = fs.mkdtempSync(path.join(dir, `${OPTIMIZED_DIR}.partial-`));
		await runChild(copy, path.join(staging, MODEL_FILE), timeoutMs, execPath ?? process.execPath);
		if (!fs.existsSync(path.join(staging, MODEL_FILE))) throw new Error('onnxruntime wrote no optimised model');
		try {
			fs.renameSync(staging, path.dirname(target));
			staging = undefined;
		} catch (e) {
			// Another worker may have finished the same optimisation meanwhile.
			if (!fs.existsSync(target)) throw e;
		}
		return target;
	} catch (e) {
		log(
			`The reward model's graph could not be optimised ahead of the load (${errorMessage(e)}); loading it as is, which holds more memory while onnxruntime optimises it.`,
		);
		return copy;
	} finally {
		if (staging) fs.rmSync(staging, { recursive: true, force: true });
	}
}

function runChild(input: string, output: string, timeoutMs: number, execPath: string): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		// In VS Code's extension host the program is Electron, which runs as plain Node with this variable.
		const child = spawn(execPath, ['-e', CHILD_SCRIPT, require.resolve('onnxruntime-node'), input, output], {
			env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
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
			if (code === 0) resolve();
			else reject(new Error(stderr.trim() || `the optimising process exited with ${signal ?? `code ${code}`}`));
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

/**
 * A single-file ONNX model rewritten once, on disk, into onnxruntime's external-data layout: the graph in
 * a small `model.onnx`, every large weight in `model.onnx_data` beside it.
 *
 * Why: onnxruntime parses a single-file model into protobuf strings, copies the weights into tensors and
 * frees the strings; glibc keeps most of that freed memory, so a 438 MB BERT-base model held 1.75× its
 * size for as long as the process lived (measured: 713 MB after the load, 51 MB before). With external
 * data onnxruntime maps the weight file instead, and the same model holds 1.1× (479 MB) with the same
 * packed weights and the same speed. The rewrite streams the file (a few MB of memory) and costs one
 * copy of the model on disk, in the extension's cache, keyed by the source's path, size and time.
 *
 * Anything unexpected (a damaged file, a layout this reader does not know, no room on disk) leaves the
 * original path in use: onnxruntime then loads it as before and names the damage itself.
 *
 * Once the optimised graph beside the copy (optimizedGraph.ts), which holds weights of its own, has
 * opened, the copy's weights are removed (`releaseWeights`): the copy's small graph stays, as the key
 * of that folder. Should the optimised graph go (it did not open), the load that notices opens the
 * original, and the next one writes the copy again.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Below this a model's memory is not worth a copy on disk. */
export const EXTERNALIZE_MIN_BYTES = 64 * 1024 * 1024;
/** Weights smaller than this stay in the graph (biases, LayerNorm), as onnx's own writer does. */
export const EXTERNALIZE_MIN_TENSOR_BYTES = 1024;
/** Each weight starts on a page, so onnxruntime can map it where it lies. */
const ALIGN = 4096;
const DATA_FILE = 'model.onnx_data';
/** The optimised graph's place in a copy's folder (see optimizedGraph.ts). */
const OPTIMIZED_GRAPH = path.join('optimized', 'model.onnx');

// Protobuf field numbers (onnx.proto3).
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_DATA_TYPE = 2;
const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const DATA_LOCATION_EXTERNAL = 1;
/**
 * Weights move: FLOAT, UINT8, INT8, FLOAT16, BFLOAT16. Integer tensors stay, whatever their size: shape
 * inference reads axes and shapes from the graph file and cannot read them from external data.
 */
const WEIGHT_TYPES: ReadonlySet<number> = new Set([1, 2, 3, 10, 16]);

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

class Malformed extends Error {}

/** Positional reads of a file through a small window, so a 2 GB model never sits in memory. */
class FileReader {
	private readonly buffer = Buffer.alloc(1 << 16);
	private start = 0;
	private end = 0;

	constructor(
		private readonly fd: number,
		readonly size: number,
	) {}

	byte(pos: number): number {
		if (pos >= this.size) throw new Malformed('unexpected end of file');
		if (pos < this.start || pos >= this.end) {
			this.start = pos;
			this.end = pos + fs.readSync(this.fd, this.buffer, 0, this.buffer.length, pos);
		}
		return this.buffer[pos - this.start] as number;
	}

	/** A varint at `pos`: its value and the position after it. */
	varint(pos: number): [number, number] {
		let value = 0;
		let scale = 1;
		for (let i = 0; i < 10; i++) {
			const b = this.byte(pos++);
			value += (b & 0x7f) * scale;
			if (b < 0x80) {
				if (value > Number.MAX_SAFE_INTEGER) throw new Malformed('varint out of range');
				return [value, pos];
			}
			scale *= 128;
		}
		throw new Malformed('varint too long');
	}

	bytes(pos: number, length: number): Buffer {
		if (pos + length > this.size) throw new Malformed('field runs past the end of the file');
		const out = Buffer.alloc(length);
		let done = 0;
		while (done < length) done += fs.readSync(this.fd, out, done, length - done, pos + done);
		return out;
	}
}

interface Field {
	readonly number: number;
	readonly wire: number;
	/** Where the field's tag starts, where its payload starts, and where the field ends. */
	readonly start: number;
	readonly payload: number;
	readonly end: number;
}

/** The fields of the message occupying [from, to), in order, without reading their payloads. */
function fields(reader: FileReader, from: number, to: number): Field[] {
	const out: Field[] = [];
	let pos = from;
	while (pos < to) {
		const start = pos;
		const [tag, afterTag] = reader.varint(pos);
		const number = Math.floor(tag / 8);
		const wire = tag & 7;
		let payload = afterTag;
		let end: number;
		if (wire === WIRE_VARINT) end = reader.varint(afterTag)[1];
		else if (wire === WIRE_I64) end = afterTag + 8;
		else if (wire === WIRE_I32) end = afterTag + 4;
		else if (wire === WIRE_LEN) {
			const [length, afterLength] = reader.varint(afterTag);
			payload = afterLength;
			end = afterLength + length;
		} else throw new Malformed(`wire type ${wire}`);
		if (number === 0 || end > to) throw new Malformed('field runs past its message');
		out.push({ number, wire, start, payload, end });
		pos = end;
	}
	return out;
}

function varint(value: number): Buffer {
	const out: number[] = [];
	while (value >= 0x80) {
		out.push((value % 128) | 0x80);
		value = Math.floor(value / 128);
	}
	out.push(value);
	return Buffer.from(out);
}

const lenField = (number: number, body: Buffer) => Buffer.concat([varint(number * 8 + WIRE_LEN), varint(body.length), body]);
const stringField = (number: number, text: string) => lenField(number, Buffer.from(text, 'utf8'));
const entry = (key: string, value: string) => lenField(TENSOR_EXTERNAL_DATA, Buffer.concat([stringField(1, key), stringField(2, value)]));

/** A weight to copy into the data file: from where in the source, to which offset. */
interface Move {
	readonly from: number;
	readonly length: number;
	readonly offset: number;
}

/**
 * The graph and the moves that make the external-data copy of `source`, or undefined when there is
 * nothing worth moving (already external, or only small weights).
 */
function plan(reader: FileReader, minTensorBytes: number): { model: Buffer; moves: Move[] } | undefined {
	const moves: Move[] = [];
	let dataEnd = 0;
	const modelParts: Buffer[] = [];
	for (const top of fields(reader, 0, reader.size)) {
		if (top.number !== MODEL_GRAPH || top.wire !== WIRE_LEN) {
			modelParts.push(reader.bytes(top.start, top.end - top.start));
			continue;
		}
		const graphParts: Buffer[] = [];
		for (const g of fields(reader, top.payload, top.end)) {
			if (g.number !== GRAPH_INITIALIZER || g.wire !== WIRE_LEN) {
				graphParts.push(reader.bytes(g.start, g.end - g.start));
				continue;
			}
			const tensor = fields(reader, g.payload, g.end);
			const raw = tensor.find(t => t.number === TENSOR_RAW_DATA && t.wire === WIRE_LEN);
			const rawLength = raw ? raw.end - raw.payload : 0;
			const type = tensor.find(t => t.number === TENSOR_DATA_TYPE && t.wire === WIRE_VARINT);
			const weight = type !== undefined && WEIGHT_TYPES.has(reader.varint(type.payload)[0]);
			if (!raw || !weight || rawLength < minTensorBytes || tensor.some(t => t.number === TENSOR_DATA_LOCATION)) {
				graphParts.push(reader.bytes(g.start, g.end - g.start));
				continue;
			}
			const offset = Math.ceil(dataEnd / ALIGN) * ALIGN;
			moves.push({ from: raw.payload, length: rawLength, offset });
			dataEnd = offset + rawLength;
			const kept = tensor.filter(t => t !== raw).map(t => reader.bytes(t.start, t.end - t.start));
			const body = Buffer.concat([
				...kept,
				entry('location', DATA_FILE),
				entry('offset', String(offset)),
				entry('length', String(rawLength)),
				varint(TENSOR_DATA_LOCATION * 8 + WIRE_VARINT),
				varint(DATA_LOCATION_EXTERNAL),
			]);
			graphParts.push(lenField(GRAPH_INITIALIZER, body));
		}
		modelParts.push(lenField(MODEL_GRAPH, Buffer.concat(graphParts)));
	}
	return moves.length ? { model: Buffer.concat(modelParts), moves } : undefined;
}

function copyRange(from: number, to: number, start: number, length: number, offset: number): void {
	const chunk = Buffer.alloc(Math.min(length, 8 << 20));
	let done = 0;
	while (done < length) {
		const n = fs.readSync(from, chunk, 0, Math.min(chunk.length, length - done), start + done);
		if (n === 0) throw new Malformed('unexpected end of file');
		fs.writeSync(to, chunk, 0, n, offset + done);
		done += n;
	}
}

/** Bytes free for this process on the disk holding `dir` (Infinity when unknown). */
export function freeBytes(dir: string): number {
	try {
		const s = fs.statfsSync(dir);
		return s.bavail * s.bsize;
	} catch {
		return Infinity;
	}
}

/**
 * The path to open `source` from: its external-data copy under `cacheDir` (written now if missing or
 * stale), or `source` itself when the copy is not worth it or cannot be made.
 */
export function externalDataCopy(
	source: string,
	cacheDir: string,
	{ minFileBytes = EXTERNALIZE_MIN_BYTES, minTensorBytes = EXTERNALIZE_MIN_TENSOR_BYTES } = {},
): string {
	let stat: fs.Stats;
	try {
		stat = fs.statSync(source);
	} catch {
		return source;
	}
	if (stat.size < minFileBytes) return source;
	try {
		return writeCopy(source, stat, cacheDir, minTensorBytes);
	} catch {
		// No cache folder, no permission, a full disk: the original still loads, only with more memory.
		return source;
	}
}

function writeCopy(source: string, stat: fs.Stats, cacheDir: string, minTensorBytes: number): string {
	const real = fs.realpathSync(source);
	const key = crypto.createHash('sha256').update(`${real}\0${stat.size}\0${stat.mtimeMs}`).digest('hex').slice(0, 24);
	// A dot name, so no Hub id in the same cache can be mistaken for it.
	const root = path.join(cacheDir, '.external-data');
	const dir = path.join(root, key);
	const target = path.join(dir, 'model.onnx');
	if (fs.existsSync(target)) {
		if (hasWeights(target) || fs.existsSync(path.join(dir, OPTIMIZED_GRAPH))) return target;
		// Its weights were released for an optimised graph that is gone since: written again.
		fs.rmSync(dir, { recursive: true, force: true });
	}
	if (fs.existsSync(path.join(dir, 'unchanged'))) return source;

	fs.mkdirSync(root, { recursive: true });
	if (freeBytes(root) < stat.size * 1.25) return source;
	const staging = fs.mkdtempSync(path.join(root, `${key}.partial-`));
	try {
		const fd = fs.openSync(real, 'r');
		try {
			const layout = plan(new FileReader(fd, stat.size), minTensorBytes);
			if (layout) {
				const out = fs.openSync(path.join(staging, DATA_FILE), 'w');
				try {
					for (const m of layout.moves) copyRange(fd, out, m.from, m.length, m.offset);
				} finally {
					fs.closeSync(out);
				}
				fs.writeFileSync(path.join(staging, 'model.onnx'), layout.model);
			} else {
				fs.writeFileSync(path.join(staging, 'unchanged'), '');
			}
		} finally {
			fs.closeSync(fd);
		}
		removeOlderCopies(root, real);
		fs.writeFileSync(path.join(staging, 'source.json'), JSON.stringify({ source: real, size: stat.size, mtimeMs: stat.mtimeMs }));
		fs.renameSync(staging, dir);
	} catch {
		fs.rmSync(staging, { recursive: true, force: true });
		// Another worker may have finished the same copy meanwhile.
		return fs.existsSync(target) ? target : source;
	}
	return fs.existsSync(target) ? target : source;
}

/** Copies made for an earlier version of the same source file, or for a file since deleted, are dead weight on disk. */
function removeOlderCopies(root: string, real: string): void {
	for (const name of fs.readdirSync(root)) {
		const dir = path.join(root, name);
		try {
			// A copy a killed worker left half written.
			if (name.includes('.partial-') && Date.now() - fs.statSync(dir).mtimeMs > 3600_000) {
				fs.rmSync(dir, { recursive: true, force: true });
				continue;
			}
			const meta = JSON.parse(fs.readFileSync(path.join(dir, 'source.json'), 'utf8')) as { source?: unknown };
			if (meta.source === real || (typeof meta.source === 'string' && !fs.existsSync(meta.source)))
				fs.rmSync(dir, { recursive: true, force: true });
		} catch {
			// A copy being written, or not ours: leave it.
		}
	}
}

/** Whether the external-data copy `copy` still has its weights file. */
export function hasWeights(copy: string): boolean {
	return fs.existsSync(path.join(path.dirname(copy), DATA_FILE));
}

/**
 * Removes the weights of the external-data copy `copy`, once the optimised graph beside it, which
 * holds its own, has opened: a model then takes its size once on disk, not twice. A session still
 * reading them (another window's, from before its graph was optimised) keeps its mapping; where the
 * system refuses to remove a file in use, they stay until a later load.
 */
export function releaseWeights(copy: string): void {
	try {
		fs.rmSync(path.join(path.dirname(copy), DATA_FILE), { force: true });
	} catch {
		// In use (Windows): a later load removes them.
	}
}

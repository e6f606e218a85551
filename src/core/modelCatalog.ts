/**
 * What the model pickers need from a generation server, whichever engine it is: the models it has,
 * and (for engines that can) pulling one. The pickers see only this interface; each backend builds
 * one (`generation/modelCatalog.ts`), so a new backend plugs in without touching the UI.
 */

export interface ServerModel {
	/** The name the server takes in a request (`llama3.1:8b`). */
	readonly name: string;
	/** Bytes on disk, when the server says. */
	readonly sizeBytes?: number;
	/** As the server writes it, e.g. "8.0B". */
	readonly parameterSize?: string;
	/** As the server writes it, e.g. "Q4_K_M". */
	readonly quantization?: string;
	/** In memory now (Ollama's `/api/ps`); undefined when the server cannot tell. */
	readonly loaded?: boolean;
	/** The context window the server runs it with, when the listing says (vLLM's `max_model_len`). */
	readonly contextLength?: number;
}

export interface PullProgress {
	/** The server's own words: "pulling manifest", "pulling 6a0746a1ec1a", "verifying sha256 digest", "success". */
	readonly status: string;
	/** Bytes of the part being downloaded, when the line carries byte counts. */
	readonly completed?: number;
	readonly total?: number;
	/** 0–100 for the part being downloaded, when the line carries byte counts. */
	readonly percent?: number;
}

export interface ModelCatalog {
	/** For titles and messages: "Ollama at http://127.0.0.1:11434". */
	readonly serverName: string;
	/** The `bestOfN.` setting that says where the server is, for "open the setting" ways out. */
	readonly hostSetting: string;
	/** Installed models, loaded ones marked. Rejects with a `BestOfNError` (e.g. `unreachable`). */
	listModels(signal: AbortSignal): Promise<ServerModel[]>;
	/** Present only for servers that can download a model by name. Resolves once it is installed. */
	readonly pull?: (name: string, signal: AbortSignal, onProgress: (p: PullProgress) => void) => Promise<void>;
}

/** "4.9 GB", "512 MB", "1.4 kB": decimal units, as Ollama and the Hub print sizes. */
export function formatBytes(bytes: number): string {
	if (!Number.isFinite(bytes) || bytes < 0) return '';
	const units = ['B', 'kB', 'MB', 'GB', 'TB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1000 && unit < units.length - 1) {
		value /= 1000;
		unit++;
	}
	const digits = unit === 0 || value >= 100 ? 0 : 1;
	return `${value.toFixed(digits)} ${units[unit]}`;
}

/** One line for a pull's progress: "pulling 6a0746a1ec1a: 1.2 GB of 4.9 GB (24%)". */
export function describePull(p: PullProgress): string {
	if (p.total && p.total > 0 && p.completed !== undefined) {
		return `${p.status}: ${formatBytes(p.completed)} of ${formatBytes(p.total)} (${p.percent ?? Math.floor((100 * p.completed) / p.total)}%)`;
	}
	return p.status;
}

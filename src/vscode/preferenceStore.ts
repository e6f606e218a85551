/**
 * The preference log on disk: `preferences.jsonl` in the extension's global storage folder, one
 * record per accepted candidate, never sent anywhere. Appends, trims and clears are queued one after
 * another, so a trim never races an append and a clear never loses to one in flight.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import { parseLog, serializeRecord, trimLog, type ParsedLog, type PreferenceRecord } from '../core/preferences';

export const PREFERENCE_LOG_NAME = 'preferences.jsonl';

export class PreferenceStore implements vscode.Disposable {
	readonly file: string;
	private queue: Promise<unknown> = Promise.resolve();
	private readonly changed = new vscode.EventEmitter<void>();
	/** Fires after the log was appended to or cleared. */
	readonly onDidChange = this.changed.event;

	constructor(
		storageDir: string,
		private readonly logger: Logger,
	) {
		this.file = path.join(storageDir, PREFERENCE_LOG_NAME);
	}

	/** Appends a record, then drops the oldest records while the log is larger than `maxBytes`. */
	append(record: PreferenceRecord, maxBytes: number): Promise<void> {
		return this.enqueue(async () => {
			await fs.mkdir(path.dirname(this.file), { recursive: true });
			await fs.appendFile(this.file, serializeRecord(record), 'utf8');
			const { size } = await fs.stat(this.file);
			if (size > maxBytes) {
				const kept = trimLog(await fs.readFile(this.file, 'utf8'), maxBytes);
				// Written aside and renamed over: a crash mid-trim leaves the old log, never half of one.
				const aside = `${this.file}.${process.pid}.tmp`;
				await fs.writeFile(aside, kept, 'utf8');
				await fs.rename(aside, this.file);
				this.logger.info(
					`preference log trimmed to ${kept.length ? kept.trimEnd().split('\n').length : 0} records (${maxBytes} bytes)`,
				);
			}
			this.changed.fire();
		});
	}

	/** Every readable record, oldest first; a missing log is an empty one. */
	read(): Promise<ParsedLog> {
		return this.enqueue(async () => {
			try {
				return parseLog(await fs.readFile(this.file, 'utf8'));
			} catch (e) {
				if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: 0 };
				throw e;
			}
		});
	}

	/** Deletes the log. */
	clear(): Promise<void> {
		return this.enqueue(async () => {
			await fs.rm(this.file, { force: true });
			this.changed.fire();
		});
	}

	dispose(): void {
		this.changed.dispose();
	}

	private enqueue<T>(work: () => Promise<T>): Promise<T> {
		const next = this.queue.then(work);
		this.queue = next.catch((e: unknown) => this.logger.warn(`preference log: ${errorMessage(e)}`));
		return next;
	}
}

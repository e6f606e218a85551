/**
 * The preference log on disk: `preferences.jsonl` in the extension's global storage folder, one
 * record per run a candidate was accepted from (its latest pick), never sent anywhere. Appends, trims
 * and clears are queued one after another, so a trim never races an append and a clear never loses
 * to one in flight.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import { parseLog, serializeRecord, trimLog, withRecord, type ParsedLog, type PreferenceRecord } from '../core/preferences';

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

	/**
	 * Appends a record, then drops the oldest records while the log is larger than `maxBytes`.
	 * `mayReplace`: the record may be a second pick from a run already in the log (Show Other
	 * Candidates); its record is then replaced (see `withRecord`). Only then is the log read whole.
	 */
	append(record: PreferenceRecord, maxBytes: number, { mayReplace = false }: { mayReplace?: boolean } = {}): Promise<void> {
		return this.enqueue(async () => {
			await fs.mkdir(path.dirname(this.file), { recursive: true });
			// Read from disk, not from memory: the first pick may come from before a reload, or from
			// another window (they share the log).
			const log = mayReplace && record.run ? await this.readText() : '';
			if (record.run && log.includes(JSON.stringify(record.run))) {
				const { text, replaced } = withRecord(log, record);
				await this.replace(trimLog(text, maxBytes));
				this.logger.info(`preference log: the pick in run ${record.run} replaces ${replaced} recorded before`);
			} else {
				await fs.appendFile(this.file, serializeRecord(record), 'utf8');
				const { size } = await fs.stat(this.file);
				if (size > maxBytes) {
					const kept = trimLog(await fs.readFile(this.file, 'utf8'), maxBytes);
					await this.replace(kept);
					this.logger.info(
						`preference log trimmed to ${kept.length ? kept.trimEnd().split('\n').length : 0} records (${maxBytes} bytes)`,
					);
				}
			}
			this.changed.fire();
		});
	}

	/** Every readable record, oldest first; a missing log is an empty one. */
	read(): Promise<ParsedLog> {
		return this.enqueue(async () => parseLog(await this.readText()));
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

	/** The log's text; a missing log is an empty one. */
	private async readText(): Promise<string> {
		try {
			return await fs.readFile(this.file, 'utf8');
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
			throw e;
		}
	}

	/** Written aside and renamed over: a crash mid-write leaves the old log, never half of one. */
	private async replace(text: string): Promise<void> {
		const aside = `${this.file}.${process.pid}.tmp`;
		await fs.writeFile(aside, text, 'utf8');
		await fs.rename(aside, this.file);
	}

	private enqueue<T>(work: () => Promise<T>): Promise<T> {
		const next = this.queue.then(work);
		this.queue = next.catch((e: unknown) => this.logger.warn(`preference log: ${errorMessage(e)}`));
		return next;
	}
}

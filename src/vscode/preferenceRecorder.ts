/**
 * Turns an accepted candidate into a preference record, unless the person said not to: recording
 * off (`bestOfN.preferences.record`), an untitled document, or a file matching
 * `bestOfN.preferences.exclude`. Settings are read at each accept, so changes apply at once.
 */
import * as vscode from 'vscode';
import { errorMessage } from '../core/errors';
import { isExcluded } from '../core/exclude';
import type { Logger } from '../core/logger';
import { buildPreferenceRecord } from '../core/preferences';
import { readSettings } from './config';
import type { AcceptEvent } from './pickerSession';
import type { PreferenceStore } from './preferenceStore';

export type RecordOutcome = 'recorded' | 'off' | 'untitled' | 'excluded' | 'incomplete' | 'failed';

export class PreferenceRecorder {
	constructor(
		private readonly store: PreferenceStore,
		private readonly logger: Logger,
	) {}

	async record(accepted: AcceptEvent): Promise<RecordOutcome> {
		const settings = readSettings();
		if (!settings.preferencesRecord) return 'off';
		const uri = accepted.document.uri;
		if (accepted.document.isUntitled || uri.scheme === 'untitled') return 'untitled';
		const folder = vscode.workspace.getWorkspaceFolder(uri);
		const absolute = (uri.scheme === 'file' ? uri.fsPath : uri.path).replace(/\\/g, '/');
		const relative = folder ? vscode.workspace.asRelativePath(uri, false).replace(/\\/g, '/') : undefined;
		// File systems that ignore case (Windows, macOS by default) match patterns the same way.
		const caseInsensitive = process.platform === 'win32' || process.platform === 'darwin';
		if (isExcluded({ absolute, relative }, settings.preferencesExclude, caseInsensitive)) return 'excluded';

		const { state, task } = accepted;
		const record = buildPreferenceRecord({
			time: new Date(),
			run: state.runKey,
			task: task.view.kind,
			// The instruction for a rewrite; what was explained for an explanation.
			instruction: task.view.title,
			messages: task.messages(),
			// The reward model's prompt does not depend on the candidate it is paired with.
			prompt: task.rewardPair('').prompt,
			languageId: state.languageId,
			model: state.model,
			backend: settings.backend,
			host: state.host,
			ranker: state.ranker,
			candidates: state.candidates,
			chosen: accepted.id,
		});
		if (!record) return 'incomplete';
		try {
			await this.store.append(record, settings.preferencesMaxMegabytes * 1024 * 1024, { mayReplace: accepted.again });
			return 'recorded';
		} catch (e) {
			// Losing one record is not worth interrupting the person's edit; the log says why.
			this.logger.warn(`could not record the pick in ${this.store.file}: ${errorMessage(e)}`);
			return 'failed';
		}
	}
}

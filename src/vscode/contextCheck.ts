/**
 * Refuses a selection the model cannot take in, before anything is generated or a picker opens: the
 * server would cut the prompt silently and every candidate would rewrite text the model never saw.
 * The window comes from `bestOfN.contextLength` or from Ollama's `/api/show`; when neither can be
 * had (server down, model missing) the run goes ahead and reports that failure in its own words.
 */
import * as vscode from 'vscode';
import { contextBudget, effectiveContextLength, numCtxToSend, OLLAMA_DEFAULT_NUM_CTX, type ModelContext } from '../core/contextBudget';
import { errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Settings } from '../core/settings';
import type { Task } from '../core/tasks/task';
import { modelContext } from '../generation/ollamaAdmin';
import { openSettings } from './config';

/** `/api/show` reads a manifest and answers at once; a server that takes longer is left to the run. */
const SHOW_TIMEOUT_MS = 5000;

export interface ContextCheck {
	/** False once the user has been told why the selection is refused. */
	readonly fits: boolean;
	/** A `num_ctx` the run must send for the rewrite to fit (see `numCtxToSend`). */
	readonly numCtx?: number;
}

/** Whether the rewrite fits (true as well when it cannot be checked); when not, the user is told why. */
export async function checkContext(task: Task, settings: Settings, logger: Logger): Promise<ContextCheck> {
	let model: ModelContext | undefined;
	// Only Ollama says a model's window; on an OpenAI-compatible server only bestOfN.contextLength does.
	if (settings.backend === 'ollama') {
		try {
			model = await modelContext(settings.ollamaHost, settings.model, AbortSignal.timeout(SHOW_TIMEOUT_MS));
		} catch (e) {
			logger.debug(`context check: no model details from ${settings.ollamaHost}: ${errorMessage(e)}`);
		}
	}
	const window = effectiveContextLength(settings.contextLength, model);
	if (window === undefined) return { fits: true };
	const budget = contextBudget(task.messages(), task.source, settings.maxTokens, window);
	logger.debug(`context check: ~${budget.promptTokens} prompt + ~${budget.replyTokens} reply tokens of ${window}`);
	if (budget.fits) {
		const numCtx = numCtxToSend(budget, settings.contextLength, model);
		if (numCtx) logger.info(`context check: sending num_ctx ${numCtx}, since Ollama's default window may be ${OLLAMA_DEFAULT_NUM_CTX}`);
		return { fits: true, numCtx };
	}

	const from = settings.contextLength > 0 ? 'bestOfN.contextLength is' : `${settings.model} runs with`;
	// Raising num_ctx past what the model was trained for does not help; say so by not offering it.
	const canRaise = model?.trained === undefined || model.trained > window;
	const ways = canRaise
		? `Select less, raise bestOfN.contextLength${model?.trained ? ` (up to ${fmt(model.trained)})` : ''}, or choose a model with a longer context.`
		: 'Select less, or choose a model with a longer context.';
	const raise = 'Raise Context Length';
	const choose = 'Choose Another Model';
	void vscode.window
		.showErrorMessage(
			`Best-of-N: the selection is too long for the model. The prompt and one rewrite of it need about ${fmt(budget.needed)} tokens; ` +
				`${from} ${fmt(window)}. ${ways}`,
			...(canRaise ? [raise] : []),
			choose,
		)
		.then(choice => {
			if (choice === raise) void openSettings('contextLength');
			else if (choice === choose) void openSettings('model');
		});
	return { fits: false };
}

function fmt(n: number): string {
	return n.toLocaleString('en-US');
}

/**
 * Refuses a selection the model cannot take in, before anything is generated or a picker opens: the
 * server would cut the prompt silently and every candidate would rewrite text the model never saw.
 * The window comes from `bestOfN.contextLength`, Ollama's `/api/show`, or the `max_model_len` vLLM
 * lists in `/v1/models`; when none can be had (server down, model missing, a server that does not
 * say) the run goes ahead and reports any failure in its own words.
 */
import * as vscode from 'vscode';
import { contextBudget, effectiveContextLength, numCtxToSend, OLLAMA_DEFAULT_NUM_CTX, type ModelContext } from '../core/contextBudget';
import { errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Settings } from '../core/settings';
import type { Task } from '../core/tasks/task';
import { createBackend } from '../generation/backends';
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

/**
 * Whether the rewrite fits (true as well when it cannot be checked); when not, the user is told why.
 * `apiKey` reads the key of an OpenAI-compatible server, for its model list.
 */
export async function checkContext(
	task: Task,
	settings: Settings,
	logger: Logger,
	apiKey?: (baseUrl: string) => Promise<string | undefined>,
): Promise<ContextCheck> {
	const model = await serverContext(settings, logger, apiKey);
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

/** What the server says about the model's window: Ollama's `/api/show`, vLLM's `max_model_len`. */
async function serverContext(
	settings: Settings,
	logger: Logger,
	apiKey?: (baseUrl: string) => Promise<string | undefined>,
): Promise<ModelContext | undefined> {
	const signal = AbortSignal.timeout(SHOW_TIMEOUT_MS);
	try {
		if (settings.backend === 'ollama') return await modelContext(settings.ollamaHost, settings.model, signal);
		if (settings.backend === 'openai') {
			const listed = await createBackend(settings, { logger, apiKey }).listModels(signal);
			const served = listed.find(m => m.name === settings.model)?.contextLength;
			// vLLM refuses a longer prompt whatever is asked, so it is the window and its limit both.
			return served ? { trained: served, numCtx: served } : undefined;
		}
	} catch (e) {
		logger.debug(`context check: no model details from ${settings.backend}: ${errorMessage(e)}`);
	}
	return undefined;
}

function fmt(n: number): string {
	return n.toLocaleString('en-US');
}

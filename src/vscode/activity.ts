/**
 * Slow work the extension is doing besides runs (pulling a model, loading a reward model), so the
 * status bar can show it and Best-of-N: Cancel can stop it. The `bestOfN.busy` context key is true
 * while any of it is cancellable.
 */
import * as vscode from 'vscode';

export interface Task {
	/** What the status bar says, e.g. "Pulling mistral:7b 45%"; changed as the work goes on. */
	label: string;
	/** Stops the work; undefined for work that cannot be stopped. */
	readonly cancel?: () => void;
}

export class Activity implements vscode.Disposable {
	private readonly tasks = new Set<Task>();
	private readonly changed = new vscode.EventEmitter<void>();
	readonly onDidChange = this.changed.event;

	/** Registers work until the returned handle is disposed; `update` changes what it says. */
	begin(task: Task): { update(label: string): void; dispose(): void } {
		this.tasks.add(task);
		this.fire();
		return {
			update: label => {
				if (task.label === label || !this.tasks.has(task)) return;
				task.label = label;
				this.changed.fire();
			},
			dispose: () => {
				if (this.tasks.delete(task)) this.fire();
			},
		};
	}

	/** The most recent task still going, if any. */
	get current(): Task | undefined {
		return [...this.tasks].at(-1);
	}

	/** Cancels every cancellable task; true if there was one. */
	cancelAll(): boolean {
		const cancellable = [...this.tasks].filter(t => t.cancel);
		for (const t of cancellable) t.cancel!();
		return cancellable.length > 0;
	}

	dispose(): void {
		this.changed.dispose();
	}

	private fire(): void {
		void vscode.commands.executeCommand(
			'setContext',
			'bestOfN.busy',
			[...this.tasks].some(t => t.cancel),
		);
		this.changed.fire();
	}
}

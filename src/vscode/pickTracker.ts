/**
 * A read-only view of the quick pick Best-of-N shows now, for the extension's diagnostics API (and
 * so for integration tests, which cannot read the workbench's DOM): title, placeholder, busy and the
 * items as a person sees them. Acting on a pick goes through VS Code's own quick-input commands.
 */
import type * as vscode from 'vscode';

export interface PickItemView {
	readonly label: string;
	readonly description?: string;
	readonly detail?: string;
	readonly separator?: boolean;
}

export interface PickView {
	readonly title?: string;
	readonly placeholder?: string;
	readonly busy: boolean;
	readonly value: string;
	readonly items: readonly PickItemView[];
	readonly active?: string;
}

let current: (() => PickView) | undefined;

export function currentPick(): PickView | undefined {
	return current?.();
}

/** `vscode.QuickPickItemKind.Separator`, spelled as its value: this module imports only vscode's types. */
const SEPARATOR = -1 as vscode.QuickPickItemKind.Separator;

function itemView(i: vscode.QuickPickItem): PickItemView {
	return {
		label: i.label,
		description: i.description,
		detail: i.detail,
		separator: i.kind === SEPARATOR ? true : undefined,
	};
}

/** Follows a `createQuickPick` pick until it hides. */
export function trackQuickPick<T extends vscode.QuickPickItem>(pick: vscode.QuickPick<T>): void {
	const view = () => ({
		title: pick.title,
		placeholder: pick.placeholder,
		busy: pick.busy,
		value: pick.value,
		items: pick.items.map(itemView),
		active: pick.activeItems[0]?.label,
	});
	current = view;
	pick.onDidHide(() => {
		if (current === view) current = undefined;
	});
}

import type * as vscode from 'vscode';

/** Live objects built on the base below, and the disposables they hold: what `liveDisposables()` reports. */
let liveObjects = 0;
let liveChildren = 0;

/**
 * How many owners are alive and how many disposables (listeners, panels, workers' handles) they hold.
 * Read by the load tests through the extension's API: growth after runs that ended is a leak.
 */
export function liveDisposables(): { owners: number; held: number } {
	return { owners: liveObjects, held: liveChildren };
}

/**
 * Base for objects that own disposables: whatever they `_register` dies with them, in reverse order.
 * Only a type import of `vscode`, so pure code and unit tests can use it too.
 */
export class Disposable implements vscode.Disposable {
	private _isDisposed = false;
	private readonly _disposables: vscode.Disposable[] = [];

	constructor() {
		liveObjects++;
	}

	protected get isDisposed(): boolean {
		return this._isDisposed;
	}

	/** Idempotent; one failing child does not stop the others from being disposed. */
	dispose(): void {
		if (this._isDisposed) return;
		this._isDisposed = true;
		liveObjects--;
		liveChildren -= this._disposables.length;
		const errors: unknown[] = [];
		while (this._disposables.length) {
			const d = this._disposables.pop()!;
			try {
				d.dispose();
			} catch (e) {
				errors.push(e);
			}
		}
		if (errors.length === 1) throw errors[0];
		if (errors.length > 1) throw new AggregateError(errors, 'Errors while disposing');
	}

	/** Registering on a disposed owner disposes the newcomer at once instead of leaking it. */
	protected _register<T extends vscode.Disposable>(d: T): T {
		if (this._isDisposed) {
			d.dispose();
		} else {
			this._disposables.push(d);
			liveChildren++;
		}
		return d;
	}
}

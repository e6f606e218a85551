/**
 * Where the extension keeps its preference log: `preferences.jsonl` in VS Code's global storage
 * folder for this extension, which depends on the editor (VS Code, Insiders, VSCodium, code-server,
 * a remote server) and the platform. The CLI looks in each and takes the most recently written.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const EXTENSION_ID = 'best-of-n.best-of-n';
const LOG_NAME = 'preferences.jsonl';
const PRODUCTS = ['Code', 'Code - Insiders', 'VSCodium', 'Cursor', 'Code - OSS'];

export function candidateLogPaths(env: NodeJS.ProcessEnv = process.env, platform = process.platform, home = os.homedir()): string[] {
	const userDirs: string[] = [];
	if (platform === 'win32') {
		const appData = env.APPDATA || path.join(home, 'AppData', 'Roaming');
		userDirs.push(...PRODUCTS.map(p => path.join(appData, p, 'User')));
	} else if (platform === 'darwin') {
		userDirs.push(...PRODUCTS.map(p => path.join(home, 'Library', 'Application Support', p, 'User')));
	} else {
		const config = env.XDG_CONFIG_HOME || path.join(home, '.config');
		userDirs.push(...PRODUCTS.map(p => path.join(config, p, 'User')));
	}
	const data = env.XDG_DATA_HOME || path.join(home, '.local', 'share');
	userDirs.push(path.join(data, 'code-server', 'User'), path.join(home, '.vscode-server', 'data', 'User'));
	return userDirs.map(dir => path.join(dir, 'globalStorage', EXTENSION_ID, LOG_NAME));
}

/** The existing log written most recently, and how many others were found. */
export function findPreferenceLog(candidates = candidateLogPaths()): { file: string; others: number } | undefined {
	const found = candidates
		.map(file => {
			try {
				return { file, mtime: fs.statSync(file).mtimeMs };
			} catch {
				return undefined;
			}
		})
		.filter((f): f is { file: string; mtime: number } => f !== undefined)
		.sort((a, b) => b.mtime - a.mtime);
	const [newest] = found;
	return newest ? { file: newest.file, others: found.length - 1 } : undefined;
}

/**
 * `bestOfN.preferences.exclude`: glob patterns of files whose runs are never recorded. Patterns are
 * read the way `files.exclude` is: relative to the workspace folder (`secrets/**`, `**\/*.env`), and a
 * pattern without a slash matches a file name anywhere (`*.pem`). An absolute pattern matches the
 * absolute path. minimatch does the matching (npm's own glob engine, already what mocha and glob use).
 */
import { minimatch } from 'minimatch';

export interface ExcludeTarget {
	/** The file's absolute path, with `/` separators. */
	readonly absolute: string;
	/** The path relative to its workspace folder (`/` separators), when it is inside one. */
	readonly relative?: string;
}

export function isExcluded(target: ExcludeTarget, patterns: readonly string[], caseInsensitive = false): boolean {
	const options = { dot: true, nocase: caseInsensitive, matchBase: false };
	for (const raw of patterns) {
		const pattern = raw.trim().replace(/\\/g, '/');
		if (!pattern) continue;
		if (!pattern.includes('/')) {
			const base = target.absolute.slice(target.absolute.lastIndexOf('/') + 1);
			if (minimatch(base, pattern, options)) return true;
			continue;
		}
		if (minimatch(target.absolute, pattern, options)) return true;
		if (target.relative !== undefined && minimatch(target.relative, pattern.replace(/^\.\//, ''), options)) return true;
	}
	return false;
}

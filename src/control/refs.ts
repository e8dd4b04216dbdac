import { patternMatches } from '../config/pattern.js';
import { UsageError } from '../errors.js';

/** Anything a repository path or a branch must never contain: control characters, white space. */
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u00a0\u2028\u2029]/;
const MAX = 200;

/**
 * Resolves a repository path typed in chat (`sandbox/myfixes`) against the master's repository
 * base, refusing anything that could point outside it: absolute URLs and other schemes, absolute
 * paths, `..` or empty segments, white space and control characters, and whatever the master's
 * allow-pattern rejects. The refusal says what was wrong.
 */
export function resolveRepository(path: string, base: string | undefined, pattern: string): string {
  if (!base) throw new UsageError('this master takes no repository: force the builder at its own branch');
  if (path.length > MAX) throw new UsageError(`the repository path is too long (${path.length} characters)`);
  if (CONTROL_OR_SPACE.test(path))
    throw new UsageError('the repository path may not contain spaces or control characters');
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//')) {
    throw new UsageError('give a repository path relative to the project (sandbox/myfixes), not a URL');
  }
  if (path.startsWith('/') || path.startsWith('\\'))
    throw new UsageError('the repository path may not be absolute');
  const segments = path.split('/');
  if (segments.some((s) => s === '')) throw new UsageError('the repository path has an empty segment');
  if (segments.some((s) => s === '.' || s === '..'))
    throw new UsageError('the repository path may not contain . or .. segments');
  if (!patternMatches(pattern, path, { ignoreCase: false }))
    throw new UsageError(`'${path}' is not an allowed repository path on this master`);
  const resolved = new URL(path, base.endsWith('/') ? base : `${base}/`);
  const root = new URL(base.endsWith('/') ? base : `${base}/`);
  if (resolved.origin !== root.origin || !resolved.pathname.startsWith(root.pathname)) {
    throw new UsageError('the repository path leaves the project realm');
  }
  return resolved.toString();
}

/** A full or abbreviated commit id. */
export function isRevision(text: string): boolean {
  return /^[0-9a-f]{7,64}$/i.test(text);
}

/**
 * Checks a branch name by git's ref-name rules (git check-ref-format): no control characters,
 * spaces, `~ ^ : ? * [ \`, no `..`, `@{`, `//`, no component starting with `.` or ending with
 * `.lock`, not ending with `/` or `.`, not `@`.
 */
export function checkBranch(name: string): string {
  const why = branchProblem(name);
  if (why) throw new UsageError(`'${name.slice(0, 60)}' is not a valid branch name: ${why}`);
  return name;
}

function branchProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.length > MAX) return 'it is too long';
  if (CONTROL_OR_SPACE.test(name)) return 'it contains a space or a control character';
  const bad = /[~^:?*[\\]/.exec(name);
  if (bad) return `it contains '${bad[0]}'`;
  if (name.includes('..')) return "it contains '..'";
  if (name.includes('@{')) return "it contains '@{'";
  if (name === '@') return "it is '@'";
  if (name.includes('//')) return "it contains '//'";
  if (name.startsWith('/') || name.endsWith('/')) return "it starts or ends with '/'";
  if (name.endsWith('.')) return "it ends with '.'";
  if (name.startsWith('-')) return "it starts with '-'";
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return "a component starts with '.'";
    if (part.endsWith('.lock')) return "a component ends with '.lock'";
  }
  return undefined;
}

import { RE2JS } from 're2js';

/**
 * Every pattern a user supplies (config `builders:` filters and `force.repositories`, `!notify on
 * ... <regex>`, `!known <test> <issue> <regex>`, dashboard filters) goes through here. Patterns are
 * matched by RE2JS, a port of RE2: linear time in the text whatever the pattern, so no pattern typed
 * in chat can stall the bot (a backtracking `RegExp` took 30 s on `(.*.*)*!` against a 16-character
 * builder name). The price is RE2's syntax: no lookarounds and no backreferences, which builder
 * filters never need. Compiled once per (pattern, flags) and kept in a bounded cache.
 */

/** Longer patterns are refused: a builder filter is a few names, not a program. */
export const MAX_PATTERN_LENGTH = 300;
const CACHE_LIMIT = 1000;

export interface Pattern {
  readonly source: string;
  /** Whether the pattern matches anywhere in `text` (like `RegExp.prototype.test`). */
  test(text: string): boolean;
}

export interface PatternOptions {
  /** Builder filters and known-issue scopes are case-insensitive; repository paths are not. */
  ignoreCase?: boolean;
}

const cache = new Map<string, Pattern | string>();

/**
 * Why `text` is not a pattern bbwatch can use, in a few words, or undefined when it is one.
 * One check for config, chat and stored rules.
 */
export function patternProblem(
  text: string,
  opts: PatternOptions = { ignoreCase: true },
): string | undefined {
  const compiled = compileCached(text, opts);
  return typeof compiled === 'string' ? compiled : undefined;
}

/** The compiled pattern; throws an Error saying what is wrong when it is not one. */
export function compilePattern(text: string, opts: PatternOptions = { ignoreCase: true }): Pattern {
  const compiled = compileCached(text, opts);
  if (typeof compiled === 'string') throw new Error(compiled);
  return compiled;
}

/**
 * Whether a stored pattern matches `text`; a pattern that is not (or no longer) valid matches
 * nothing, so a bad row can never take a whole feature down.
 */
export function patternMatches(
  pattern: string,
  text: string,
  opts: PatternOptions = { ignoreCase: true },
): boolean {
  const compiled = compileCached(pattern, opts);
  return typeof compiled !== 'string' && compiled.test(text);
}

function compileCached(text: string, opts: PatternOptions): Pattern | string {
  const key = `${opts.ignoreCase ? 'i' : '-'}${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const compiled = compile(text, opts);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

function compile(text: string, opts: PatternOptions): Pattern | string {
  if (text.length > MAX_PATTERN_LENGTH)
    return `the pattern is too long (${text.length} characters, at most ${MAX_PATTERN_LENGTH})`;
  try {
    const re = RE2JS.compile(text, opts.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    return { source: text, test: (s: string) => re.matcher(s).find() };
  } catch (err) {
    return explain(err);
  }
}

/** RE2JS's message, shortened, with a word on what RE2 does not support. */
function explain(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const short = message.replace(/^error parsing regexp: /, '');
  if (/invalid or unsupported Perl syntax|invalid escape sequence: `\\\d/.test(message))
    return `${short} (lookarounds and backreferences are not supported: patterns use RE2 syntax)`;
  return short;
}

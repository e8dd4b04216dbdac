import type { RegrtestAnalysis } from './regrtest.js';

/** regrtest options that change what a test does, and so belong in a reproduction. */
const KEEP_WITH_VALUE = new Set(['-u', '--use', '-R', '--huntrleaks', '-M', '--memlimit', '--timeout']);
const KEEP_FLAGS = new Set([
  '--fail-env-changed',
  '--fail-rerun',
  '-x',
  '--exclude',
  '--pgo',
  '--single-process',
]);

/**
 * The commands that reproduce a build's failures, as the devguide advises: the failing tests
 * alone, verbose (with the failing cases when known), and the whole suite in the build's random
 * order (same `--randseed`) for failures that depend on the tests run before.
 */
export function reproCommands(
  a: RegrtestAnalysis,
  tests: readonly string[],
): { alone: string; inOrder: string } {
  const options = keptOptions(a.command ?? '');
  const seed = a.seed !== undefined ? ['--randseed', String(a.seed)] : [];
  const cases =
    tests.length === 1 ? (a.cases[tests[0] as string] ?? []).slice(0, 3).flatMap((c) => ['-m', c]) : [];
  const alone = ['./python', '-m', 'test', ...options, ...seed, '-v', ...tests, ...cases];
  const inOrder = ['./python', '-m', 'test', ...options, '-r', ...seed];
  return { alone: alone.map(quote).join(' '), inOrder: inOrder.map(quote).join(' ') };
}

/** The options worth keeping from the command line the build ran (`make buildbottest TESTOPTS=...` too). */
function keptOptions(command: string): string[] {
  // Python's own options come before "-m test" (`python -u -W default -m test ...`): not regrtest's.
  const at = command.search(/\s-m\s+test(?:\s|$)/);
  const regrtest = at === -1 ? command : command.slice(at).replace(/^\s-m\s+test/, '');
  const words = regrtest
    .replace(/TESTOPTS=(['"])(.*?)\1/, '$2')
    .replace(/TESTOPTS=/, '')
    .split(/\s+/);
  const kept: string[] = [];
  let slowCi = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const [flag, inline] = w.startsWith('--') ? w.split('=', 2) : [w, undefined];
    if (flag === '--slow-ci' || flag === '--fast-ci') slowCi = true;
    if (/^-[uRM]\S/.test(w)) {
      // The value glued to a short option: -uall, -R3:3 (Tools/buildbot/test.bat passes -uall).
      if (!/[`$;&|<>]/.test(w)) kept.push(w.slice(0, 2), w.slice(2));
    } else if (flag && KEEP_WITH_VALUE.has(flag)) {
      const value = inline ?? words[++i];
      if (value && !/[`$;&|<>]/.test(value)) kept.push(flag, value);
    } else if (flag && KEEP_FLAGS.has(flag)) kept.push(flag);
  }
  if (slowCi && !kept.includes('-u') && !kept.includes('--use')) kept.unshift('-u', 'all');
  return kept;
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

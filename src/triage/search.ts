/**
 * Finding the tracker issue of a failing test the way CPython's buildbot watchers do: search the
 * failing test method, then `module: Class`, then the test file, then the error line's words; then,
 * unlike a plain search, rank what came back by how CPython titles its test issues
 * (`test_posix: TestPosixSpawn.test_x fails on PPC64 Fedora 3.x`), and say "no existing issue"
 * when no candidate is about this test rather than offer a near miss about the same module.
 */

/** What is searched for: one failing test of a build. */
export interface SearchTarget {
  /** The test file as regrtest names it (`test_posix`, `test_asyncio.test_tasks`). */
  test: string;
  /** The failing method (`test_spawn_file_actions`), when known. */
  method?: string | undefined;
  /** Its class (`TestPosixSpawn`), when known. */
  klass?: string | undefined;
  /** The error line, normalised (see reason.ts): masks are left out of the search. */
  errorLine?: string | undefined;
  /** The builder's name: its platform words (`PPC64`, `FreeBSD`) favour an issue about the same platform. */
  builder?: string | undefined;
}

export type SearchTier = 'method' | 'class' | 'module' | 'text';

export interface SearchQuery {
  tier: SearchTier;
  q: string;
}

/** A tracker issue as the search answered it. */
export interface Candidate {
  number: number;
  title: string;
  state: 'open' | 'closed';
  /** ISO date. */
  updatedAt: string;
  url: string;
  /** The start of its description (may be empty). */
  body: string;
}

export interface Ranked extends Candidate {
  score: number;
  /** Why it matches, for logs and the bench: `method in title`, `module subject`... */
  why: string[];
}

/** GitHub refuses longer queries (422). */
const MAX_QUERY = 256;

/**
 * The queries, in the watchers' order. `repo:` and `is:issue` qualify every one (the search API
 * refuses a query without `is:issue` or `is:pull-request`).
 */
export function searchQueries(target: SearchTarget, repo: string): SearchQuery[] {
  const scope = `repo:${repo} is:issue`;
  const out: SearchQuery[] = [];
  const file = lastPart(target.test);
  if (target.method) out.push({ tier: 'method', q: `${scope} ${quoted(target.method)}` });
  // `test_posix: TestPosixSpawn` before `test_posix` alone: the class narrows a busy test file.
  if (target.klass)
    out.push({ tier: 'class', q: `${scope} ${quoted(file)} ${quoted(target.klass)} in:title` });
  out.push({ tier: 'module', q: `${scope} ${quoted(file)} in:title` });
  const words = errorWords(target.errorLine ?? '');
  if (words.length > 0) {
    let q = `${scope} ${quoted(file)}`;
    for (const w of words) {
      if (q.length + w.length + 1 > MAX_QUERY) break;
      q += ` ${w}`;
    }
    out.push({ tier: 'text', q });
  }
  return out;
}

/** The searchable words of a normalised error line: no masks, no punctuation, longest first. */
export function errorWords(line: string): string[] {
  const words = line
    .replace(/<(?:n|hex|tmp|worker)>/g, ' ')
    .split(/[^A-Za-z0-9_]+/)
    .filter((w) => w.length >= 4 && !/^\d+$/.test(w) && !STOP.has(w.toLowerCase()));
  const unique = [...new Set(words)];
  return unique.sort((a, b) => b.length - a.length).slice(0, 6);
}

const STOP = new Set([
  'errno',
  'error',
  'errors',
  'failed',
  'fails',
  'with',
  'from',
  'that',
  'this',
  'none',
  'true',
  'false',
]);

function quoted(word: string): string {
  return `"${word.replace(/"/g, '')}"`;
}

function lastPart(test: string): string {
  // `test_asyncio.test_tasks`: issues name the package (`test_asyncio`) as often as the module.
  return test.split('.').pop() ?? test;
}

/** Words that say which platform a builder is (`AMD64 FreeBSD14 3.x` → amd64, freebsd). */
function platformWords(builder: string | undefined): string[] {
  if (!builder) return [];
  return builder
    .toLowerCase()
    .split(/[\s()/-]+/)
    .map((w) => w.replace(/\d+(?:\.\d+)?$/, ''))
    .filter(
      (w) => w.length >= 3 && !/^(?:non|debug|refleaks|root|installed|shared|bigmem|lto|pgo|nogil)$/.test(w),
    );
}

const WORD_CHAR = /\w/;

/**
 * Whether `word` stands in `text` at a word's start (and, unless `prefix`, at its end too): what
 * `\b${word}\b` would say, without building a pattern from the issue's or the builder's text.
 */
function hasWord(text: string, word: string, prefix = false): boolean {
  if (word === '') return false;
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
    const before = at === 0 ? '' : text.charAt(at - 1);
    const after = text.charAt(at + word.length);
    const startOk = !WORD_CHAR.test(before) || !WORD_CHAR.test(word.charAt(0));
    const endOk =
      prefix || after === '' || !WORD_CHAR.test(after) || !WORD_CHAR.test(word.charAt(word.length - 1));
    if (startOk && endOk) return true;
  }
  return false;
}

/** The `test_*` names a text mentions, as whole words. */
function testNames(text: string): Set<string> {
  return new Set(text.match(/\btest_\w+/g) ?? []);
}

/** `test_posix: ...`, `test_posix.test_x ...`, `test_posix fails ...`: the test file the title is about. */
function titleSubject(title: string): string | undefined {
  const m = /^(?:\[[^\]]*\]\s*)?(?:gh-\d+:\s*)?`?(test_\w+)(?:[.:`\s]|$)/.exec(title.trim());
  return m?.[1];
}

const DAY_MS = 86_400_000;

/**
 * Scores one candidate for `target`: what its title and description say of this test, its state
 * and age. A title about another test of the same file (another method named, and not ours) is a
 * near miss, not a match.
 */
export function scoreCandidate(c: Candidate, target: SearchTarget, now: number): Ranked {
  const why: string[] = [];
  let score = 0;
  const file = lastPart(target.test);
  const pkg = target.test.split('.')[0] ?? file;
  const titleTests = testNames(c.title);
  const bodyTests = testNames(c.body.slice(0, 4000));
  const method = target.method !== file ? target.method : undefined;
  const subject = titleSubject(c.title);
  const aboutFile = subject === file || subject === pkg;
  const methodInTitle = method !== undefined && titleTests.has(method);
  if (methodInTitle) {
    score += 8;
    why.push('method in title');
  } else if (method !== undefined && bodyTests.has(method)) {
    // A long method name is as good as an id; `test_timeout` is in many issues about other tests.
    score += method.length >= 16 ? 6 : 3;
    why.push('method in description');
  }
  if (aboutFile) {
    score += 4;
    why.push('test file is the subject');
  } else if (titleTests.has(file) || titleTests.has(pkg)) {
    score += 3;
    why.push('test file in title');
  } else if (bodyTests.has(file) || bodyTests.has(pkg)) {
    score += 1;
    why.push('test file in description');
  } else if (subject !== undefined && subject !== method) {
    score -= 4;
    why.push('about another test file');
  }
  if (target.klass && /^\w+$/.test(target.klass) && hasWord(c.title, target.klass)) {
    score += 2;
    why.push('class in title');
  }
  // `test_posix: test_other fails`: an issue about another test of the same file, a near miss.
  const otherTests = [...titleTests].filter((t) => t !== file && t !== pkg && t !== method);
  if (aboutFile && method !== undefined && !methodInTitle && otherTests.length > 0) {
    score -= 6;
    why.push('names another test');
  }
  // A tracking issue lists many tests: it mentions this one without being about it.
  const listed = new Set([...bodyTests].filter((t) => t !== file && t !== pkg)).size;
  if (listed >= 5 && !methodInTitle) {
    score -= 3;
    why.push('lists many tests');
  }
  const text = `${c.title}\n${c.body.slice(0, 4000)}`.toLowerCase();
  const errorHits = errorWords(target.errorLine ?? '').filter((w) => hasWord(text, w.toLowerCase())).length;
  if (errorHits > 0) {
    score += Math.min(3, errorHits);
    why.push(`${errorHits} error words`);
  }
  // The builder's platform in the title (`AMD64 FreeBSD CURRENT`): with the test file as subject,
  // three words of it make an issue about "test_gdb on that builder" a match.
  const title = c.title.toLowerCase();
  const platform = platformWords(target.builder).filter((w) => hasWord(title, w, true)).length;
  if (platform > 0) {
    score += Math.min(3, platform);
    why.push('same platform');
  }
  const age = (now - Date.parse(c.updatedAt)) / DAY_MS;
  if (c.state === 'open') {
    score += 1.5;
    why.push('open');
  } else if (age > 365) {
    score -= 1;
  }
  if (Number.isFinite(age)) score += Math.max(0, 1 - age / 90);
  return { ...c, score, why };
}

/** A candidate below this is no better than "no existing issue". */
export const MATCH_SCORE = 6;

/**
 * The candidates worth showing, best first, at most `limit`: those about this test (its method or
 * its file in the title or description) scoring at least {@link MATCH_SCORE}. Empty means "no
 * existing issue".
 */
export function rankCandidates(
  candidates: readonly Candidate[],
  target: SearchTarget,
  now: number,
  limit = 3,
): Ranked[] {
  const seen = new Set<number>();
  const ranked: Ranked[] = [];
  for (const c of candidates) {
    if (seen.has(c.number)) continue;
    seen.add(c.number);
    ranked.push(scoreCandidate(c, target, now));
  }
  return ranked
    .filter((r) => r.score >= MATCH_SCORE && r.why.some((w) => /^(method|test file)/.test(w)))
    .sort((a, b) => b.score - a.score || Date.parse(b.updatedAt) - Date.parse(a.updatedAt))
    .slice(0, limit);
}

/**
 * Whether a search tier's results are enough to stop (the watchers stop at the first search that
 * finds the issue): a candidate names the method in its title.
 */
export function settled(ranked: readonly Ranked[]): boolean {
  return ranked.some((r) => r.why.includes('method in title'));
}

/** `maybe gh-12345 "title" (open, updated 3 d ago)`. */
export function suggestionText(r: Candidate, now: number): string {
  const days = Math.max(0, Math.floor((now - Date.parse(r.updatedAt)) / DAY_MS));
  const age = !Number.isFinite(days) ? '' : days === 0 ? ', updated today' : `, updated ${days} d ago`;
  const title = r.title.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  return `maybe gh-${r.number} "${title.length > 100 ? `${title.slice(0, 99)}…` : title}" (${r.state}${age})`;
}

import { UsageError } from '../errors.js';
import { normalize } from './regrtest.js';

/** A test name as typed (`test.test_os`, `test_os`) in the form the history uses; refuses anything else. */
export function normalizeTestName(text: string): string {
  const name = normalize(text.trim());
  if (!/^test_?[\w]*(\.[\w]+)*$/.test(name) || name.length > 120) {
    throw new UsageError(
      `'${text.slice(0, 40)}' is not a test name (test_ssl, test.test_asyncio.test_tasks)`,
    );
  }
  return name;
}

/** `gh-1234`, `#1234`, `1234` → `gh-1234`; `bpo-1234` stays; an http(s) URL stays; anything else is refused. */
export function normalizeIssue(text: string): string {
  const t = text.trim();
  const number = /^(?:gh-|#)?(\d{1,7})$/i.exec(t);
  if (number) return `gh-${number[1]}`;
  if (/^bpo-\d{1,7}$/i.test(t)) return t.toLowerCase();
  try {
    const url = new URL(t);
    if ((url.protocol === 'https:' || url.protocol === 'http:') && t.length <= 300 && !/\s/.test(t))
      return url.toString();
  } catch {
    // not a URL: refused below
  }
  throw new UsageError(`'${t.slice(0, 40)}' is not an issue (gh-1234, #1234, bpo-1234 or an http(s) URL)`);
}

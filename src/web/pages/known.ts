import type { StoredKnown } from '../../store/dashboard.js';
import { type Html, markup, link } from '../html.js';
import { issueUrl } from '../model.js';

/** Known issues by test. */
export function knownByTest(known: readonly StoredKnown[]): Map<string, StoredKnown[]> {
  const out = new Map<string, StoredKnown[]>();
  for (const k of known) out.set(k.test, [...(out.get(k.test) ?? []), k]);
  return out;
}

/** A test's known issues as links (only http(s) ones become links), with their builder pattern. */
export function knownLinks(known: readonly StoredKnown[] | undefined): Html {
  if (!known || known.length === 0) return markup`<span class="muted">none</span>`;
  return markup`${known.map(
    (k, i) =>
      markup`${i > 0 ? ', ' : ''}${link(issueUrl(k.issue), k.issue, { cls: 'issue' })}${k.builders ? markup` <span class="muted">(${k.builders})</span>` : ''}`,
  )}`;
}

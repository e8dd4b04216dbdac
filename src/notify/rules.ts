import type { NotifyEvent, NotifyRule } from '../config/schema.js';
import { patternMatches } from '../config/pattern.js';
import { onBranch } from '../state/branches.js';

/** What a rule is matched against. */
export interface NotifySubject {
  master: string;
  event: NotifyEvent;
  builderName: string;
  tags: readonly string[];
}

/**
 * The destinations that hear about `subject`, each once, in rule order. A rule matches when the
 * event is one it lists and every filter it sets matches: `masters` (any), `branches` (a
 * tag of the builder, or its name suffix), `tags` (any of them), `builders` (a regular
 * expression on the name, case-insensitive).
 */
export function destinationsFor(rules: readonly NotifyRule[], subject: NotifySubject): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    if (!rule.events.includes(subject.event)) continue;
    if (rule.masters && !rule.masters.includes(subject.master)) continue;
    if (rule.branches && !rule.branches.some((b) => onBranch(subject.builderName, subject.tags, b))) continue;
    if (rule.tags && !rule.tags.some((t) => subject.tags.includes(t))) continue;
    if (rule.builders && !patternMatches(rule.builders, subject.builderName)) continue;
    if (!out.includes(rule.to)) out.push(rule.to);
  }
  return out;
}

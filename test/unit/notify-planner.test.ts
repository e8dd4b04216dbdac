import { describe, expect, it } from 'vitest';
import type { NotifyRule } from '../../src/config/schema.js';
import { planAnnouncements, type PlanSettings } from '../../src/notify/planner.js';
import type { Transition } from '../../src/state/fleet.js';

const red = {
  master: 'lab',
  buildid: 7,
  builderid: 3,
  number: 21,
  results: 2,
  stateString: 'failed test (failure)',
  startedAt: 1,
  completeAt: 2,
};
const transition = (event: Transition['event'], tags = ['3.x', 'stable']): Transition => ({
  master: 'lab',
  event,
  builder: {
    master: 'lab',
    builderid: 3,
    name: 'AMD64 Debian root 3.x',
    tags,
    description: null,
    active: true,
  },
  build: red,
  previous: undefined,
  streak: undefined,
  sinceLastGood: [red],
  origin: 'stream',
});

const rules: NotifyRule[] = [
  { to: 'console', events: ['failure', 'exception'] },
  { to: 'irc:#stable', events: ['failure', 'recovery'], tags: ['stable'] },
  { to: 'console', events: ['failure', 'recovery'] },
];

/** What a plan records, as `kind event destination part`, and who is held back. */
function summary(event: Transition['event'], settings: Partial<PlanSettings>, tags?: string[]) {
  const plan = planAnnouncements(transition(event, tags), { rules, details: 'inline', ...settings });
  return {
    rows: plan.entries.map((e) =>
      [e.kind, e.event, e.destination, e.stored.part ?? 'whole', e.stored.transition?.event].join(' '),
    ),
    held: plan.held,
  };
}

describe('planAnnouncements', () => {
  it.each([
    {
      name: 'inline: one whole announcement per destination, each destination once',
      event: 'failure' as const,
      settings: {},
      rows: ['announcement failure console whole failure', 'announcement failure irc:#stable whole failure'],
      held: [],
    },
    {
      name: 'follow-up: a red build is a head and its details, side by side per destination',
      event: 'failure' as const,
      settings: { details: 'followup' as const },
      rows: [
        'announcement failure console head failure',
        'details failure console details failure',
        'announcement failure irc:#stable head failure',
        'details failure irc:#stable details failure',
      ],
      held: [],
    },
    {
      name: 'follow-up: a purple build is split too',
      event: 'exception' as const,
      settings: { details: 'followup' as const },
      rows: ['announcement exception console head exception', 'details exception console details exception'],
      held: [],
    },
    {
      name: 'follow-up: a recovery is never split',
      event: 'recovery' as const,
      settings: { details: 'followup' as const },
      rows: [
        'announcement recovery irc:#stable whole recovery',
        'announcement recovery console whole recovery',
      ],
      held: [],
    },
    {
      name: 'a muted destination is held back, the others hear it',
      event: 'failure' as const,
      settings: { details: 'followup' as const, muted: (d: string) => d === 'irc:#stable' },
      rows: ['announcement failure console head failure', 'details failure console details failure'],
      held: ['irc:#stable'],
    },
    {
      name: 'no rule for the event: nothing',
      event: 'flaky' as const,
      settings: {},
      rows: [],
      held: [],
    },
  ])('$name', ({ event, settings, rows, held }) => {
    expect(summary(event, settings)).toEqual({ rows, held });
  });

  it('a builder without the tag a rule asks for is not announced there', () => {
    expect(summary('failure', {}, ['3.x', 'unstable']).rows).toEqual([
      'announcement failure console whole failure',
    ]);
  });
});

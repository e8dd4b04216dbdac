import { describe, expect, it } from 'vitest';
import {
  classify,
  decideEvent,
  GREEN_OR_ORANGE,
  retriedBefore,
  streakStart,
} from '../../src/state/transitions.js';

const S = 0;
const W = 1;
const F = 2;
const K = 3; // skipped
const E = 4;
const R = 5;
const C = 6;
const b = (results: number | null) => ({ results });

describe('classify: which builds are announced', () => {
  // [current, previous builds newest first, expected event]
  const table: Array<[number, Array<number | null>, string | undefined]> = [
    [F, [S], 'failure'], // green → red
    [F, [W], 'failure'], // orange → red
    [F, [F], undefined], // red after red is not announced again
    [F, [F, S], undefined],
    [F, [R, S], 'failure'], // RETRY is skipped
    [F, [C, K, S], 'failure'], // CANCELLED and SKIPPED are skipped
    [F, [R, F], undefined],
    [F, [E, S], 'failure'], // purple is infrastructure: green → purple → red is turning red
    [F, [E, F], undefined],
    [F, [], undefined], // nothing known before: not a transition
    [F, [R, C], undefined],
    [S, [F], 'recovery'],
    [W, [F], 'recovery'],
    [S, [R, F], 'recovery'],
    [S, [E, F], 'recovery'],
    [S, [S], undefined],
    [S, [W], undefined],
    [W, [S], undefined],
    [E, [S], 'exception'],
    [E, [F], 'exception'],
    [E, [E], undefined], // purple after purple once
    [E, [R, E], undefined],
    [E, [], 'exception'],
    [R, [S], undefined],
    [C, [S], undefined],
    [K, [F], undefined],
  ];
  it.each(table)('current %i after %j → %s', (current, previous, expected) => {
    expect(classify(b(current), previous.map(b))).toBe(expected);
  });
});

describe('decideEvent: which builds are announced, and which go to infra', () => {
  // Builds as [result, infra]: a red whose state string names a compile or checkout step is infra.
  const I = 'infra';
  type B = [number, typeof I?];
  // [current, previous newest first, expected event, expected route]
  const table: Array<[B, B[], string | undefined, string | undefined]> = [
    [[F], [[S]], 'failure', undefined],
    [[F, I], [[S]], 'failure', 'infra'], // a compile red: infra, not failure
    [[F, I], [[F]], undefined, undefined], // red after red: quiet, whatever broke
    [[F, I], [[F, I]], undefined, undefined],
    [[F], [[F, I], [S]], 'failure', undefined], // the tests fail after a compile red: news for failure
    [[F], [[F, I], [R], [F, I], [S]], 'failure', undefined],
    [[F], [[F], [F, I], [S]], undefined, undefined], // the tests failed before: heard already
    [[F], [[F, I], [F], [S]], undefined, undefined],
    [[F], [[E], [F, I]], 'failure', undefined], // purple is skipped, as classify does
    [[S], [[F, I], [S]], 'recovery', 'infra'], // those who heard no red hear no recovery
    [
      [S],
      [
        [F, I],
        [F, I],
      ],
      'recovery',
      'infra',
    ],
    [[S], [[F], [F, I]], 'recovery', undefined],
    [[S], [[F, I], [F]], 'recovery', undefined],
    [[E], [[F, I]], 'exception', undefined],
    [[S], [[S]], undefined, undefined],
  ];
  it.each(table)('%j after %j → %s %s', (current, previous, event, route) => {
    const build = ([results, infra]: B) => ({ results, infra: infra === I });
    const decided = decideEvent(build(current), previous.map(build), (x) => x.infra);
    expect(decided?.event).toBe(event);
    expect(decided?.route).toBe(route);
  });
});

describe('streakStart', () => {
  it('finds the first build of the unbroken green streak', () => {
    const builds = [
      { results: S, n: 9 },
      { results: R, n: 8 },
      { results: W, n: 7 },
      { results: F, n: 6 },
      { results: S, n: 5 },
    ];
    expect(streakStart(builds, GREEN_OR_ORANGE)).toEqual({ first: builds[2], complete: true });
  });
  it('says when the history ran out before the streak began', () => {
    const builds = [
      { results: S, n: 3 },
      { results: S, n: 2 },
    ];
    expect(streakStart(builds, GREEN_OR_ORANGE)).toEqual({ first: builds[1], complete: false });
  });
  it('is undefined when the newest verdict is another colour', () => {
    expect(streakStart([{ results: F }], GREEN_OR_ORANGE)).toBeUndefined();
  });
});

describe('retriedBefore: the retried attempts an announcement names', () => {
  // [previous builds newest first, the numbers (index) of those named]
  const table: Array<[Array<number | null>, number[]]> = [
    [[R, S], [0]],
    [
      [R, C, R, S],
      [0, 2],
    ], // a cancelled build in between is not a verdict either
    [[S, R], []], // only those since the last verdict
    [[E, R, S], []], // purple is a verdict of its own (announced)
    [[F], []],
    [[], []],
  ];
  it.each(table)('before %j: %j', (previous, named) => {
    const builds = previous.map((results, i) => ({ results, i }));
    expect(retriedBefore(builds).map((x) => x.i)).toEqual(named);
  });
});

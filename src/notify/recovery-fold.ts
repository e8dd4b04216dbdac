/**
 * When the recoveries of a group's builders are named (issue 17: one message per failure, green
 * again included): the pure decision; the delivery queue gathers them and sends the line.
 */
import { greenAgain } from '../messages/group.js';
import type { GroupMember } from '../store/groups.js';

export interface RecoveryFoldInput {
  /** The group's red builds, the lead first. */
  members: readonly GroupMember[];
  /** Recoveries named before (in earlier lines). */
  named: readonly GroupMember[];
  /** Recoveries waiting to be named now. */
  gathered: readonly GroupMember[];
  /** When the first of the waiting ones was recorded (epoch ms). */
  firstAt: number;
  holdMs: number;
  now: number;
  /** Send whatever the rest says (shutting down; the builder is red again). */
  force: boolean;
}

export type RecoveryFold =
  | { kind: 'wait'; until: number }
  | {
      kind: 'send';
      /** The builders named green again in this line, each once, in the order they recovered. */
      builders: string[];
      /** The group's builders not green again, by name. */
      stillRed: string[];
      /** The group's builders, counted once each. */
      total: number;
      /** Every recovery named so far, this line's included: what the group records. */
      recovered: GroupMember[];
    };

/**
 * The line goes out once every builder of the group is green again, or once the first waiting
 * recovery has waited `holdMs` (or when forced); until then it waits.
 */
export function foldRecoveries(input: RecoveryFoldInput): RecoveryFold {
  const recovered = [...input.named, ...input.gathered];
  const green = greenAgain(input.members, recovered);
  const builders = [...new Set(input.members.map((m) => m.builder))];
  const stillRed = builders.filter((b) => !green.has(b));
  const until = input.firstAt + input.holdMs;
  if (stillRed.length > 0 && !input.force && input.now < until) return { kind: 'wait', until };
  return {
    kind: 'send',
    builders: [...new Set(input.gathered.map((b) => b.builder))],
    stillRed,
    total: builders.length,
    recovered,
  };
}

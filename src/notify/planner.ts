import type { NotifyRule } from '../config/schema.js';
import { SPLIT_EVENTS } from '../messages/announcement.js';
import type { Message } from '../messages/message.js';
import type { Transition } from '../state/fleet.js';
import type { OutboxKind } from '../store/outbox.js';
import { destinationsFor } from './rules.js';

/** What an outbox row keeps of an announcement: the transition, and the message once composed. */
export interface Stored {
  transition?: Transition;
  message?: Message;
  /** Of a split announcement: the head (sent at once) or the details (sent when known). */
  part?: 'head' | 'details';
}

/** One outbox row to record for a transition. */
export interface PlannedEntry {
  kind: Extract<OutboxKind, 'announcement' | 'details'>;
  event: string;
  destination: string;
  stored: Stored;
}

export interface Plan {
  /** In order; a destination's details row comes right after its announcement. */
  entries: PlannedEntry[];
  /** Destinations a mute covers: the transition is held back for them instead. */
  held: string[];
}

export interface PlanSettings {
  rules: readonly NotifyRule[];
  /** `followup`: failures and exceptions are announced as a head now and details later. */
  details: 'followup' | 'inline' | undefined;
  /** Whether a mute covers the transition for this destination. */
  muted?: (destination: string) => boolean;
}

/**
 * Who hears about a transition, and what is recorded for each: the pure decision of the delivery
 * path (no store, no clock), so that it is tested with tables.
 */
export function planAnnouncements(transition: Transition, settings: PlanSettings): Plan {
  const destinations = destinationsFor(settings.rules, {
    master: transition.master,
    // A red that is not a test's goes where `infra` is asked for (src/state/transitions.ts).
    event: transition.route ?? transition.event,
    builderName: transition.builder.name,
    tags: transition.builder.tags,
  });
  const split = settings.details === 'followup' && SPLIT_EVENTS.has(transition.event);
  const plan: Plan = { entries: [], held: [] };
  for (const destination of destinations) {
    if (settings.muted?.(destination)) {
      plan.held.push(destination);
      continue;
    }
    plan.entries.push({
      kind: 'announcement',
      event: transition.event,
      destination,
      stored: split ? { transition, part: 'head' } : { transition },
    });
    if (split) {
      plan.entries.push({
        // The same event as its head: the kind tells the two rows apart (src/store/outbox.ts).
        kind: 'details',
        event: transition.event,
        destination,
        stored: { transition, part: 'details' },
      });
    }
  }
  return plan;
}

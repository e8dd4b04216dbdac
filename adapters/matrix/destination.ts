/**
 * Matrix destinations as the core writes them: `matrix:<room id or alias>` for announcements, and
 * `matrix:<room id>#reply:<event id>` for the answer to one command (so that it is sent as a reply).
 */

export interface Destination {
  /** A room id (`!abc:server`) or alias (`#name:server`). */
  room: string;
  /** The event being answered. */
  replyTo?: string;
}

const REPLY = '#reply:';

export function parseDestination(destination: string): Destination {
  const rest = destination.startsWith('matrix:') ? destination.slice('matrix:'.length) : destination;
  // Room ids and aliases contain ':', event ids start with '$': split on the last `#reply:$`.
  const at = rest.lastIndexOf(`${REPLY}$`);
  const room = at > 0 ? rest.slice(0, at) : rest;
  if (!isRoomReference(room)) {
    throw new Error(
      `'${destination}' is not a Matrix room (write matrix:!id:server or matrix:#alias:server)`,
    );
  }
  return at > 0 ? { room, replyTo: rest.slice(at + REPLY.length) } : { room };
}

export function replyDestination(roomId: string, eventId: string): string {
  return `matrix:${roomId}${REPLY}${eventId}`;
}

/** `!opaque:server` or `#alias:server`. */
export function isRoomReference(text: string): boolean {
  return /^[!#][^:\s]+:[^\s]+$/.test(text);
}

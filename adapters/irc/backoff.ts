/**
 * How long to wait before reconnect attempt `attempt` (0 for the first): doubling from `minMs`
 * up to `maxMs`, with "equal jitter" (half fixed, half random) so that bots which lost the same
 * server do not all come back in the same second.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

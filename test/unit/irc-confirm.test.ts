import { describe, expect, it } from 'vitest';
import { Confirmations, type ConfirmationIo } from '../../adapters/irc/confirm.js';

/** A hand-driven connection: PINGs are written when the test says, PONGs arrive when it says. */
function harness() {
  const pings: Array<{ token: string; written: (err?: Error | null) => void }> = [];
  const timers: Array<{ fn: () => void; cleared: boolean }> = [];
  const io: ConfirmationIo = {
    ping: (token, written) => pings.push({ token, written }),
    setTimeout: (fn) => {
      const t = { fn, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimeout: (t) => {
      (t as { cleared: boolean }).cleared = true;
    },
  };
  return { io, pings, timers, c: new Confirmations(io, 30_000) };
}

function settled(p: Promise<void>) {
  const state = { value: 'pending' as 'pending' | 'resolved' | 'rejected', error: '' };
  p.then(
    () => (state.value = 'resolved'),
    (e: Error) => {
      state.value = 'rejected';
      state.error = e.message;
    },
  );
  return state;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('IRC confirmations', () => {
  it('an announcement is delivered only when the PONG to a later PING comes back', async () => {
    const { c, pings } = harness();
    const a = settled(c.confirmed());
    expect(pings.map((p) => p.token)).toEqual(['bbwatch-ack-1']);
    pings[0]?.written(null);
    await tick();
    expect(a.value).toBe('pending');
    c.pong('1796431043945'); // irc-framework's own keep-alive: not ours
    c.pong('bbwatch-ack-1');
    await tick();
    expect(a.value).toBe('resolved');
  });

  it('lines written while a PING waits for the flood bucket share it; later ones need the next', async () => {
    const { c, pings } = harness();
    const a = settled(c.confirmed());
    const b = settled(c.confirmed());
    expect(pings).toHaveLength(1);
    pings[0]?.written(null);
    const late = settled(c.confirmed());
    expect(pings.map((p) => p.token)).toEqual(['bbwatch-ack-1', 'bbwatch-ack-2']);
    c.pong('bbwatch-ack-1');
    await tick();
    expect([a.value, b.value, late.value]).toEqual(['resolved', 'resolved', 'pending']);
    pings[1]?.written(null);
    c.pong('bbwatch-ack-2');
    await tick();
    expect(late.value).toBe('resolved');
  });

  it('a connection that drops before the PONG fails what it had not confirmed, and what comes after', async () => {
    const { c, pings } = harness();
    const a = settled(c.confirmed());
    pings[0]?.written(null);
    c.close(new Error('disconnected from the IRC server before it confirmed the lines'));
    const after = settled(c.confirmed());
    c.pong('bbwatch-ack-1');
    await tick();
    expect(a).toEqual({
      value: 'rejected',
      error: 'disconnected from the IRC server before it confirmed the lines',
    });
    expect(after.value).toBe('rejected');
  });

  it('a PING that never reached the socket fails its waiters', async () => {
    const { c, pings } = harness();
    const a = settled(c.confirmed());
    pings[0]?.written(new Error('disconnected from the IRC server before the line was written'));
    await tick();
    expect(a).toEqual({
      value: 'rejected',
      error: 'disconnected from the IRC server before the line was written',
    });
  });

  it('a PONG that arrives before the PING write callback still confirms (TLS calls back late)', async () => {
    const { c, pings } = harness();
    const a = settled(c.confirmed());
    c.pong('bbwatch-ack-1');
    await tick();
    expect(a.value).toBe('resolved');
    pings[0]?.written(null);
    const next = settled(c.confirmed());
    expect(pings.map((p) => p.token)).toEqual(['bbwatch-ack-1', 'bbwatch-ack-2']);
    await tick();
    expect(next.value).toBe('pending');
  });

  it('a server that never answers fails the waiters after the timeout', async () => {
    const { c, pings, timers } = harness();
    const a = settled(c.confirmed());
    pings[0]?.written(null);
    timers[0]?.fn();
    await tick();
    expect(a).toEqual({ value: 'rejected', error: 'the IRC server did not confirm within 30 s' });
    c.pong('bbwatch-ack-1');
    await tick();
    expect(a.value).toBe('rejected');
  });
});

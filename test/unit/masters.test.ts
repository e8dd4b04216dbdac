/**
 * The operator's view of each master: one plain line per change of state, the reasons in words,
 * and what commands say while a master is away.
 */
import { createServer } from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { masterFailureReason } from '../../src/buildbot/failure.js';
import { BuildbotRest } from '../../src/buildbot/rest.js';
import { RequestBudget } from '../../src/buildbot/budget.js';
import { Bus, Events, type WatcherState } from '../../src/bus.js';
import { HttpError } from '../../src/errors.js';
import { MasterHealth, unreachableNote } from '../../src/state/masters.js';
import { silentLog } from '../support/fleet.js';

/** A logger that keeps what it was given. */
function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) },
  );
  return { log, lines };
}

describe('master health lines', () => {
  function setup() {
    const bus = new Bus();
    const { log, lines } = capture();
    let now = Date.parse('2026-12-04T14:02:00Z');
    const health = new MasterHealth(
      [{ name: 'cpython', url: 'https://buildbot.python.org/all/' }],
      bus,
      log,
      () => now,
    );
    const emit = (s: Omit<WatcherState, 'master'>, advanceMs = 0) => {
      now += advanceMs;
      bus.emit(Events.WatcherState, { master: 'cpython', ...s });
    };
    return { health, lines, emit, now: () => now };
  }

  it('says an outage once, with the next try, and the return with how long it lasted', () => {
    const { lines, emit, health } = setup();
    const down = { status: 'down' as const, reason: 'DNS lookup failed', detail: 'getaddrinfo ENOTFOUND' };
    emit({ ...down, retryInMs: 2000 });
    emit({ ...down, retryInMs: 4000 }, 2000);
    emit({ ...down, retryInMs: 8000 }, 4000);
    emit({ ...down, reason: 'connection refused', retryInMs: 16_000 }, 8000);
    emit({ status: 'connecting', transport: 'ws' }, 16_000);
    emit({ status: 'streaming', transport: 'ws', builders: 97 });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [
        40,
        'cpython: cannot reach https://buildbot.python.org/all/ (DNS lookup failed); retrying, next try in 2 s',
      ],
      [
        40,
        'cpython: cannot reach https://buildbot.python.org/all/ (connection refused); retrying, next try in 16 s',
      ],
      [40, 'cpython: connected again after 30 s, 97 builders, following over WebSocket'],
    ]);
    expect(health.links()[0]).toMatchObject({ state: 'following', feed: 'ws', builders: 97 });
  });

  it('a first connect is news at info level; reconnects of the same stream are not news', () => {
    const { lines, emit } = setup();
    emit({ status: 'connecting', transport: 'ws' });
    emit({ status: 'streaming', transport: 'ws', builders: 1 });
    emit({ status: 'connecting', transport: 'ws' }, 120_000);
    emit({ status: 'streaming', transport: 'ws', builders: 1 });
    emit({ status: 'polling', builders: 1 }, 60_000);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [30, 'cpython: connected, 1 builder, following over WebSocket'],
      [30, 'cpython: connected, 1 builder, following by polling'],
    ]);
  });

  it('a stream that keeps dropping is said once', () => {
    const { lines, emit } = setup();
    emit({ status: 'streaming', transport: 'sse', builders: 3 });
    for (let i = 0; i < 6; i++) {
      emit({ status: 'connecting', transport: 'sse' }, 60_000);
      emit({ status: 'streaming', transport: 'sse', builders: 3 });
    }
    expect(lines.map((l) => l.msg)).toEqual([
      'cpython: connected, 3 builders, following over server-sent events',
      'cpython: the event stream keeps dropping (3 times in 10 min); reconnecting and back-filling each time',
    ]);
  });

  it('commands say since when and why', () => {
    const { emit, health, now } = setup();
    emit({ status: 'down', reason: 'HTTP 503 Service Unavailable', retryInMs: 2000 });
    const link = health.links()[0];
    expect(link && unreachableNote(link, now() + 12 * 60_000)).toBe(
      'cpython has been unreachable since 14:02 UTC (12 min): HTTP 503 Service Unavailable',
    );
  });
});

describe('why a master cannot be used, in words', () => {
  const rest = (url: string) =>
    new BuildbotRest({
      baseUrl: url,
      budget: new RequestBudget(100, 10_000),
      timeoutMs: 300,
      log: silentLog,
      maxAttempts: 1,
    });
  const failure = (p: Promise<unknown>) => p.then(() => 'no error', masterFailureReason);

  it('connection refused, from a real refused connection', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    expect(await failure(rest(`http://127.0.0.1:${port}/`).builders())).toBe('connection refused');
  });

  it('no answer, from a real server that accepts and stays silent', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await failure(rest(`http://127.0.0.1:${port}/`).builders())).toBe('no answer within 300 ms');
    } finally {
      server.close();
    }
  });

  it('DNS and TLS failures as Node reports them', () => {
    // fetch() wraps the system error in a TypeError('fetch failed', { cause }).
    const dns = new TypeError('fetch failed', {
      cause: Object.assign(new Error('getaddrinfo ENOTFOUND buildbot.example'), { code: 'ENOTFOUND' }),
    });
    expect(masterFailureReason(dns)).toBe('DNS lookup failed');
    const tls = new TypeError('fetch failed', {
      cause: Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }),
    });
    expect(masterFailureReason(tls)).toBe('TLS certificate has expired');
    const other = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }),
    });
    expect(masterFailureReason(other)).toBe('TLS failed (ERR_SSL_WRONG_VERSION_NUMBER)');
  });

  it('HTTP errors with the status text and the master’s own words', () => {
    expect(masterFailureReason(new HttpError(503, 'https://m/api/v2/builders', 'an empty body'))).toBe(
      'HTTP 503 Service Unavailable',
    );
    expect(
      masterFailureReason(new HttpError(403, 'https://m/api/v2/builders', 'you need to have role(s) admin')),
    ).toBe('HTTP 403 Forbidden: you need to have role(s) admin');
  });
});

/**
 * The store's classes on both backends: SQLite (in memory) and PostgreSQL (a throwaway server on
 * loopback, test/support/postgres.ts; a fresh database per test). Same calls, same answers.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { analysis as baseAnalysis } from '../support/dashboard.js';
import type { RegrtestAnalysis } from '../../src/logs/regrtest.js';
import { lead } from '../../src/replica/leader.js';
import { BuildStore } from '../../src/store/builds.js';
import { ControlStore } from '../../src/store/control.js';
import { DashboardStore } from '../../src/store/dashboard.js';
import { Kysely, PostgresDialect, sql, SqliteDialect } from 'kysely';
import { type Db, inTransaction, migrate, openDb, type Schema, schemaVersion } from '../../src/store/db.js';
import { MetaStore } from '../../src/store/meta.js';
import { type NewOutboxEntry, Outbox } from '../../src/store/outbox.js';
import { openPostgres, poolConfig } from '../../src/store/pg.js';
import { ReportStore } from '../../src/store/reports.js';
import { cachingStatements, FifoLock, STATEMENTS } from '../../src/store/sqlite-dialect.js';
import { SubscriptionStore } from '../../src/store/subscriptions.js';
import { TestStore } from '../../src/store/tests.js';
import type { FailureCause } from '../../src/logs/failure-kind.js';
import { type Postgres, startPostgres } from '../support/postgres.js';
import { startProxy } from '../support/proxy.js';

let server: Postgres | undefined;
let databases = 0;
const opened: Db[] = [];

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  for (const db of opened) await db.destroy();
  server?.stop();
});

const BACKENDS: Array<[string, () => Promise<Db>]> = [
  ['sqlite', () => openDb(':memory:')],
  [
    'postgres',
    async () => {
      if (!server) throw new Error('no PostgreSQL server');
      return openPostgres(server.createDatabase(`store_${++databases}`));
    },
  ],
];

/** A red build's analysis (the shared builder's defaults, with a failing result and seed 1). */
const analysis = (part: Partial<RegrtestAnalysis>): RegrtestAnalysis =>
  baseAnalysis({ result: 'FAILURE', seed: 1, ...part });

describe.each(BACKENDS)('store on %s', (_name, open) => {
  const fresh = async (): Promise<Db> => {
    const db = await open();
    opened.push(db);
    return db;
  };

  it('outbox: records once, lists pending in order, marks sent and failed, counts', async () => {
    const outbox = new Outbox(await fresh());
    const a = await outbox.add(
      {
        kind: 'announcement',
        master: 'lab',
        buildid: 1,
        event: 'failure',
        destination: 'console',
        message: '{"a":1}',
      },
      1_000,
    );
    const b = await outbox.add(
      {
        kind: 'announcement',
        master: 'lab',
        buildid: 2,
        event: 'failure',
        destination: 'console',
        message: '{"b":2}',
      },
      2_000,
    );
    expect(a?.id).toBeGreaterThan(0);
    expect(b?.id).toBeGreaterThan(a?.id ?? Infinity);
    expect(
      await outbox.add(
        {
          kind: 'announcement',
          master: 'lab',
          buildid: 1,
          event: 'failure',
          destination: 'console',
          message: '{"again":1}',
        },
        3_000,
      ),
    ).toBeUndefined();
    expect((await outbox.pending()).map((e) => [e.buildid, e.message, e.createdAt, e.attempts])).toEqual([
      [1, '{"a":1}', 1_000, 0],
      [2, '{"b":2}', 2_000, 0],
    ]);
    await outbox.setMessage(a?.id ?? 0, '{"composed":true}');
    await outbox.markSent(a?.id ?? 0, 1_700_000_000_123);
    await outbox.markFailed(b?.id ?? 0, 'x'.repeat(600), false);
    expect(await outbox.pending()).toEqual([
      expect.objectContaining({ buildid: 2, attempts: 1, status: 'pending' }),
    ]);
    expect(await outbox.lastSent('console', 'failure')).toBe(1_700_000_000_123);
    expect(await outbox.lastSent('console', 'recovery')).toBeUndefined();
    expect(await outbox.count('sent')).toBe(1);
    expect(await outbox.count('pending')).toBe(1);
    await outbox.markFailed(b?.id ?? 0, 'gone', true);
    expect(await outbox.count('failed')).toBe(1);
    expect(await outbox.pending()).toEqual([]);
  });

  it('builds: each build once, newest first; builders replaced and deactivated', async () => {
    const db = await fresh();
    const builds = new BuildStore(db);
    const build = (buildid: number, number: number, results: number | null) => ({
      master: 'lab',
      buildid,
      builderid: 7,
      number,
      results,
      stateString: `build ${number}`,
      startedAt: 1_700_000_000 + number,
      completeAt: 1_700_000_100 + number,
    });
    expect(await builds.addBuild(build(10, 1, 0))).toBe(true);
    expect(await builds.addBuild(build(10, 1, 0))).toBe(false);
    expect(await builds.addBuild(build(11, 2, 2))).toBe(true);
    expect(await builds.addBuild(build(12, 3, null))).toBe(true);
    expect(await builds.hasBuild('lab', 11)).toBe(true);
    expect(await builds.hasBuild('lab', 99)).toBe(false);
    expect(await builds.recentBuilds('lab', 7, 2)).toEqual([build(12, 3, null), build(11, 2, 2)]);
    const builder = (builderid: number, name: string) => ({
      master: 'lab',
      builderid,
      name,
      tags: ['3.x', 'stable'],
      description: null,
      active: true,
    });
    await builds.replaceBuilders('lab', [builder(7, 'AMD64 3.x'), builder(8, 'ARM 3.x')]);
    await builds.replaceBuilders('lab', [builder(7, 'AMD64 3.x renamed')]);
    expect((await builds.builders('lab')).sort((a, b) => a.builderid - b.builderid)).toEqual([
      builder(7, 'AMD64 3.x renamed'),
      { ...builder(8, 'ARM 3.x'), active: false },
    ]);
    // A failing statement inside a transaction undoes the whole of it.
    await expect(
      db.transaction().execute(async (tx) => {
        await new BuildStore(tx).addBuild(build(13, 4, 0));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await builds.hasBuild('lab', 13)).toBe(false);
    // Nested transactions: the inner one's failure undoes only the inner part.
    await db.transaction().execute(async (tx) => {
      const inner = new BuildStore(tx);
      await inner.addBuild(build(14, 5, 0));
      try {
        await inTransaction(tx, async (nested) => {
          await new BuildStore(nested).addBuild(build(15, 6, 0));
          throw new Error('inner');
        });
      } catch {
        // expected
      }
    });
    expect([await builds.hasBuild('lab', 14), await builds.hasBuild('lab', 15)]).toEqual([true, false]);
  });

  it('meta: set, replace, get', async () => {
    const meta = new MetaStore(await fresh());
    expect(await meta.get('cursor')).toBeUndefined();
    await meta.set('cursor', '1');
    await meta.set('cursor', '2');
    await meta.set("it's", 'quoted ? and @name stay text');
    expect(await meta.get('cursor')).toBe('2');
    expect(await meta.get("it's")).toBe('quoted ? and @name stay text');
  });

  it('tests: why a build failed is kept with its analysis, also for a build without a test log', async () => {
    const store = new TestStore(await fresh());
    const cause: FailureCause = {
      kind: 'timeout',
      step: 'test',
      timeout: { seconds: 1200, reason: 'silence' },
      running: ['test_concurrent_futures.test_deadlock'],
      logUrl: 'http://lab/#/builders/7/builds/3/steps/2/logs/stdio',
      excerpt: ['0:00:00 load avg: 1.54 [1/4] test_concurrent_futures.test_deadlock \u2018quoted\u2019'],
    };
    const hung = analysis({
      result: undefined,
      partial: true,
      running: ['test_concurrent_futures.test_deadlock'],
    });
    const key = { master: 'lab', buildid: 5, builderid: 7, number: 3 };
    await store.saveDone(
      key,
      hung,
      'http://lab/log',
      { name: 'AMD64 3.x', branch: '3.x' },
      1_700_000_000,
      5_000,
      cause,
    );
    expect(await store.get('lab', 5)).toEqual(
      expect.objectContaining({ status: 'done', analysis: hung, cause }),
    );
    // A compile failure: no test log, only the cause.
    const compile: FailureCause = {
      kind: 'compile',
      step: 'compile',
      detail: 'x.c:1:1: error: no',
      excerpt: [],
    };
    await store.saveDone(
      { ...key, buildid: 6, number: 4 },
      undefined,
      undefined,
      { name: 'AMD64 3.x', branch: '3.x' },
      1_700_000_100,
      6_000,
      compile,
    );
    expect(await store.get('lab', 6)).toEqual(
      expect.objectContaining({ status: 'done', analysis: undefined, logUrl: undefined, cause: compile }),
    );
    // saveDone replaces the row: the analyzer passes the cause it has when it reads a log again.
    await store.saveDone(
      key,
      hung,
      'http://lab/log',
      { name: 'AMD64 3.x', branch: '3.x' },
      1_700_000_000,
      7_000,
    );
    expect((await store.get('lab', 5))?.cause).toBeUndefined();
  });

  it('failure reasons: written with the analysis, replaced when it is saved again, found by reason', async () => {
    const db = await fresh();
    const store = new TestStore(db);
    /** A build whose test_os.test_write failed with `error`. */
    const failing = (error: string) =>
      analysis({
        failed: ['test_os'],
        cases: { test_os: ['test_write'] },
        tracebacks: {
          test_os: [
            'Traceback (most recent call last):',
            '  File "/tmp/w/Lib/test/test_os.py", line 12, in test_write',
            error,
          ],
        },
      });
    const save = (buildid: number, a: RegrtestAnalysis, at: number, workers: string[] = []) =>
      store.saveDone(
        { master: 'lab', buildid, builderid: buildid % 3, number: buildid },
        a,
        undefined,
        { name: `builder ${buildid % 3}`, branch: '3.x' },
        at,
        at * 1000,
        undefined,
        workers,
      );
    // The same failure on two workers (other numbers, addresses and worker names), an old one,
    // and another assertion.
    await save(10, failing('AssertionError: 3 != 4 at 0x7f00aa on w-alpha'), 1_700_000_000, ['w-alpha']);
    await save(11, failing('AssertionError: 5 != 6 at 0x7f00bb on w-beta'), 1_700_000_500, ['w-beta']);
    await save(12, failing('AssertionError: 1 != 2 at 0x7f00cc on w-alpha'), 1_600_000_000, ['w-alpha']);
    await save(13, failing('AssertionError: file is missing'), 1_700_000_600);
    const key = 'test_os.test_write\nAssertionError: <n> != <n> at <hex> on <worker>';
    expect(await store.reasonsOf('lab', 10)).toEqual([{ key, test: 'test_os' }]);
    const same = (since: number) =>
      store.sameReason([key], since, { master: 'lab', buildid: 10 }, 8).then((r) => r.map((b) => b.buildid));
    expect(await same(1_699_000_000)).toEqual([11]);
    expect(await same(0)).toEqual([11, 12]); // newest first
    expect(
      (await store.sameReason([key], 0, { master: 'lab', buildid: 10 }, 1)).map((b) => b.buildid),
    ).toEqual([11]);
    expect((await store.sameReason([key], 0, { master: 'lab', buildid: 10 }, 8))[0]).toEqual({
      master: 'lab',
      buildid: 11,
      builderid: 2,
      number: 11,
      builder: 'builder 2',
      key,
      completedAt: 1_700_000_500,
    });
    // Saved again (its tests passed on a re-read): its reasons go.
    await save(11, analysis({ failed: [] }), 1_700_000_500);
    expect(await store.reasonsOf('lab', 11)).toEqual([]);
    expect(await same(0)).toEqual([12]);
  });

  it('tests: the analysis queue, outcomes, history and known issues', async () => {
    const db = await fresh();
    const store = new TestStore(db);
    const key = { master: 'lab', buildid: 5, builderid: 7, number: 3 };
    expect(await store.enqueue(key, true, 1_000)).toBe(true);
    expect(await store.enqueue(key, true, 2_000)).toBe(false);
    expect(await store.enqueue({ ...key, buildid: 6, number: 4 }, false, 1_500)).toBe(true);
    expect((await store.pending()).map((a) => [a.buildid, a.announce, a.status])).toEqual([
      [5, true, 'pending'],
      [6, false, 'pending'],
    ]);
    await store.saveFailed('lab', 6, 'log unreadable', false);
    expect(await store.get('lab', 6)).toEqual(
      expect.objectContaining({ attempts: 1, error: 'log unreadable' }),
    );
    const a = analysis({ failed: ['test_os', 'test_100%_done'], flaky: ['test_ssl'] });
    await store.saveDone(
      key,
      a,
      'http://lab/log',
      { name: 'AMD64 3.x', branch: '3.x' },
      1_700_000_000,
      5_000,
    );
    expect(await store.get('lab', 5)).toEqual(
      expect.objectContaining({ status: 'done', analysis: a, logUrl: 'http://lab/log', attempts: 1 }),
    );
    expect(await new ReportStore(db).analysisPending()).toBe(1);
    await store.saveDone(
      { ...key, buildid: 8, number: 5 },
      analysis({ flaky: ['test_ssl'] }),
      'http://lab/log2',
      { name: 'ARM 3.x', branch: null },
      1_700_000_500,
    );
    expect(await store.resolveTest('test.test_os')).toEqual(['test_os']);
    expect(await store.resolveTest('test_100%')).toEqual(['test_100%_done']);
    expect(await store.resolveTest('test_')).toEqual(['test_100%_done', 'test_os', 'test_ssl']);
    expect(await store.stats('test_ssl', 0)).toEqual({
      test: 'test_ssl',
      counts: { flaky: 2 },
      builds: 2,
      builders: ['AMD64 3.x', 'ARM 3.x'],
      branches: ['3.x'],
      firstAt: 1_700_000_000,
      lastAt: 1_700_000_500,
      latest: { master: 'lab', builderid: 7, number: 5, builder: 'ARM 3.x', outcome: 'flaky' },
    });
    expect((await store.flakiest(0, 5)).map((s) => s.test)).toEqual(['test_ssl']);
    expect(await store.flakyCounts(['test_ssl', 'test_os'], 1_700_000_100)).toEqual(
      new Map([
        ['test_ssl', 1],
        ['test_os', 0],
      ]),
    );
    expect(await store.addKnown('test_os', 'gh-1', 'Debian', 'console', 1)).toBe(true);
    expect(await store.addKnown('test_os', 'gh-1', 'Debian', 'console', 2)).toBe(false);
    expect(await store.addKnown('test_os', 'gh-2', null, null, 3)).toBe(true);
    expect((await store.knownFor('test_os', 'AMD64 Debian 3.x')).map((k) => k.issue)).toEqual([
      'gh-1',
      'gh-2',
    ]);
    expect(await store.removeKnown('test_os', 'gh-1')).toBe(1);
    expect(await store.removeKnown('test_os')).toBe(1);
    expect(await store.knownIssues()).toEqual([]);
  });

  it('reports: builds in a period, colours before it, first failures, flaky counts', async () => {
    const db = await fresh();
    const builds = new BuildStore(db);
    await builds.replaceBuilders('lab', [
      { master: 'lab', builderid: 7, name: 'AMD64 3.x', tags: [], description: null, active: true },
    ]);
    for (const [buildid, number, results, at] of [
      [1, 1, 0, 100],
      [2, 2, 2, 200],
      [3, 3, 0, 300],
    ] as const) {
      await builds.addBuild({
        master: 'lab',
        buildid,
        builderid: 7,
        number,
        results,
        stateString: '',
        startedAt: at - 10,
        completeAt: at,
      });
    }
    const reports = new ReportStore(db);
    expect(await reports.buildsBetween(150, 400)).toEqual([
      { master: 'lab', builderid: 7, builder: 'AMD64 3.x', number: 2, results: 2, completeAt: 200 },
      { master: 'lab', builderid: 7, builder: 'AMD64 3.x', number: 3, results: 0, completeAt: 300 },
    ]);
    expect(await reports.lastBefore(250)).toEqual([
      { master: 'lab', builderid: 7, builder: 'AMD64 3.x', number: 2, results: 2, completeAt: 200 },
    ]);
    const tests = new TestStore(db);
    const save = (buildid: number, builder: string, at: number, a: Partial<RegrtestAnalysis>) =>
      tests.saveDone(
        { master: 'lab', buildid, builderid: 7, number: buildid },
        analysis(a),
        '',
        { name: builder, branch: '3.x' },
        at,
      );
    await save(1, 'AMD64 3.x', 100, { failed: ['test_old'] });
    await save(2, 'AMD64 3.x', 200, { failed: ['test_old', 'test_new'], flaky: ['test_ssl'] });
    await save(3, 'ARM 3.x', 300, { failed: ['test_new'], flaky: ['test_ssl'] });
    expect(await reports.firstFailures(150, 400)).toEqual([
      { test: 'test_new', firstAt: 200, builds: 2, builders: ['AMD64 3.x', 'ARM 3.x'] },
    ]);
    expect(await reports.flakyBetween(150, 250)).toEqual(new Map([['test_ssl', 1]]));
  });

  it('subscriptions and mutes: set, replace, list; mutes hold, extend, end', async () => {
    const store = new SubscriptionStore(await fresh());
    await store.setSubscription({
      room: 'irc:#a',
      event: 'failure',
      enabled: true,
      branches: ['3.x'],
      setAt: 5,
    });
    await store.setSubscription({
      room: 'irc:#a',
      event: 'failure',
      enabled: false,
      setBy: 'irc:bob',
      setAt: 6,
    });
    await store.setSubscription({
      room: 'console',
      event: 'flaky',
      enabled: true,
      tags: ['stable'],
      builders: 'Deb',
      setAt: 1,
    });
    expect(await store.subscriptions()).toEqual([
      { room: 'console', event: 'flaky', enabled: true, tags: ['stable'], builders: 'Deb', setAt: 1 },
      { room: 'irc:#a', event: 'failure', enabled: false, setBy: 'irc:bob', setAt: 6 },
    ]);
    const room = await store.addMute('room', 'irc:#a', 1_000, 2_000, 'irc:bob');
    const builder = await store.addMute('builder', 'AMD64 3.x', 1_000, 3_000);
    expect(builder).toBeGreaterThan(room);
    await store.setUntil(room, 2_500);
    await store.hold(room, 'irc:#a', 'one', 1_100);
    await store.hold(room, 'irc:#a', 'two', 1_200);
    await store.hold(room, 'irc:#b', 'three', 1_300);
    expect(await store.held(room)).toEqual(
      new Map([
        ['irc:#a', ['one', 'two']],
        ['irc:#b', ['three']],
      ]),
    );
    await store.endMute(room, 2_600);
    expect(await store.activeMutes()).toEqual([
      { id: builder, kind: 'builder', target: 'AMD64 3.x', startedAt: 1_000, until: 3_000 },
    ]);
  });

  it('control: audit trail, rate counts, follow-ups', async () => {
    const store = new ControlStore(await fresh());
    const entry = {
      platform: 'irc',
      room: '#a',
      identity: 'irc:bob',
      name: 'bob',
      command: 'force',
      args: ['AMD64 3.x'],
      outcome: 'started',
    };
    await store.audit(entry, 1_000);
    await store.audit({ ...entry, outcome: 'refused' }, 1_500);
    await store.audit({ ...entry, outcome: 'stopped', master: 'lab', detail: 'ok' }, 2_000);
    expect(await store.sentSince('irc:bob', 1_200)).toBe(1);
    expect(await store.sentSince('irc:bob', 0)).toBe(2);
    expect((await store.auditTrail(2)).map((e) => [e.at, e.outcome, e.master])).toEqual([
      [2_000, 'stopped', 'lab'],
      [1_500, 'refused', undefined],
    ]);
    await store.addFollowUp(
      { master: 'lab', brid: 4, room: '#a', requester: 'bob', identity: 'irc:bob' },
      100,
    );
    await store.addFollowUp(
      { master: 'lab', brid: 4, room: '#a', requester: 'bob', identity: 'irc:bob' },
      200,
    );
    await store.addFollowUp(
      { master: 'lab', brid: 5, room: '#a', requester: 'eve', identity: undefined },
      300,
    );
    const [first, second] = await store.open();
    expect(await store.open()).toHaveLength(2);
    await store.markStarted(first?.id ?? 0, 77, 400);
    await store.markFinished(first?.id ?? 0, 77, 500);
    expect(await store.open()).toEqual([expect.objectContaining({ brid: 5, identity: null, buildid: null })]);
    expect(await store.expire(1_000, 1_100)).toBe(1);
    expect(await store.open()).toEqual([]);
    expect(second?.requester).toBe('eve');
  });
});

/** Rows a user's store holds, written with the SQL of the schema bbwatch 0.1.0 created. */
const OLD_ROWS = `
  INSERT INTO builders (master, builderid, name, tags) VALUES ('lab', 7, 'AMD64 3.x', '["3.x"]');
  INSERT INTO builds (master, buildid, builderid, number, results, state_string, started_at, complete_at)
    VALUES ('lab', 70, 7, 1, 2, 'failed test', 1700000000, 1700000600);
  INSERT INTO announcements (master, buildid, event, destination, status, message, created_at)
    VALUES ('lab', 70, 'failure', 'console', 'pending', '{}', 1700000600000);
  INSERT INTO announcements (master, buildid, event, destination, status, message, created_at) VALUES
    ('lab', 70, 'failure:details', 'console', 'sent', '{}', 1700000600000),
    ('lab', 70, 'force-finished', 'irc:#py', 'sent', '{}', 1700000600000),
    ('', 28333343, 'digest', 'irc:#py', 'sent', '{}', 1700000600000),
    ('', 3, 'mute-summary', 'irc:#py', 'sent', '{}', 1700000600000),
    ('lab', 12, 'worker-missing:1700000000', 'irc:#py', 'sent', '{}', 1700000600000);
  INSERT INTO meta (key, value) VALUES ('cursor:lab', '1700000600');
  INSERT INTO analyses (master, buildid, builderid, number, status, created_at)
    VALUES ('lab', 70, 7, 1, 'pending', 1700000600000);
`;

describe('stores written by bbwatch 0.1.0 (schema 5, SQL text migrations)', () => {
  const fixture = (name: string) =>
    readFileSync(new URL(`../fixtures/store/${name}`, import.meta.url), 'utf8');
  const carryOn = async (db: Db) => {
    opened.push(db);
    expect(await new BuildStore(db).recentBuilds('lab', 7, 5)).toEqual([
      expect.objectContaining({ buildid: 70, number: 1, results: 2, completeAt: 1_700_000_600 }),
    ]);
    expect((await new Outbox(db).pending()).map((e) => [e.buildid, e.event])).toEqual([[70, 'failure']]);
    expect(await new MetaStore(db).get('cursor:lab')).toBe('1700000600');
    // Migration 6 ran: the analysis takes a cause.
    const cause: FailureCause = { kind: 'compile', step: 'compile', detail: 'x.c: error', excerpt: [] };
    const store = new TestStore(db);
    await store.saveDone(
      { master: 'lab', buildid: 70, builderid: 7, number: 1 },
      undefined,
      undefined,
      { name: 'AMD64 3.x', branch: '3.x' },
      1_700_000_600,
      1,
      cause,
    );
    expect((await store.get('lab', 70))?.cause).toEqual(cause);
    // Migrations 8 and 9 ran: each row says what it is and what it is about, as its event and its
    // borrowed columns told before.
    expect(
      await db.selectFrom('announcements').select(['kind', 'subject', 'event']).orderBy('id').execute(),
    ).toEqual([
      { kind: 'announcement', subject: 'build:lab:70', event: 'failure' },
      { kind: 'details', subject: 'build:lab:70', event: 'failure' },
      { kind: 'follow-up', subject: 'build:lab:70', event: 'force-finished' },
      { kind: 'digest', subject: 'digest:28333343', event: 'digest' },
      { kind: 'mute-summary', subject: 'mute:3', event: 'mute-summary' },
      { kind: 'worker', subject: 'worker:lab:12:1700000000', event: 'worker-missing' },
    ]);
    // New rows get ids after the old ones.
    const next = await new Outbox(db).add({
      kind: 'announcement',
      master: 'lab',
      buildid: 71,
      event: 'failure',
      destination: 'console',
      message: '{}',
    });
    expect(next?.id).toBe(7);
  };

  it('SQLite: opens, keeps its data and migrates on', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bbwatch-store-')), 'bbwatch.sqlite');
    const old = new Database(file);
    old.exec(fixture('sqlite-schema-5.sql'));
    old.exec(OLD_ROWS);
    old.close();
    await carryOn(await openDb(file));
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(schemaVersion());
    check.close();
  });

  it('PostgreSQL: opens, keeps its data and migrates on', async () => {
    if (!server) throw new Error('no PostgreSQL server');
    const url = server.createDatabase(`old_${++databases}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(fixture('postgres-schema-5.sql'));
    await client.query(OLD_ROWS);
    await client.end();
    const db = await openPostgres(url);
    await carryOn(db);
    const { rows } = await sql<{ v: number }>`SELECT MAX(version) AS v FROM schema_version`.execute(db);
    expect(rows[0]?.v).toBe(schemaVersion());
  });
});

/**
 * A row of each kind as bbwatch wrote them at schema 8: digests and mute summaries in `buildid`
 * (master ''), a worker alert's worker in `buildid` and the second it left in its event, details by
 * an event suffix.
 */
const ROWS_AT_8 = `INSERT INTO announcements
  (kind, master, buildid, event, destination, status, message, created_at, sent_at) VALUES
  ('announcement', 'lab', 70, 'failure', 'console', 'sent', '{}', 1700000600000, 1700000601000),
  ('details', 'lab', 70, 'failure:details', 'console', 'sent', '{}', 1700000600000, 1700000602000),
  ('announcement', 'lab', 72, 'recovery', 'irc:#py', 'pending', '{"p":1}', 1700000900000, NULL),
  ('follow-up', 'lab', 71, 'force-finished', 'irc:#py', 'sent', '{}', 1700000700000, 1700000700000),
  ('digest', '', 1700000040, 'digest', 'irc:#py', 'sent', '{}', 1700000040000, 1700000041000),
  ('mute-summary', '', 3, 'mute-summary', 'irc:#py', 'sent', '{}', 1700000800000, 1700000800000),
  ('worker', 'lab', 12, 'worker-missing:1700000000', 'irc:#py', 'sent', '{}', 1700000300000, 1700000300000),
  ('worker', 'lab', 12, 'worker-back:1700000000', 'irc:#py', 'failed', '{}', 1700000500000, NULL)`;

/** The same messages again, as today's producers record them: each must be refused. */
const AGAIN: NewOutboxEntry[] = [
  {
    kind: 'announcement',
    master: 'lab',
    buildid: 70,
    event: 'failure',
    destination: 'console',
    message: '{}',
  },
  { kind: 'details', master: 'lab', buildid: 70, event: 'failure', destination: 'console', message: '{}' },
  {
    kind: 'announcement',
    master: 'lab',
    buildid: 72,
    event: 'recovery',
    destination: 'irc:#py',
    message: '{}',
  },
  {
    kind: 'follow-up',
    master: 'lab',
    buildid: 71,
    event: 'force-finished',
    destination: 'irc:#py',
    message: '{}',
  },
  { kind: 'digest', minute: 1_700_000_040, destination: 'irc:#py', message: '{}' },
  { kind: 'mute-summary', muteId: 3, destination: 'irc:#py', message: '{}' },
  ...(['worker-missing', 'worker-back'] as const).map((event): NewOutboxEntry => ({
    kind: 'worker',
    master: 'lab',
    workerid: 12,
    event,
    since: 1_700_000_000_456,
    destination: 'irc:#py',
    message: '{}',
  })),
];

/** Their neighbours (another minute, mute, absence, destination, event): each is new. */
const NEIGHBOURS: NewOutboxEntry[] = [
  {
    kind: 'announcement',
    master: 'lab',
    buildid: 70,
    event: 'failure',
    destination: 'irc:#py',
    message: '{}',
  },
  { kind: 'details', master: 'lab', buildid: 72, event: 'recovery', destination: 'irc:#py', message: '{}' },
  {
    kind: 'announcement',
    master: 'lab',
    buildid: 71,
    event: 'force-finished',
    destination: 'irc:#py',
    message: '{}',
  },
  { kind: 'digest', minute: 1_700_000_100, destination: 'irc:#py', message: '{}' },
  { kind: 'mute-summary', muteId: 4, destination: 'irc:#py', message: '{}' },
  {
    kind: 'worker',
    master: 'lab',
    workerid: 12,
    event: 'worker-missing',
    since: 1_700_000_999_000,
    destination: 'irc:#py',
    message: '{}',
  },
];

describe('an outbox at schema 8, migrated to its once-only key (migration 9)', () => {
  /** Runs migrations 1 to 8 over `db` (the rest of the store is as it was then), then adds the rows. */
  const upTo8 = async (
    db: Kysely<Schema>,
    dialect: 'sqlite' | 'postgres',
    recordVersion: (tx: Db, v: number) => Promise<unknown>,
  ) => {
    for (let i = 0; i < 8; i++) {
      await db.transaction().execute(async (tx) => {
        await migrate(tx, dialect, i);
        await recordVersion(tx, i + 1);
      });
    }
    await sql.raw(ROWS_AT_8).execute(db);
  };

  const carriedOver = async (db: Db) => {
    opened.push(db);
    expect(
      await db
        .selectFrom('announcements')
        .select(['id', 'kind', 'subject', 'event', 'master', 'buildid', 'destination', 'status'])
        .orderBy('id')
        .execute(),
    ).toEqual(
      [
        [1, 'announcement', 'build:lab:70', 'failure', 'lab', 70, 'console', 'sent'],
        [2, 'details', 'build:lab:70', 'failure', 'lab', 70, 'console', 'sent'],
        [3, 'announcement', 'build:lab:72', 'recovery', 'lab', 72, 'irc:#py', 'pending'],
        [4, 'follow-up', 'build:lab:71', 'force-finished', 'lab', 71, 'irc:#py', 'sent'],
        [5, 'digest', 'digest:1700000040', 'digest', null, null, 'irc:#py', 'sent'],
        [6, 'mute-summary', 'mute:3', 'mute-summary', null, null, 'irc:#py', 'sent'],
        [7, 'worker', 'worker:lab:12:1700000000', 'worker-missing', 'lab', null, 'irc:#py', 'sent'],
        [8, 'worker', 'worker:lab:12:1700000000', 'worker-back', 'lab', null, 'irc:#py', 'failed'],
      ].map(([id, kind, subject, event, master, buildid, destination, status]) => ({
        id,
        kind,
        subject,
        event,
        master,
        buildid,
        destination,
        status,
      })),
    );
    const outbox = new Outbox(db);
    // New rows first: they take ids after the old ones (an id taken twice would be refused too).
    const added = [];
    for (const entry of NEIGHBOURS) added.push((await outbox.add(entry, 1_700_001_000_000))?.id);
    expect(added).toEqual([9, 10, 11, 12, 13, 14]);
    for (const entry of AGAIN) expect(await outbox.add(entry), JSON.stringify(entry)).toBeUndefined();
    expect(await outbox.lastSent('console', 'failure')).toBe(1_700_000_601_000);
    expect((await outbox.pending()).map((e) => [e.id, e.message])).toEqual([
      [3, '{"p":1}'],
      ...added.map((id) => [id, '{}']),
    ]);
  };

  /** A fresh PostgreSQL database at schema 8, as an old bbwatch left it; its URL and a handle. */
  async function postgresAt8(): Promise<{ url: string; db: Kysely<Schema> }> {
    if (!server) throw new Error('no PostgreSQL server');
    const url = server.createDatabase(`at8_${++databases}`);
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: new pg.Pool(poolConfig(url)) }) });
    // The version table as src/store/pg.ts keeps it.
    await sql`CREATE TABLE schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`.execute(
      db,
    );
    await upTo8(db, 'postgres', (tx, v) =>
      sql`INSERT INTO schema_version (version, applied_at) VALUES (${v}, ${0})`.execute(tx),
    );
    return { url, db };
  }

  it('SQLite', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bbwatch-store-')), 'bbwatch.sqlite');
    const handle = new Database(file);
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: handle }) });
    await upTo8(db, 'sqlite', (tx, v) => sql.raw(`PRAGMA user_version = ${v}`).execute(tx));
    await db.destroy();
    await carriedOver(await openDb(file));
  });

  it('PostgreSQL', async () => {
    const { url, db } = await postgresAt8();
    await db.destroy();
    await carriedOver(await openPostgres(url));
  });

  it('PostgreSQL: a long outbox migrates though ordinary statements get a few milliseconds', async () => {
    const { url, db } = await postgresAt8();
    await sql`INSERT INTO announcements (kind, master, buildid, event, destination, status, message, created_at, sent_at)
      SELECT 'announcement', 'lab', n, 'failure', 'irc:#bulk', 'sent', '{}', 1700000000000 + n, 1700000000000 + n
      FROM generate_series(1000, 60999) AS n`.execute(db);
    await db.destroy();
    // 60,000 rows take far longer to copy than 20 ms: only the migration's own limit lets it finish.
    await (await openPostgres(url, { timeouts: { statementMs: 20 } })).destroy();
    const migrated = await openPostgres(url);
    opened.push(migrated);
    const count = await migrated
      .selectFrom('announcements')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(60_008);
  });
});

describe('the SQLite connection (src/store/sqlite-dialect.ts)', () => {
  it('serves callers waiting for the connection in the order they came, each once', async () => {
    const lock = new FifoLock();
    const order: number[] = [];
    await lock.acquire();
    const waiting = [1, 2, 3].map((n) => lock.acquire().then(() => order.push(n)));
    expect(lock.queued).toBe(3);
    for (let i = 0; i < 3; i++) {
      lock.release();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
    lock.release();
    // Free again: the next caller gets it at once.
    await lock.acquire();
    expect(lock.queued).toBe(0);
  });

  it('runs many concurrent queries to completion, each with its own answer', async () => {
    const db = await openDb(':memory:');
    opened.push(db);
    const meta = new MetaStore(db);
    await Promise.all(Array.from({ length: 500 }, (_, i) => meta.set(`k${i}`, String(i))));
    const values = await Promise.all(Array.from({ length: 500 }, (_, i) => meta.get(`k${i}`)));
    expect(values).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
  });

  it('prepares each SQL text once, keeping the most recently used statements', () => {
    const file = new Database(':memory:');
    let prepared = 0;
    const db = cachingStatements({
      prepare: (sql: string) => {
        prepared++;
        return file.prepare(sql);
      },
      close: () => file.close(),
    } as unknown as Database.Database);
    const a = db.prepare('SELECT 1');
    expect(db.prepare('SELECT 1')).toBe(a);
    expect(prepared).toBe(1);
    for (let i = 0; i < STATEMENTS; i++) db.prepare(`SELECT ${i + 2}`);
    // 'SELECT 1' was the least recently used: it went, and is prepared again.
    expect(db.prepare('SELECT 1')).not.toBe(a);
    expect(prepared).toBe(STATEMENTS + 2);
    db.close();
  });
});

describe('PostgreSQL schema', () => {
  const pgDb = async () => {
    if (!server) throw new Error('no PostgreSQL server');
    const db = await openPostgres(server.createDatabase(`schema_${++databases}`));
    opened.push(db);
    return db;
  };
  const names = async <R extends Record<string, unknown>>(db: Db, query: ReturnType<typeof sql<R>>) =>
    (await query.execute(db)).rows;

  it('has the same tables, columns and indexes as the SQLite one, migration for migration', async () => {
    const lite = await openDb(':memory:');
    opened.push(lite);
    const pgdb = await pgDb();
    const liteTables = (
      await names(
        lite,
        sql<{
          name: string;
        }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
      )
    ).map((r) => r.name);
    const pgTables = (
      await names(
        pgdb,
        sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_name <> 'schema_version' ORDER BY table_name`,
      )
    ).map((r) => r.name);
    expect(pgTables).toEqual(liteTables);
    for (const table of liteTables) {
      const liteColumns = (
        await names(
          lite,
          sql<{ name: string; notnull: number; pk: number }>`SELECT * FROM pragma_table_info(${table})`,
        )
      ).map((c) => `${c.name}${c.notnull || c.pk ? ' not null' : ''}`);
      const pgColumns = (
        await names(
          pgdb,
          sql<{
            name: string;
            nullable: string;
          }>`SELECT column_name AS name, is_nullable AS nullable FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = ${table} ORDER BY ordinal_position`,
        )
      ).map((c) => `${c.name}${c.nullable === 'NO' ? ' not null' : ''}`);
      expect(pgColumns, table).toEqual(liteColumns);
    }
    const liteIndexes = (
      await names(
        lite,
        sql<{
          name: string;
        }>`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
      )
    ).map((r) => r.name);
    const pgIndexes = (
      await names(
        pgdb,
        sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()
         AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key' AND indexname NOT LIKE '%\\_once' ORDER BY indexname`,
      )
    ).map((r) => r.name);
    expect(pgIndexes).toEqual(liteIndexes);
    const version = await names(pgdb, sql<{ v: number }>`SELECT MAX(version) AS v FROM schema_version`);
    expect(version[0]?.v).toBe(schemaVersion());
  });

  it('migrates once, and refuses a database written by a newer bbwatch', async () => {
    if (!server) throw new Error('no PostgreSQL server');
    const url = server.createDatabase(`schema_${++databases}`);
    const first = await openPostgres(url);
    await new MetaStore(first).set('kept', 'yes');
    await first.destroy();
    const again = await openPostgres(url);
    expect(await new MetaStore(again).get('kept')).toBe('yes');
    await sql`INSERT INTO schema_version (version, applied_at) VALUES (${99}, ${0})`.execute(again);
    await again.destroy();
    await expect(openPostgres(url)).rejects.toThrow(/newer bbwatch/);
  });

  it('reads integers, counts and sums as numbers, and keeps camelCase aliases', async () => {
    const db = await pgDb();
    const { rows } = await sql<{ big: number; n: number; total: number; firstAt: number; flag: string }>`
      SELECT CAST(${1_700_000_000_123} AS BIGINT) AS big, COUNT(*) AS n, SUM(x) AS total, MIN(x) AS "firstAt", 'a?b' AS flag
      FROM (SELECT 1 AS x UNION ALL SELECT 2) t`.execute(db);
    expect(rows[0]).toEqual({ big: 1_700_000_000_123, n: 2, total: 3, firstAt: 1, flag: 'a?b' });
  });

  it('goes on with a new connection after the server ended the session', async () => {
    if (!server) throw new Error('no PostgreSQL server');
    const name = `schema_${++databases}`;
    const db = await openPostgres(server.createDatabase(name));
    opened.push(db);
    const meta = new MetaStore(db);
    await meta.set('a', '1');
    server.terminateSessions(name);
    // A statement that meets a dead connection fails; soon the next ones are answered again.
    await vi.waitFor(async () => expect(await meta.get('a')).toBe('1'), { timeout: 5_000, interval: 50 });
  });

  it('stores text with a NUL (from a master, a log or chat), as U+FFFD, instead of failing', async () => {
    const db = await pgDb();
    const builds = new BuildStore(db);
    const evil = {
      master: 'lab',
      buildid: 1,
      builderid: 7,
      number: 1,
      results: 2,
      stateString: 'failed\0test',
      startedAt: 1,
      completeAt: 2,
    };
    expect(await builds.addBuilds([evil])).toHaveLength(1);
    expect(await builds.recentBuilds('lab', 7, 1)).toEqual([{ ...evil, stateString: 'failed\uFFFDtest' }]);
    await new MetaStore(db).set('k\0', 'v\0');
    expect(await new MetaStore(db).get('k\uFFFD')).toBe('v\uFFFD');
  });

  it('fails a statement that waits on a lock past the lock timeout, instead of waiting for ever', async () => {
    if (!server) throw new Error('no PostgreSQL server');
    const url = server.createDatabase(`schema_${++databases}`);
    const holder = await openPostgres(url);
    const waiter = await openPostgres(url, { timeouts: { lockMs: 300, statementMs: 2_000 } });
    opened.push(holder, waiter);
    await new MetaStore(holder).set('k', '0');
    let release: (() => void) | undefined;
    const held = holder.transaction().execute(async (tx) => {
      await sql`SELECT * FROM meta WHERE key = 'k' FOR UPDATE`.execute(tx);
      await new Promise<void>((resolve) => (release = resolve));
    });
    await vi.waitFor(() => expect(release).toBeDefined());
    await expect(new MetaStore(waiter).set('k', '1')).rejects.toThrow(/lock timeout/);
    release?.();
    await held;
    await new MetaStore(waiter).set('k', '2');
    expect(await new MetaStore(holder).get('k')).toBe('2');
  });
});

describe('leadership (src/replica/leader.ts)', () => {
  const silent = pino({ level: 'silent' });

  it('one process leads, the other stands by and leads once the first lets go or loses its session', async () => {
    if (!server) throw new Error('no PostgreSQL server');
    const name = `leader_${++databases}`;
    const url = server.createDatabase(name);
    const lost: string[] = [];
    const first = await lead({ url, log: silent, onLost: (r) => lost.push(`first: ${r}`), retryMs: 100 });
    let secondLeads = false;
    const second = lead({ url, log: silent, onLost: (r) => lost.push(`second: ${r}`), retryMs: 100 }).then(
      (l) => {
        secondLeads = true;
        return l;
      },
    );
    await new Promise((r) => setTimeout(r, 400));
    expect(secondLeads).toBe(false);
    await first.release();
    const taken = await second;
    expect(lost).toEqual([]);
    // The server ends the leader's session (what a dead connection looks like from the database).
    server.terminateSessions(name, 'bbwatch-leader');
    await vi.waitFor(() => expect(lost).toHaveLength(1), { timeout: 5_000 });
    expect(lost[0]).toMatch(/^second: lock connection/);
    await taken.release();
    // With nobody holding it, the lock is free again.
    const third = await lead({ url, log: silent, onLost: () => undefined, retryMs: 100 });
    expect(third.waitedMs).toBeLessThan(1_000);
    await third.release();
  });

  it('a standby ends the session of a leader whose checks stopped reaching the database, and leads', async () => {
    if (!server) throw new Error('no PostgreSQL server');
    const url = server.createDatabase(`leader_${++databases}`);
    // The leader reaches the database through a proxy that can stall; the standby directly.
    const proxy = await startProxy(server.port);
    const lost: string[] = [];
    const warnings: string[] = [];
    const log = pino(
      { level: 'warn' },
      { write: (line: string) => void warnings.push(JSON.parse(line).msg) },
    );
    try {
      const first = await lead({
        url: url.replace(`:${server.port}/`, `:${proxy.port}/`),
        log: silent,
        onLost: (r) => lost.push(r),
        checkMs: 200,
      });
      let secondLeads = false;
      const second = lead({ url, log, onLost: () => undefined, retryMs: 100, fenceMs: 1_500 }).then((l) => {
        secondLeads = true;
        return l;
      });
      // A leader that checks in (every 200 ms) is left alone, however long the standby waits.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(secondLeads).toBe(false);
      expect(warnings).toEqual([]);
      // Its path to the database stalls: nothing arrives, nothing is closed. It gives up by itself;
      // the server would keep its session (and the lock) for as long as the stall lasts.
      proxy.pause();
      await vi.waitFor(() => expect(lost).toHaveLength(1), { timeout: 5_000 });
      expect(lost[0]).toMatch(/^lock connection check failed: no answer/);
      const taken = await second;
      expect(warnings).toEqual([
        'the leader stopped answering: its database session was ended, so that this process can lead',
      ]);
      await taken.release();
      await first.release();
    } finally {
      proxy.resume();
      await proxy.close();
    }
  });

  it('gives up at once on a database that does not exist', async () => {
    if (!server) throw new Error('no PostgreSQL server');
    await expect(
      lead({
        url: `${server.url.replace(/\/postgres$/, '/nosuchdb')}`,
        log: silent,
        onLost: () => undefined,
      }),
    ).rejects.toThrow(/PostgreSQL refused/);
  });
});

describe('the dashboard queries (src/store/dashboard.ts)', () => {
  it('give the same answers on PostgreSQL as on SQLite', async () => {
    if (!server) throw new Error('no PostgreSQL server');
    const dbs = [await openDb(':memory:'), await openPostgres(server.createDatabase(`dash_${++databases}`))];
    const answers = await Promise.all(
      dbs.map(async (db) => {
        opened.push(db);
        const builds = new BuildStore(db);
        await builds.replaceBuilders('lab', [
          { master: 'lab', builderid: 7, name: 'AMD64 3.x', tags: ['3.x'], description: null, active: true },
        ]);
        const tests = new TestStore(db);
        for (const [buildid, at, a] of [
          [1, 100_000, { failed: ['test_os'], flaky: ['test_ssl'] }],
          [2, 190_000, { flaky: ['test_ssl', 'test_io'] }],
          [3, 280_000, { flaky: ['test_ssl'] }],
        ] as const) {
          await builds.addBuild({
            master: 'lab',
            buildid,
            builderid: 7,
            number: buildid,
            results: 1,
            stateString: 'warnings',
            startedAt: at - 50,
            completeAt: at,
          });
          await tests.saveDone(
            { master: 'lab', buildid, builderid: 7, number: buildid },
            analysis({ failed: [...('failed' in a ? a.failed : [])], flaky: [...a.flaky] }),
            `log ${buildid}`,
            { name: 'AMD64 3.x', branch: '3.x' },
            at,
            at * 1000,
          );
        }
        await tests.addKnown('test_ssl', 'gh-9', null, null, 1);
        const dash = new DashboardStore(db);
        const flakiest = await dash.flakiestTests(0, 5);
        return {
          builder: await dash.builder('lab', 'AMD64 3.x'),
          recent: await dash.recentBuilds('lab', 7, 2),
          recentOf: [...((await dash.recentBuildsOf([{ master: 'lab', builderid: 7 }], 2)).get('lab') ?? [])],
          since: await dash.buildsSince('lab', 7, 150_000),
          outcomes: await dash.builderOutcomes('lab', 7, 0),
          flakiest,
          counts: await dash.outcomeCounts(flakiest, 0),
          builders: await dash.builderCounts(flakiest, 0),
          daily: await dash.dailyFlaky(flakiest, 0),
          test: await dash.testOutcomes('test_ssl', 0),
          span: await dash.testSpan('test_ssl'),
          analysis: await dash.analysis('lab', 2),
          known: await dash.knownIssues(),
        };
      }),
    );
    const sort = <T>(rows: T[]) =>
      [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const [lite, pgAnswers] = answers.map((a) => ({
      ...a,
      counts: sort(a?.counts ?? []),
      // better-sqlite3 binds JS numbers as REAL, so `(complete_at - ?) / 86400` divides as REAL on
      // SQLite (fractional days) and as integers on PostgreSQL: compared as whole days.
      daily: sort((a?.daily ?? []).map((d) => ({ ...d, day: Math.floor(d.day) }))),
    }));
    expect(lite?.flakiest).toEqual(['test_ssl', 'test_io']);
    // The fleet view's one query gives each builder's newest builds, as the per-builder one does.
    expect(lite?.recentOf).toEqual([[7, lite?.recent]]);
    expect(pgAnswers).toEqual(lite);
  });
});

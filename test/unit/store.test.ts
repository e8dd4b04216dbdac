/**
 * The store's classes on both backends: SQLite (in memory) and PostgreSQL (a throwaway server on
 * loopback, test/support/postgres.ts; a fresh database per test). Same calls, same answers.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { analysis as baseAnalysis } from '../support/dashboard.js';
import type { RegrtestAnalysis } from '../../src/logs/regrtest.js';
import { lead } from '../../src/replica/leader.js';
import { BuildStore } from '../../src/store/builds.js';
import { ControlStore } from '../../src/store/control.js';
import { DashboardStore } from '../../src/store/dashboard.js';
import { type Db, openDb, schemaVersion } from '../../src/store/db.js';
import { MetaStore } from '../../src/store/meta.js';
import { Outbox } from '../../src/store/outbox.js';
import { openPostgres } from '../../src/store/pg.js';
import { PG_MIGRATIONS } from '../../src/store/pg-migrations.js';
import { ReportStore } from '../../src/store/reports.js';
import { SubscriptionStore } from '../../src/store/subscriptions.js';
import { TestStore } from '../../src/store/tests.js';
import type { FailureCause } from '../../src/logs/failure-kind.js';
import { type Postgres, startPostgres } from '../support/postgres.js';

let server: Postgres | undefined;
let databases = 0;
const opened: Db[] = [];

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(() => {
  for (const db of opened) db.close();
  server?.stop();
});

const BACKENDS: Array<[string, () => Db]> = [
  ['sqlite', () => openDb(':memory:')],
  [
    'postgres',
    () => {
      if (!server) throw new Error('no PostgreSQL server');
      return openPostgres(server.createDatabase(`store_${++databases}`));
    },
  ],
];

/** A red build's analysis (the shared builder's defaults, with a failing result and seed 1). */
const analysis = (part: Partial<RegrtestAnalysis>): RegrtestAnalysis =>
  baseAnalysis({ result: 'FAILURE', seed: 1, ...part });

describe.each(BACKENDS)('store on %s', (_name, open) => {
  const fresh = (): Db => {
    const db = open();
    opened.push(db);
    return db;
  };

  it('outbox: records once, lists pending in order, marks sent and failed, counts', () => {
    const outbox = new Outbox(fresh());
    const a = outbox.add('lab', 1, 'failure', 'console', '{"a":1}', 1_000);
    const b = outbox.add('lab', 2, 'failure', 'console', '{"b":2}', 2_000);
    expect(a?.id).toBeGreaterThan(0);
    expect(b?.id).toBeGreaterThan(a?.id ?? Infinity);
    expect(outbox.add('lab', 1, 'failure', 'console', '{"again":1}', 3_000)).toBeUndefined();
    expect(outbox.pending().map((e) => [e.buildid, e.message, e.createdAt, e.attempts])).toEqual([
      [1, '{"a":1}', 1_000, 0],
      [2, '{"b":2}', 2_000, 0],
    ]);
    outbox.setMessage(a?.id ?? 0, '{"composed":true}');
    outbox.markSent(a?.id ?? 0, 1_700_000_000_123);
    outbox.markFailed(b?.id ?? 0, 'x'.repeat(600), false);
    expect(outbox.pending()).toEqual([
      expect.objectContaining({ buildid: 2, attempts: 1, status: 'pending' }),
    ]);
    expect(outbox.lastSent('console', 'failure')).toBe(1_700_000_000_123);
    expect(outbox.lastSent('console', 'recovery')).toBeUndefined();
    expect(outbox.count('sent')).toBe(1);
    expect(outbox.count('pending')).toBe(1);
    outbox.markFailed(b?.id ?? 0, 'gone', true);
    expect(outbox.count('failed')).toBe(1);
    expect(outbox.pending()).toEqual([]);
  });

  it('builds: each build once, newest first; builders replaced and deactivated', () => {
    const db = fresh();
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
    expect(builds.addBuild(build(10, 1, 0))).toBe(true);
    expect(builds.addBuild(build(10, 1, 0))).toBe(false);
    expect(builds.addBuild(build(11, 2, 2))).toBe(true);
    expect(builds.addBuild(build(12, 3, null))).toBe(true);
    expect(builds.hasBuild('lab', 11)).toBe(true);
    expect(builds.hasBuild('lab', 99)).toBe(false);
    expect(builds.recentBuilds('lab', 7, 2)).toEqual([build(12, 3, null), build(11, 2, 2)]);
    const builder = (builderid: number, name: string) => ({
      master: 'lab',
      builderid,
      name,
      tags: ['3.x', 'stable'],
      description: null,
      active: true,
    });
    builds.replaceBuilders('lab', [builder(7, 'AMD64 3.x'), builder(8, 'ARM 3.x')]);
    builds.replaceBuilders('lab', [builder(7, 'AMD64 3.x renamed')]);
    expect(builds.builders('lab').sort((a, b) => a.builderid - b.builderid)).toEqual([
      builder(7, 'AMD64 3.x renamed'),
      { ...builder(8, 'ARM 3.x'), active: false },
    ]);
    // A failing statement inside a transaction undoes the whole of it.
    expect(() =>
      db.transaction(() => {
        builds.addBuild(build(13, 4, 0));
        throw new Error('boom');
      })(),
    ).toThrow('boom');
    expect(builds.hasBuild('lab', 13)).toBe(false);
    // Nested transactions: the inner one's failure undoes only the inner part.
    db.transaction(() => {
      builds.addBuild(build(14, 5, 0));
      try {
        db.transaction(() => {
          builds.addBuild(build(15, 6, 0));
          throw new Error('inner');
        })();
      } catch {
        // expected
      }
    })();
    expect([builds.hasBuild('lab', 14), builds.hasBuild('lab', 15)]).toEqual([true, false]);
  });

  it('meta: set, replace, get', () => {
    const meta = new MetaStore(fresh());
    expect(meta.get('cursor')).toBeUndefined();
    meta.set('cursor', '1');
    meta.set('cursor', '2');
    meta.set("it's", 'quoted ? and @name stay text');
    expect(meta.get('cursor')).toBe('2');
    expect(meta.get("it's")).toBe('quoted ? and @name stay text');
  });

  it('tests: why a build failed is kept with its analysis, also for a build without a test log', () => {
    const store = new TestStore(fresh());
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
    store.saveDone(
      key,
      hung,
      'http://lab/log',
      { name: 'AMD64 3.x', branch: '3.x' },
      1_700_000_000,
      5_000,
      cause,
    );
    expect(store.get('lab', 5)).toEqual(expect.objectContaining({ status: 'done', analysis: hung, cause }));
    // A compile failure: no test log, only the cause.
    const compile: FailureCause = {
      kind: 'compile',
      step: 'compile',
      detail: 'x.c:1:1: error: no',
      excerpt: [],
    };
    store.saveDone(
      { ...key, buildid: 6, number: 4 },
      undefined,
      undefined,
      { name: 'AMD64 3.x', branch: '3.x' },
      1_700_000_100,
      6_000,
      compile,
    );
    expect(store.get('lab', 6)).toEqual(
      expect.objectContaining({ status: 'done', analysis: undefined, logUrl: undefined, cause: compile }),
    );
    // saveDone replaces the row: the analyzer passes the cause it has when it reads a log again.
    store.saveDone(key, hung, 'http://lab/log', { name: 'AMD64 3.x', branch: '3.x' }, 1_700_000_000, 7_000);
    expect(store.get('lab', 5)?.cause).toBeUndefined();
  });

  it('tests: the analysis queue, outcomes, history and known issues', () => {
    const db = fresh();
    const store = new TestStore(db);
    const key = { master: 'lab', buildid: 5, builderid: 7, number: 3 };
    expect(store.enqueue(key, true, 1_000)).toBe(true);
    expect(store.enqueue(key, true, 2_000)).toBe(false);
    expect(store.enqueue({ ...key, buildid: 6, number: 4 }, false, 1_500)).toBe(true);
    expect(store.pending().map((a) => [a.buildid, a.announce, a.status])).toEqual([
      [5, true, 'pending'],
      [6, false, 'pending'],
    ]);
    store.saveFailed('lab', 6, 'log unreadable', false);
    expect(store.get('lab', 6)).toEqual(expect.objectContaining({ attempts: 1, error: 'log unreadable' }));
    const a = analysis({ failed: ['test_os', 'test_100%_done'], flaky: ['test_ssl'] });
    store.saveDone(key, a, 'http://lab/log', { name: 'AMD64 3.x', branch: '3.x' }, 1_700_000_000, 5_000);
    expect(store.get('lab', 5)).toEqual(
      expect.objectContaining({ status: 'done', analysis: a, logUrl: 'http://lab/log', attempts: 1 }),
    );
    expect(new ReportStore(db).analysisPending()).toBe(1);
    store.saveDone(
      { ...key, buildid: 8, number: 5 },
      analysis({ flaky: ['test_ssl'] }),
      'http://lab/log2',
      { name: 'ARM 3.x', branch: null },
      1_700_000_500,
    );
    expect(store.resolveTest('test.test_os')).toEqual(['test_os']);
    expect(store.resolveTest('test_100%')).toEqual(['test_100%_done']);
    expect(store.resolveTest('test_')).toEqual(['test_100%_done', 'test_os', 'test_ssl']);
    expect(store.stats('test_ssl', 0)).toEqual({
      test: 'test_ssl',
      counts: { flaky: 2 },
      builds: 2,
      builders: ['AMD64 3.x', 'ARM 3.x'],
      branches: ['3.x'],
      firstAt: 1_700_000_000,
      lastAt: 1_700_000_500,
      latest: { master: 'lab', builderid: 7, number: 5, builder: 'ARM 3.x', outcome: 'flaky' },
    });
    expect(store.flakiest(0, 5).map((s) => s.test)).toEqual(['test_ssl']);
    expect(store.flakyCounts(['test_ssl', 'test_os'], 1_700_000_100)).toEqual(
      new Map([
        ['test_ssl', 1],
        ['test_os', 0],
      ]),
    );
    expect(store.addKnown('test_os', 'gh-1', 'Debian', 'console', 1)).toBe(true);
    expect(store.addKnown('test_os', 'gh-1', 'Debian', 'console', 2)).toBe(false);
    expect(store.addKnown('test_os', 'gh-2', null, null, 3)).toBe(true);
    expect(store.knownFor('test_os', 'AMD64 Debian 3.x').map((k) => k.issue)).toEqual(['gh-1', 'gh-2']);
    expect(store.removeKnown('test_os', 'gh-1')).toBe(1);
    expect(store.removeKnown('test_os')).toBe(1);
    expect(store.knownIssues()).toEqual([]);
  });

  it('reports: builds in a period, colours before it, first failures, flaky counts', () => {
    const db = fresh();
    const builds = new BuildStore(db);
    builds.replaceBuilders('lab', [
      { master: 'lab', builderid: 7, name: 'AMD64 3.x', tags: [], description: null, active: true },
    ]);
    for (const [buildid, number, results, at] of [
      [1, 1, 0, 100],
      [2, 2, 2, 200],
      [3, 3, 0, 300],
    ] as const) {
      builds.addBuild({
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
    expect(reports.buildsBetween(150, 400)).toEqual([
      { master: 'lab', builderid: 7, builder: 'AMD64 3.x', number: 2, results: 2, completeAt: 200 },
      { master: 'lab', builderid: 7, builder: 'AMD64 3.x', number: 3, results: 0, completeAt: 300 },
    ]);
    expect(reports.lastBefore(250)).toEqual([
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
    save(1, 'AMD64 3.x', 100, { failed: ['test_old'] });
    save(2, 'AMD64 3.x', 200, { failed: ['test_old', 'test_new'], flaky: ['test_ssl'] });
    save(3, 'ARM 3.x', 300, { failed: ['test_new'], flaky: ['test_ssl'] });
    expect(reports.firstFailures(150, 400)).toEqual([
      { test: 'test_new', firstAt: 200, builds: 2, builders: ['AMD64 3.x', 'ARM 3.x'] },
    ]);
    expect(reports.flakyBetween(150, 250)).toEqual(new Map([['test_ssl', 1]]));
  });

  it('subscriptions and mutes: set, replace, list; mutes hold, extend, end', () => {
    const store = new SubscriptionStore(fresh());
    store.setSubscription({ room: 'irc:#a', event: 'failure', enabled: true, branches: ['3.x'], setAt: 5 });
    store.setSubscription({ room: 'irc:#a', event: 'failure', enabled: false, setBy: 'irc:bob', setAt: 6 });
    store.setSubscription({
      room: 'console',
      event: 'flaky',
      enabled: true,
      tags: ['stable'],
      builders: 'Deb',
      setAt: 1,
    });
    expect(store.subscriptions()).toEqual([
      { room: 'console', event: 'flaky', enabled: true, tags: ['stable'], builders: 'Deb', setAt: 1 },
      { room: 'irc:#a', event: 'failure', enabled: false, setBy: 'irc:bob', setAt: 6 },
    ]);
    const room = store.addMute('room', 'irc:#a', 1_000, 2_000, 'irc:bob');
    const builder = store.addMute('builder', 'AMD64 3.x', 1_000, 3_000);
    expect(builder).toBeGreaterThan(room);
    store.setUntil(room, 2_500);
    store.hold(room, 'irc:#a', 'one', 1_100);
    store.hold(room, 'irc:#a', 'two', 1_200);
    store.hold(room, 'irc:#b', 'three', 1_300);
    expect(store.held(room)).toEqual(
      new Map([
        ['irc:#a', ['one', 'two']],
        ['irc:#b', ['three']],
      ]),
    );
    store.endMute(room, 2_600);
    expect(store.activeMutes()).toEqual([
      { id: builder, kind: 'builder', target: 'AMD64 3.x', startedAt: 1_000, until: 3_000 },
    ]);
  });

  it('control: audit trail, rate counts, follow-ups', () => {
    const store = new ControlStore(fresh());
    const entry = {
      platform: 'irc',
      room: '#a',
      identity: 'irc:bob',
      name: 'bob',
      command: 'force',
      args: ['AMD64 3.x'],
      outcome: 'started',
    };
    store.audit(entry, 1_000);
    store.audit({ ...entry, outcome: 'refused' }, 1_500);
    store.audit({ ...entry, outcome: 'stopped', master: 'lab', detail: 'ok' }, 2_000);
    expect(store.sentSince('irc:bob', 1_200)).toBe(1);
    expect(store.sentSince('irc:bob', 0)).toBe(2);
    expect(store.auditTrail(2).map((e) => [e.at, e.outcome, e.master])).toEqual([
      [2_000, 'stopped', 'lab'],
      [1_500, 'refused', undefined],
    ]);
    store.addFollowUp({ master: 'lab', brid: 4, room: '#a', requester: 'bob', identity: 'irc:bob' }, 100);
    store.addFollowUp({ master: 'lab', brid: 4, room: '#a', requester: 'bob', identity: 'irc:bob' }, 200);
    store.addFollowUp({ master: 'lab', brid: 5, room: '#a', requester: 'eve', identity: undefined }, 300);
    const [first, second] = store.open();
    expect(store.open()).toHaveLength(2);
    store.markStarted(first?.id ?? 0, 77, 400);
    store.markFinished(first?.id ?? 0, 77, 500);
    expect(store.open()).toEqual([expect.objectContaining({ brid: 5, identity: null, buildid: null })]);
    expect(store.expire(1_000, 1_100)).toBe(1);
    expect(store.open()).toEqual([]);
    expect(second?.requester).toBe('eve');
  });
});

describe('PostgreSQL schema', () => {
  const pgDb = () => {
    if (!server) throw new Error('no PostgreSQL server');
    const db = openPostgres(server.createDatabase(`schema_${++databases}`));
    opened.push(db);
    return db;
  };

  it('has the same tables, columns and indexes as the SQLite one, migration for migration', () => {
    expect(PG_MIGRATIONS).toHaveLength(schemaVersion());
    const lite = openDb(':memory:');
    const pgdb = pgDb();
    const liteTables = lite
      .prepare<[], { name: string }>(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
      )
      .all()
      .map((r) => r.name);
    const pgTables = pgdb
      .prepare<[], { name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_name <> 'schema_version' ORDER BY table_name`,
      )
      .all()
      .map((r) => r.name);
    expect(pgTables).toEqual(liteTables);
    for (const table of liteTables) {
      const liteColumns = lite
        .prepare<[string], { name: string; notnull: number; pk: number }>(
          'SELECT * FROM pragma_table_info(?)',
        )
        .all(table)
        .map((c) => `${c.name}${c.notnull || c.pk ? ' not null' : ''}`);
      const pgColumns = pgdb
        .prepare<[string], { name: string; nullable: string }>(
          `SELECT column_name AS name, is_nullable AS nullable FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
        )
        .all(table)
        .map((c) => `${c.name}${c.nullable === 'NO' ? ' not null' : ''}`);
      expect(pgColumns, table).toEqual(liteColumns);
    }
    const liteIndexes = lite
      .prepare<[], { name: string }>(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
      )
      .all()
      .map((r) => r.name);
    const pgIndexes = pgdb
      .prepare<[], { name: string }>(
        `SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()
         AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key' ORDER BY indexname`,
      )
      .all()
      .map((r) => r.name);
    expect(pgIndexes).toEqual(liteIndexes);
  });

  it('migrates once, and refuses a database written by a newer bbwatch', () => {
    if (!server) throw new Error('no PostgreSQL server');
    const url = server.createDatabase(`schema_${++databases}`);
    const first = openPostgres(url);
    new MetaStore(first).set('kept', 'yes');
    first.close();
    const again = openPostgres(url);
    expect(new MetaStore(again).get('kept')).toBe('yes');
    again.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(99, 0);
    again.close();
    expect(() => openPostgres(url)).toThrow(/newer bbwatch/);
  });

  it('reads integers, counts and sums as numbers, and keeps camelCase aliases', () => {
    const db = pgDb();
    const row = db
      .prepare<[number], { big: number; n: number; total: number; firstAt: number; flag: string }>(
        `SELECT CAST(? AS BIGINT) AS big, COUNT(*) AS n, SUM(x) AS total, MIN(x) AS firstAt, 'a?b' AS flag
         FROM (SELECT 1 AS x UNION ALL SELECT 2) t`,
      )
      .get(1_700_000_000_123);
    expect(row).toEqual({ big: 1_700_000_000_123, n: 2, total: 3, firstAt: 1, flag: 'a?b' });
  });

  it('opens a new connection for the next statement after the server ended the session', () => {
    if (!server) throw new Error('no PostgreSQL server');
    const name = `schema_${++databases}`;
    const db = openPostgres(server.createDatabase(name));
    opened.push(db);
    const meta = new MetaStore(db);
    meta.set('a', '1');
    server.terminateSessions(name);
    expect(() => meta.get('a')).toThrow();
    expect(meta.get('a')).toBe('1');
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
  it('give the same answers on PostgreSQL as on SQLite', () => {
    if (!server) throw new Error('no PostgreSQL server');
    const answers = [openDb(':memory:'), openPostgres(server.createDatabase(`dash_${++databases}`))].map(
      (db) => {
        opened.push(db);
        const builds = new BuildStore(db);
        builds.replaceBuilders('lab', [
          { master: 'lab', builderid: 7, name: 'AMD64 3.x', tags: ['3.x'], description: null, active: true },
        ]);
        const tests = new TestStore(db);
        for (const [buildid, at, a] of [
          [1, 100_000, { failed: ['test_os'], flaky: ['test_ssl'] }],
          [2, 190_000, { flaky: ['test_ssl', 'test_io'] }],
          [3, 280_000, { flaky: ['test_ssl'] }],
        ] as const) {
          builds.addBuild({
            master: 'lab',
            buildid,
            builderid: 7,
            number: buildid,
            results: 1,
            stateString: 'warnings',
            startedAt: at - 50,
            completeAt: at,
          });
          tests.saveDone(
            { master: 'lab', buildid, builderid: 7, number: buildid },
            analysis({ failed: [...('failed' in a ? a.failed : [])], flaky: [...a.flaky] }),
            `log ${buildid}`,
            { name: 'AMD64 3.x', branch: '3.x' },
            at,
            at * 1000,
          );
        }
        tests.addKnown('test_ssl', 'gh-9', null, null, 1);
        const dash = new DashboardStore(db);
        const flakiest = dash.flakiestTests(0, 5);
        return {
          builder: dash.builder('lab', 'AMD64 3.x'),
          recent: dash.recentBuilds('lab', 7, 2),
          since: dash.buildsSince('lab', 7, 150_000),
          outcomes: dash.builderOutcomes('lab', 7, 0),
          flakiest,
          counts: dash.outcomeCounts(flakiest, 0),
          builders: dash.builderCounts(flakiest, 0),
          daily: dash.dailyFlaky(flakiest, 0),
          test: dash.testOutcomes('test_ssl', 0),
          span: dash.testSpan('test_ssl'),
          analysis: dash.analysis('lab', 2),
          known: dash.knownIssues(),
        };
      },
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
    expect(pgAnswers).toEqual(lite);
  });
});

/**
 * The console's parts that need no terminal: Tab completion of a typed line (real command metadata,
 * the core's completions over a fleet and tests from a genuine regrtest log) and the history file.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completeLine } from '../../adapters/console/complete.js';
import { HISTORY_SIZE, historyFile, loadHistory, saveHistory } from '../../adapters/console/history.js';
import { COMMANDS } from '../../commands/index.js';
import { completions } from '../../src/chat/complete.js';
import { parseRegrtest } from '../../src/logs/regrtest.js';
import { openDb } from '../../src/store/db.js';
import { testsStartingWith } from '../../src/logs/history.js';
import { TestStore } from '../../src/store/tests.js';
import { builder, fleetWith } from '../support/fleet.js';

const fleet = await fleetWith([
  builder(1, 'AMD64 Debian root 3.x', ['3.x', 'stable', 'tier-1']),
  builder(2, 'AMD64 Fedora Stable 3.13', ['3.13', 'stable', 'tier-1']),
  builder(3, 'ARM64 macOS 3.x', ['3.x', 'unstable', 'tier-2']),
]);
const tests = new TestStore(await openDb(':memory:'));
await tests.saveDone(
  { master: 'lab', buildid: 1, builderid: 1, number: 1 },
  // failed test_concurrent_futures; flaky test_ctypes, test_ssl; env changed test_tempfile
  parseRegrtest(
    readFileSync(new URL('../fixtures/regrtest/excerpts/py313-parallel-rerun.log', import.meta.url), 'utf8'),
  ),
  'http://lab/log',
  { name: 'AMD64 Debian root 3.x', branch: '3.x' },
  1_700_000_000,
);
const info = COMMANDS.map(({ run: _run, ...rest }) => rest);
const names = await tests.testNames();
const tab = (line: string) =>
  completeLine(line, info, (kind, prefix, limit) =>
    completions(fleet, info, kind, prefix, limit, { tests: (p) => testsStartingWith(names, p) }),
  );

describe('console Tab completion', () => {
  it('completes command names, with or without the !', () => {
    expect(tab('st')).toEqual([['status', 'stop'], 'st']);
    expect(tab('!sta')).toEqual([['status '], 'sta']);
    expect(tab('  la')).toEqual([['last '], 'la']);
    expect(tab('zz')).toEqual([[], 'zz']);
  });

  it('completes a builder name, spaces and all, in any case', () => {
    expect(tab('last amd64 d')).toEqual([['AMD64 Debian root 3.x '], 'amd64 d']);
    expect(tab('!why AMD')).toEqual([['AMD64 Debian root 3.x', 'AMD64 Fedora Stable 3.13'], 'AMD']);
    // The one name that contains the text takes its place; two such names have nothing in common to offer.
    expect(tab('last fedora')).toEqual([['AMD64 Fedora Stable 3.13 '], 'fedora']);
    expect(tab('last 3.x')).toEqual([[], '3.x']);
    // Past the builder name (a build number): nothing to complete.
    expect(tab('why AMD64 Debian root 3.x 12')).toEqual([[], 'AMD64 Debian root 3.x 12']);
  });

  it('completes branches, tags, tests, command names and fixed choices by the argument being typed', () => {
    expect(tab('status 3.1')).toEqual([['3.13 '], '3.1']);
    expect(tab('status 3.x st')).toEqual([['stable '], 'st']);
    expect(tab('status 3.x stable ti')).toEqual([['tier-1', 'tier-2'], 'ti']);
    expect(tab('flaky test_s')).toEqual([['test_ssl '], 'test_s']);
    expect(tab('flaky test.test_c')).toEqual([['test_concurrent_futures', 'test_ctypes'], 'test.test_c']);
    expect(tab('known test_te')).toEqual([['test_tempfile '], 'test_te']);
    expect(tab('help fo')).toEqual([['force '], 'fo']);
    expect(tab('notify o')).toEqual([['on', 'off'], 'o']);
  });

  it('offers nothing for free text, numbers, durations or unknown commands', () => {
    expect(tab('mute 1')).toEqual([[], '1']);
    expect(tab('known test_ssl gh-')).toEqual([[], 'gh-']);
    expect(tab('frobnicate AMD')).toEqual([[], 'AMD']);
    expect(tab('report ')).toEqual([[], '']);
  });
});

describe('console history file', () => {
  it('lives in the XDG state directory, else under ~/.local/state', () => {
    expect(historyFile({ XDG_STATE_HOME: '/var/lib/me' }, '/home/me')).toBe('/var/lib/me/bbwatch/history');
    expect(historyFile({}, '/home/me')).toBe('/home/me/.local/state/bbwatch/history');
    // The XDG spec: a relative path is ignored.
    expect(historyFile({ XDG_STATE_HOME: 'state' }, '/home/me')).toBe(
      '/home/me/.local/state/bbwatch/history',
    );
    expect(historyFile({}, '')).toBeUndefined();
  });

  it('keeps the latest commands, oldest first in the file, newest first for readline', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bbwatch-hist-')), 'state', 'bbwatch', 'history');
    expect(loadHistory(file)).toEqual([]);
    saveHistory(file, ['status 3.x', 'last AMD64 Debian root 3.x ']);
    expect(readFileSync(file, 'utf8')).toBe('last AMD64 Debian root 3.x\nstatus 3.x\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadHistory(file)).toEqual(['status 3.x', 'last AMD64 Debian root 3.x']);

    const many = Array.from({ length: HISTORY_SIZE + 20 }, (_, i) => `last ${i}`);
    saveHistory(file, many);
    const loaded = loadHistory(file);
    expect(loaded).toHaveLength(HISTORY_SIZE);
    expect(loaded[0]).toBe('last 0');
    expect(loaded.at(-1)).toBe(`last ${HISTORY_SIZE - 1}`);
  });

  it('reads an edited file without letting control characters through', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bbwatch-hist-')), 'history');
    writeFileSync(file, 'status\x1b[2J 3.x\r\n\n   \nwhy\tx\n');
    expect(loadHistory(file)).toEqual(['why x', 'status [2J 3.x']);
  });
});

/**
 * The console on a real terminal (tmux), as a person at a keyboard meets it: a prompt, Tab
 * completion of commands and builder names, history recalled with Up and kept across runs, an
 * announcement that arrives while a command is half typed printed above it without tearing it,
 * readable log lines (warnings and above unless --log-level says otherwise), colours unless
 * NO_COLOR, and Ctrl-C / Ctrl-D. Piped stdin and stdout keep the plain behaviour every other
 * integration test relies on.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeMaster, startFakeMaster } from '../../bench/fake-master.js';
import { CLI, writeConfig } from '../support/bot.js';
import { Terminal } from '../support/terminal.js';

const PROMPT = 'bbwatch>';
const LOG_ROW = /^\d\d:\d\d:\d\d (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;

let term: Terminal | undefined;
let master: FakeMaster | undefined;
afterEach(async () => {
  await term?.close();
  await master?.close();
  term = undefined;
  master = undefined;
});

function config(url: string, stream: string): string {
  return `masters:
  - name: fake
    url: ${url}
    stream: ${stream}
    timeout: 5s
storage: ./state.sqlite
chat:
  console: true
announce:
  group_window: 0
notify:
  - to: console
    events: [failure]
`;
}

/** The environment of a person's shell: a state directory of its own, NO_COLOR as given. */
function environment(state: string, noColor: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: state };
  delete env.NO_COLOR;
  delete env.NODE_ENV;
  if (noColor) env.NO_COLOR = '1';
  return env;
}

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const lastRow = (rows: string[]) => rows.at(-1) ?? '';

describe('the console on a terminal', () => {
  it('prompts, completes, recalls, and keeps a half-typed command through an announcement', async () => {
    master = await startFakeMaster(3); // Builder 0001 3.x ... Builder 0003 3.x, each green twice
    const configPath = writeConfig(config(master.url, 'sse'));
    const dir = join(configPath, '..');
    const state = join(dir, 'xdg-state');
    term = await Terminal.start({
      command: [process.execPath, CLI, '--config', configPath, '--log-level', 'info'],
      cwd: dir,
      env: environment(state, false),
    });
    const t = term;

    // The prompt, and log lines a person can read: one line each, time, level, message, fields.
    await t.until('the prompt', (rows) => lastRow(rows) === PROMPT);
    const rows = await t.until('the ready log line', (r) =>
      r.some((row) => /^\d\d:\d\d:\d\d INFO {2}ready startupMs=\d+$/.test(row)) ? r : undefined,
    );
    expect(rows).toContain(
      'Type help for the commands, Tab to complete a name, Up for earlier commands, Ctrl-D to quit.',
    );
    expect(rows.find((r) => r.includes('INFO  starting'))).toMatch(LOG_ROW);
    expect(rows.join('\n')).not.toContain('{"');

    // Tab completes a command name, then a builder name: first to what the builders share (with
    // the case fixed), then, once the typed text names one, the whole name.
    await t.type('la');
    await t.press('Tab');
    await t.until('the command completed', (r) => lastRow(r) === `${PROMPT} last`);
    await t.type('bu');
    await t.press('Tab');
    await t.until(
      'the common start of the builder names',
      (r) => lastRow(r) === `${PROMPT} last Builder 000`,
    );
    await t.type('2');
    await t.press('Tab');
    // ... with a space after it, the cursor there, ready for the next argument.
    const completed = `${PROMPT} last Builder 0002 3.x `;
    await t.until(
      'the builder name completed',
      (r, cursor) => lastRow(r) === completed.trimEnd() && cursor.x === completed.length,
    );
    await t.press('Enter');
    await t.until('the reply to !last', (r) => r.includes('Builder 0002 3.x: last 2 builds'));
    await t.until('a fresh prompt under the reply', (r) => lastRow(r) === PROMPT);

    // Up recalls the previous command; Ctrl-C drops a typed line without stopping the bot.
    await t.press('Up');
    await t.until('the command recalled', (r) => lastRow(r) === `${PROMPT} last Builder 0002 3.x`);
    await t.press('C-c');
    await t.until('the line dropped', (r) => lastRow(r) === PROMPT);

    // An announcement while a command is half typed: printed above, the typed text left intact
    // on the screen and in the line being edited.
    await t.type('status 3.');
    await t.until('the half-typed command', (r) => lastRow(r) === `${PROMPT} status 3.`);
    await master.replay(1, 10); // Builder 0001 3.x #3 finishes red
    const screen = await t.until(
      'the announcement above the prompt and the half-typed command, the cursor at its end',
      (r, cursor) =>
        r.some((row) =>
          /^\d\d:\d\d:\d\d Builder 0001 3\.x #3 turned red: failed test \(failure\)$/.test(row),
        ) &&
        lastRow(r) === `${PROMPT} status 3.` &&
        cursor.x === `${PROMPT} status 3.`.length
          ? r
          : undefined,
    );
    // Not torn: the typed text once, on the prompt's row only.
    expect(screen.filter((row) => row.includes('status 3.'))).toEqual([`${PROMPT} status 3.`]);
    await t.type('x');
    await t.press('Enter');
    await t.until('the reply to the completed command', (r) =>
      r.some((row) => /^3\.x: 3 builders — 2 green, 1 red$/.test(row)),
    );

    // Colours on a terminal: the level of a log line, the red of a failure.
    const painted = (await t.screenWithAttributes()).split('\n');
    expect(painted.find((row) => row.includes('ready'))).toMatch(/\x1b\[[0-9;]*mINFO/);
    expect(painted.find((row) => row.includes('turned red'))).toMatch(/\x1b\[[0-9;]*m/);

    // Ctrl-D on an empty line stops the bot cleanly; the commands are kept for the next run.
    await t.until('a fresh prompt', (r) => lastRow(r) === PROMPT);
    await t.press('C-d');
    expect(await t.exited()).toBe(0);
    const end = await t.screen();
    expect(end.filter((row) => row !== '' && !row.startsWith('Pane is dead')).at(-1)).toBe(
      'bbwatch stopped.',
    );
    expect(end.join('\n')).not.toContain(`${PROMPT} bbwatch stopped.`);
    expect(readFileSync(join(state, 'bbwatch', 'history'), 'utf8')).toBe(
      'last Builder 0002 3.x\nstatus 3.x\n',
    );
  });

  it('shows only warnings by default, without colour under NO_COLOR, and history from earlier runs', async () => {
    const configPath = writeConfig(config(`http://127.0.0.1:${await closedPort()}/`, 'auto'));
    const dir = join(configPath, '..');
    const state = join(dir, 'xdg-state');
    mkdirSync(join(state, 'bbwatch'), { recursive: true });
    writeFileSync(join(state, 'bbwatch', 'history'), '!status 3.x\nwhy Builder 0009 3.x\n');
    term = await Terminal.start({
      command: [process.execPath, CLI, '--config', configPath],
      cwd: dir,
      env: environment(state, true),
    });
    const t = term;

    await t.until('the prompt', (rows) => lastRow(rows) === PROMPT);
    // The master cannot be reached: that is a warning, on one readable line.
    await t.until('a warning', (r) => r.some((row) => /^\d\d:\d\d:\d\d WARN {2}/.test(row)));
    await t.press('Up');
    await t.until(
      'the last command of the earlier run',
      (r) => lastRow(r) === `${PROMPT} why Builder 0009 3.x`,
    );
    await t.press('Up');
    await t.until('the one before', (r) => lastRow(r) === `${PROMPT} !status 3.x`);
    await t.press('C-u');
    await t.type('help');
    await t.press('Enter');
    const after = await t.until('the reply to help', (r) =>
      r.includes('bbwatch commands:') ? r : undefined,
    );

    const logRows = after.filter((row) => LOG_ROW.test(row));
    expect(logRows.length).toBeGreaterThan(0);
    expect(logRows.every((row) => /^\d\d:\d\d:\d\d (WARN |ERROR|FATAL) /.test(row))).toBe(true);
    expect(after.join('\n')).not.toContain('{"');
    // NO_COLOR: not one coloured or bold cell.
    expect(await t.screenWithAttributes()).not.toMatch(/\x1b\[[0-9;]*m/);

    // Ctrl-C on an empty line stops the bot as SIGINT would.
    await t.until('a fresh prompt', (r) => lastRow(r) === PROMPT);
    await t.press('C-c');
    expect(await t.exited()).toBe(0);
  });

  it('writes JSON log lines on a terminal with --log-format json', async () => {
    const configPath = writeConfig(config(`http://127.0.0.1:${await closedPort()}/`, 'auto'));
    const dir = join(configPath, '..');
    term = await Terminal.start({
      command: [process.execPath, CLI, '--config', configPath, '--log-format', 'json'],
      cwd: dir,
      env: environment(mkdtempSync(join(tmpdir(), 'bbwatch-state-')), true),
    });
    const rows = await term.until('a JSON log line', (r) =>
      r.some((row) => row.startsWith('{"level":')) ? r : undefined,
    );
    const line = rows.find((row) => row.startsWith('{"level":')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ name: 'bbwatch', msg: expect.any(String) });
    expect(rows.some((row) => LOG_ROW.test(row))).toBe(false);
  });
});

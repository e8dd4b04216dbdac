/**
 * Log lines as a person at a terminal reads them (--log-format pretty), made from the lines pino
 * itself writes; and JSON unchanged for everything else.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, defaultLogFormat, type LogOptions, LogOutput } from '../../src/log.js';

/** A logger whose lines are collected instead of written to stderr. */
function capture(level: string, opts: LogOptions = {}, secrets: string[] = []) {
  const lines: string[] = [];
  const output = new LogOutput(2);
  output.divert((text) => lines.push(text));
  return { log: createLogger(level, secrets, { ...opts, output }), lines };
}

const CLOCK = /^\d\d:\d\d:\d\d /;

describe('pretty log lines', () => {
  it('are one line each: time, level, message, then the fields', () => {
    const { log, lines } = capture('info', { format: 'pretty' });
    log.warn(
      { master: 'cpython', url: 'https://buildbot.python.org/all/', attempts: 3 },
      'cannot load the master; retrying',
    );
    log.info({ builder: 'AMD64 Debian root 3.x', tags: ['3.x', 'stable'] }, 'builder added');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(CLOCK);
    expect(lines[0]?.slice(9)).toBe(
      'WARN  cannot load the master; retrying master=cpython url=https://buildbot.python.org/all/ attempts=3\n',
    );
    expect(lines[1]?.slice(9)).toBe(
      'INFO  builder added builder="AMD64 Debian root 3.x" tags=["3.x","stable"]\n',
    );
  });

  it('never span lines, carry no escape sequences from the message, and show an error by its message', () => {
    const { log, lines } = capture('info', { format: 'pretty' });
    log.error(
      { err: new TypeError('bad\nthing'), body: 'line 1\nline 2\x1b[2J' },
      'reply not sent\nto #python-dev\x1b[31m',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]?.slice(9)).toBe(
      'ERROR reply not sent to #python-dev [31m err="TypeError: bad\\nthing" body="line 1\\nline 2\\u001b[2J"\n',
    );
  });

  it('show warnings and above under a floor of warn, whatever the level is set to later', () => {
    const { log, lines } = capture('info', { format: 'pretty', floor: 'warn' });
    log.info('starting');
    log.warn('workers not loaded');
    log.level = 'debug'; // as a SIGHUP with log_level: debug would
    log.debug('build recorded');
    log.error('reply not sent');
    expect(lines.map((l) => l.slice(9, 14))).toEqual(['WARN ', 'ERROR']);
  });

  it('are coloured only when asked', () => {
    const { log, lines } = capture('info', { format: 'pretty', colour: true });
    log.warn({ master: 'lab' }, 'retrying');
    expect(lines[0]).toContain('\x1b[33mWARN \x1b[0m retrying');
    const plain = capture('info', { format: 'pretty' });
    plain.log.warn({ master: 'lab' }, 'retrying');
    expect(plain.lines[0]).not.toContain('\x1b');
  });

  it('mask secrets like JSON lines do', () => {
    const { log, lines } = capture('info', { format: 'pretty' }, ['hunter2-token']);
    log.warn({ url: 'https://x/?t=hunter2-token', password: 'pw' }, 'login failed with hunter2-token');
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]).toContain('login failed with [secret]');
  });
});

describe('JSON log lines', () => {
  it('are pino JSON, one object a line, also when diverted', () => {
    const { log, lines } = capture('info');
    log.info({ master: 'lab' }, 'ready');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('}\n')).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 30,
      name: 'bbwatch',
      master: 'lab',
      msg: 'ready',
    });
  });

  it('are the default unless stderr is a terminal', () => {
    expect(defaultLogFormat(false)).toBe('json');
    expect(defaultLogFormat(true)).toBe('pretty');
  });
});

import { describe, expect, it } from 'vitest';
import { renderConsole } from '../../adapters/console/render.js';
import { cleanText, type Message, shorten } from '../../src/messages/message.js';
import { VERSION } from '../../src/version.js';
import pkg from '../../package.json' with { type: 'json' };

describe('message text', () => {
  it('strips control characters, escapes and bidi overrides from untrusted text', () => {
    expect(cleanText('a\r\nPRIVMSG #x :pwned')).toBe('a PRIVMSG #x :pwned');
    expect(cleanText('\x1b[31mred\x1b[0m \x03' + '4colour\x0f')).toBe('red 4colour');
    expect(cleanText('abc\u202Edef')).toBe('abc def');
  });

  it('shortens on characters, not bytes', () => {
    expect(shorten('héllo wörld', 6)).toBe('héllo…');
    expect(shorten('🙂🙂🙂', 2)).toBe('🙂…');
    expect(shorten('short', 10)).toBe('short');
  });
});

describe('console rendering', () => {
  const message: Message = {
    kind: 'announcement',
    tone: 'failure',
    title: [{ text: 'AMD64 Debian root 3.x', bold: true }, ' #12 ', { text: 'turned red', tone: 'failure' }],
    lines: [['evil\x1b]0;title\x07 line']],
    link: { label: 'build', url: 'http://127.0.0.1:8010/#/builders/1/builds/12' },
  };

  it('renders plain text without any escape when not on a terminal', () => {
    expect(renderConsole(message, { colour: false })).toEqual([
      'AMD64 Debian root 3.x #12 turned red',
      '  evil ]0;title  line',
      '  http://127.0.0.1:8010/#/builders/1/builds/12',
    ]);
  });

  it('colours by tone on a terminal, still without untrusted escapes', () => {
    const [title, body] = renderConsole(message, { colour: true, stamp: '12:00:00 ' });
    expect(title).toBe('12:00:00 \x1b[1mAMD64 Debian root 3.x\x1b[0m #12 \x1b[31mturned red\x1b[0m');
    expect(body).not.toContain('\x1b]');
  });
});

describe('version', () => {
  it('matches package.json', () => {
    expect(VERSION).toBe(pkg.version);
  });
});

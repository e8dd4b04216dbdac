import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineBudget, renderIrc } from '../../adapters/irc/render.js';
import { plainIncoming, sanitize } from '../../adapters/irc/sanitize.js';
import { encodeLine, type Segment, splitLine } from '../../adapters/irc/split.js';
import type { Message } from '../../src/messages/message.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** Text as a client without colours shows it. */
const plain = (s: string) => s.replace(/\x03(\d{1,2}(,\d{1,2})?)?|[\x02\x0f]/g, '');

const announcement: Message = {
  kind: 'announcement',
  tone: 'failure',
  title: [
    { text: 'AMD64 Debian root 3.x', bold: true },
    ' #12 ',
    { text: 'turned red', tone: 'failure', bold: true },
    ': failed test (failure)',
  ],
  lines: [['Had been passing for 2 h (since #9).'], ['Failed: ', { text: 'test_ssl', code: true }]],
  link: { label: 'build #12', url: 'http://127.0.0.1:8010/#/builders/1/builds/12' },
};

describe('IRC rendering', () => {
  it('puts the link on the headline and colours the result with mIRC codes', () => {
    const lines = renderIrc(announcement, { colours: true, maxBytes: 400 });
    expect(lines).toEqual([
      '\x02AMD64 Debian root 3.x\x0f #12 \x02\x0304turned red\x0f: failed test (failure) http://127.0.0.1:8010/#/builders/1/builds/12',
      'Had been passing for 2 h (since #9).',
      'Failed: test_ssl',
    ]);
  });

  it('sends plain text when colours are off', () => {
    const lines = renderIrc(announcement, { colours: false, maxBytes: 400 });
    expect(lines[0]).toBe(
      'AMD64 Debian root 3.x #12 turned red: failed test (failure) http://127.0.0.1:8010/#/builders/1/builds/12',
    );
    expect(lines.join('')).not.toMatch(/[\x00-\x1f]/);
  });

  it('gives every tone its own colour', () => {
    const tones = ['success', 'warnings', 'failure', 'exception'] as const;
    const line = renderIrc(
      { kind: 'reply', lines: [tones.map((tone) => ({ text: tone, tone }))] },
      { colours: true, maxBytes: 400 },
    )[0];
    expect(line).toBe('\x0303success\x0f\x0307warnings\x0f\x0304failure\x0f\x0306exception\x0f');
  });

  it('never lets build data break a line or start a CTCP', () => {
    const evil: Message = {
      kind: 'announcement',
      title: [{ text: 'Evil\r\nQUIT :pwned\x01VERSION\x01 3.x', bold: true }, ' #1 turned red'],
      lines: [['\x00\u2028\u202eNUL and friends\x03' + '4red\x0f']],
      link: { label: 'build', url: 'http://x/\r\nJOIN #evil' },
    };
    const lines = renderIrc(evil, { colours: true, maxBytes: 400 });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toMatch(/[\r\n\0\x01\u2028\u202e]/);
      // Only the formatting the renderer itself put in: bold, colour, reset.
      expect(line.replace(/\x02|\x03\d\d|\x0f/g, '')).not.toMatch(/[\x00-\x1f]/);
    }
    expect(plain(lines[0] as string)).toBe(
      'Evil  QUIT :pwned VERSION  3.x #1 turned red http://x/  JOIN #evil',
    );
  });

  it('cuts an announcement to its line limit and says how much was left out', () => {
    const long: Message = { ...announcement, lines: Array.from({ length: 8 }, (_, i) => [`line ${i}`]) };
    const lines = renderIrc(long, { colours: false, maxBytes: 400, maxLines: 4 });
    expect(lines).toHaveLength(4);
    expect(lines.slice(1, 3)).toEqual(['line 0', 'line 1']);
    expect(lines[3]).toBe('(… 6 more lines)');
  });

  it('shows a span link after its text', () => {
    const lines = renderIrc(
      { kind: 'reply', lines: [['see ', { text: 'the log', href: 'http://h/log' }]] },
      { colours: false, maxBytes: 400 },
    );
    expect(lines).toEqual(['see the log <http://h/log>']);
  });
});

describe('IRC line budget', () => {
  it('leaves room for the longest prefix the server may put in front', () => {
    // :bbwatch!~bbwatchxx@<63 bytes> PRIVMSG #python-dev :  + CR LF
    const budget = lineBudget({ nick: 'bbwatch', target: '#python-dev' });
    const prefix = `:bbwatch!~${'u'.repeat(10)}@${'h'.repeat(63)} PRIVMSG #python-dev :`;
    expect(budget).toBe(512 - 2 - bytes(prefix));
    expect(lineBudget({ nick: 'bbwatch', target: '#c', userLen: 12, hostLen: 100 })).toBeLessThan(
      lineBudget({ nick: 'bbwatch', target: '#c' }),
    );
  });
});

describe('IRC line splitting', () => {
  it('breaks at a space near the end of the line', () => {
    const text = 'alpha beta gamma delta epsilon zeta eta theta';
    const lines = splitLine([{ text, style: '' }], 20);
    for (const l of lines) expect(bytes(l)).toBeLessThanOrEqual(20);
    expect(lines.join(' ')).toBe(text);
  });

  it('never cuts a multi-byte character, and counts bytes, not characters', () => {
    const text = 'é'.repeat(30) + '🙂'.repeat(10);
    const lines = splitLine([{ text, style: '' }], 17);
    for (const l of lines) {
      expect(bytes(l)).toBeLessThanOrEqual(17);
      expect(Buffer.from(l, 'utf8').toString('utf8')).toBe(l);
      expect(l).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    }
    expect(lines.join('')).toBe(text);
  });

  it('opens a style again on the next line when a break falls inside it', () => {
    const lines = splitLine([{ text: 'x'.repeat(30), style: '\x02\x0304' }], 20);
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l.startsWith('\x02\x0304')).toBe(true);
      expect(l.endsWith('\x0f')).toBe(true);
      expect(bytes(l)).toBeLessThanOrEqual(20);
    }
  });

  it('keeps a comma after a colour code from reading as a background colour', () => {
    expect(encodeLine([{ text: ',5 more', style: '\x0304' }])).toBe('\x0304\x02\x02,5 more\x0f');
  });

  const segment: fc.Arbitrary<Segment> = fc.record({
    text: fc.string({ unit: fc.constantFrom('a', 'b', ' ', 'é', '€', '🙂', '漢', ','), maxLength: 60 }),
    style: fc.constantFrom('', '\x02', '\x0304', '\x02\x0303'),
  });

  it('keeps every line within the budget and loses no visible text (property)', () => {
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 12 }),
        fc.integer({ min: 16, max: 120 }),
        (segments, max) => {
          const lines = splitLine(segments, max);
          for (const l of lines) {
            expect(bytes(l)).toBeLessThanOrEqual(max);
            expect(l).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
          }
          const visible = (s: string) => plain(s).replace(/ /g, '');
          expect(lines.map(visible).join('')).toBe(segments.map((s) => s.text.replace(/ /g, '')).join(''));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('untrusted text', () => {
  it('turns every control character into a space and keeps the length', () => {
    const all = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('') + '\x7f\x85\u2028';
    const clean = sanitize(all);
    expect(clean).toBe(' '.repeat(all.length));
  });

  it('replaces unpaired surrogates, which cannot be sent as UTF-8', () => {
    expect(sanitize('a\ud800b')).toBe('a\ufffdb');
    expect(sanitize('🙂')).toBe('🙂');
  });

  it('reads incoming commands without their formatting codes', () => {
    expect(plainIncoming('\x02!status\x02 \x0304,01red\x03 3.x')).toBe('!status red 3.x');
    expect(plainIncoming('!last a\x01b')).toBe('!last a b');
  });
});

import { describe, expect, it } from 'vitest';
import { safeUrl as discordUrl, escapeText } from '../../adapters/discord/markdown.js';
import { sanitize as ircSanitize } from '../../adapters/irc/sanitize.js';
import { renderMatrix, safeUrl as matrixUrl } from '../../adapters/matrix/render.js';
import { cleanText, reply } from '../../src/messages/message.js';
import { escapeHtml, safeHttpUrl, sanitizeText, stripControls } from '../../src/messages/safe-text.js';
import { safeUrl as webUrl } from '../../src/web/html.js';

/** A state string as a hostile (or broken) worker could make it: line break, IRC colour, ANSI, bidi override. */
const HOSTILE = 'failed\r\nPRIVMSG #ops :hi \x0304red\x1b[31m \u202etxt.exe\ufeff';

describe('the one text sanitiser', () => {
  it('turns every unsafe character into a space, keeping the length', () => {
    const unsafe = [
      ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)),
      ...Array.from({ length: 0x21 }, (_, i) => String.fromCharCode(0x7f + i)),
      '\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff',
    ].join('');
    expect(sanitizeText(unsafe)).toBe(' '.repeat(unsafe.length));
    expect(sanitizeText('a\udc00b 🙂 ü')).toBe('a\ufffdb 🙂 ü');
  });

  it('is what IRC, the message model and Discord use, each as its medium needs', () => {
    expect(ircSanitize(HOSTILE)).toBe(sanitizeText(HOSTILE));
    expect(ircSanitize(HOSTILE)).not.toMatch(/[\r\n\x03\x1b\u202e]/);
    expect(stripControls(HOSTILE)).toBe('failed  PRIVMSG #ops :hi  04red  txt.exe ');
    expect(cleanText(HOSTILE)).toBe('failed PRIVMSG #ops :hi 04red txt.exe');
    expect(escapeText(HOSTILE)).not.toMatch(/[\r\n\x03\x1b\u202e]/);
    const matrix = renderMatrix(reply([HOSTILE], { title: [HOSTILE] }));
    // One line for the title, one for the reply's line: the break is Matrix's, none came from the text.
    expect(matrix.body.split('\n')).toEqual([sanitizeText(HOSTILE), sanitizeText(HOSTILE)]);
  });
});

describe('the one HTML escaper', () => {
  it('escapes what could open a tag, an entity or leave an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;',
    );
    expect(escapeHtml('AMD64 Ubuntu 3.x')).toBe('AMD64 Ubuntu 3.x');
  });
});

describe('the one link check', () => {
  const BAD = [
    'javascript:alert(1)',
    ' JAVASCRIPT:alert(1)',
    'data:text/html,x',
    '//evil.example/',
    'mailto:a@b',
  ];

  it('takes absolute http(s) URLs only, on every medium', () => {
    for (const check of [safeHttpUrl, webUrl, matrixUrl, discordUrl]) {
      expect(check('https://buildbot.python.org/all/#/builders/1/builds/2')).toBe(
        'https://buildbot.python.org/all/#/builders/1/builds/2',
      );
      for (const bad of BAD) expect(check(bad)).toBeUndefined();
    }
    expect(safeHttpUrl('https://github.com/python/cpython/issues/1"><script>')).toBe(
      'https://github.com/python/cpython/issues/1%22%3E%3Cscript%3E',
    );
  });

  it('adds what each medium needs: relative links on the dashboard, no parentheses or spaces on Discord', () => {
    expect(webUrl('../tests/test_ssl')).toBe('../tests/test_ssl');
    expect(safeHttpUrl('../tests/test_ssl')).toBeUndefined();
    expect(discordUrl('https://en.wikipedia.org/wiki/Foo_(bar)')).toBe(
      'https://en.wikipedia.org/wiki/Foo_%28bar%29',
    );
    expect(discordUrl('https://a.example/x y')).toBeUndefined();
  });
});

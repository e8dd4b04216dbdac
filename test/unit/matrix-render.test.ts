import { describe, expect, it } from 'vitest';
import { escapeHtml, fitMessage, renderMatrix, safeUrl } from '../../adapters/matrix/render.js';
import type { Message } from '../../src/messages/message.js';

const BUILD_URL = 'http://127.0.0.1:8010/#/builders/7/builds/12';

/** An announcement shaped like the core's, with whatever builder name and lines a test needs. */
function announcement(builder: string, lines: Message['lines'] = []): Message {
  return {
    kind: 'announcement',
    tone: 'failure',
    title: [
      { text: builder, bold: true },
      ' #12 ',
      { text: 'turned red', tone: 'failure', bold: true },
      ': failed test (failure)',
    ],
    lines,
    link: { label: 'build #12', url: BUILD_URL },
  };
}

/** Where the HTML's links point. */
function hrefs(html: string): string[] {
  return [...html.matchAll(/<a href="([^"]*)">/g)].map((m) => m[1] ?? '');
}

/** The tags and attributes in an HTML string, e.g. `<a href="…">` → `a href`. */
function tags(html: string): string[] {
  return [...html.matchAll(/<(\/?[a-z]+)((?:\s+[a-z-]+="[^"]*")*)\s*\/?>/gi)].map((m) =>
    [m[1], ...[...(m[2] ?? '').matchAll(/([a-z-]+)="/gi)].map((a) => a[1])].join(' '),
  );
}

describe('Matrix HTML rendering', () => {
  it("escapes a crafted <script> in a builder name: the HTML holds only the renderer's own tags", () => {
    const { html, body } = renderMatrix(announcement('<script>alert("pwned")</script> & Co 3.x'));
    expect(html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; Co 3.x');
    expect(html).not.toMatch(/<script/i);
    expect(new Set(tags(html).map((t) => t.split(' ')[0]))).toEqual(
      new Set(['b', 'font', '/font', '/b', 'br', 'a', '/a']),
    );
    // The plain body is plain text: shown as typed by clients, never interpreted.
    expect(body.split('\n')[0]).toBe(
      '<script>alert("pwned")</script> & Co 3.x #12 turned red: failed test (failure)',
    );
  });

  it('escapes an <a href=javascript:…> in a test name and never links a javascript: URL', () => {
    const evil = '<a href=javascript:alert(1)>test_x</a>';
    const { html } = renderMatrix(
      announcement('AMD64 Debian root 3.x', [
        ['Failed: ', { text: evil, code: true }, ', ', { text: 'test_os', code: true }],
        [{ text: 'click me', href: 'javascript:alert(1)' }],
        [{ text: 'also', href: ' JaVaScRiPt:alert(1)' }],
      ]),
    );
    expect(html).toContain('<code>&lt;a href=javascript:alert(1)&gt;test_x&lt;/a&gt;</code>');
    expect(hrefs(html)).toEqual([BUILD_URL]); // only the build link
    expect(tags(html).filter((t) => t.startsWith('a'))).toEqual(['a href']);
    expect(html).toContain('click me');
  });

  it('keeps quotes out of attributes: a link cannot grow attributes of its own', () => {
    const message: Message = {
      kind: 'reply',
      lines: [[{ text: 'x', href: 'http://example.org/"onmouseover="alert(1)' }]],
      link: { label: '"><img src=x onerror=alert(1)>', url: "http://example.org/'><b>" },
    };
    const { html } = renderMatrix(message);
    expect(tags(html)).toEqual(['a href', '/a', 'br', 'a href', '/a']);
    expect(html).not.toContain('<img');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('colours results, bolds, marks code, links the build', () => {
    const { html } = renderMatrix(announcement('AMD64 Debian root 3.x'));
    expect(html).toBe(
      '<b>AMD64 Debian root 3.x</b> #12 <font color="#c62828" data-mx-color="#c62828"><b>turned red</b></font>' +
        `: failed test (failure)<br><a href="${BUILD_URL}">build #12</a>`,
    );
  });

  it('shows changes (indented lines) and failing tests as lists', () => {
    const { html, body } = renderMatrix(
      announcement('AMD64 Debian root 3.x', [
        ['Had been passing for 2 h (since #10).'],
        [
          'Failed: ',
          { text: 'test_ssl', code: true },
          ' (flaky 3× in 7 d)',
          ', ',
          { text: 'test_os', code: true },
          ', … and 2 more',
        ],
        ['Changes since #11:'],
        ['  ', { text: '3f2a9c1e0b', code: true }, ' Jane Doe: gh-1: Fix <it>'],
        ['  ', { text: 'aaaaaaaaaa', code: true }, ' Bob'],
        ['Log: ', 'http://127.0.0.1:8010/api/v2/logs/5/raw'],
      ]),
    );
    expect(html).toContain(
      'Failed:<ul><li><code>test_ssl</code> (flaky 3× in 7 d)</li><li><code>test_os</code></li><li>… and 2 more</li></ul>Changes since #11:',
    );
    expect(html).toContain(
      '<ul><li><code>3f2a9c1e0b</code> Jane Doe: gh-1: Fix &lt;it&gt;</li><li><code>aaaaaaaaaa</code> Bob</li></ul>',
    );
    expect(html).toContain('Log: <a href="http://127.0.0.1:8010/api/v2/logs/5/raw">');
    expect(body).toBe(
      [
        'AMD64 Debian root 3.x #12 turned red: failed test (failure)',
        'Had been passing for 2 h (since #10).',
        'Failed: test_ssl (flaky 3× in 7 d), test_os, … and 2 more',
        'Changes since #11:',
        '  • 3f2a9c1e0b Jane Doe: gh-1: Fix <it>',
        '  • aaaaaaaaaa Bob',
        'Log: http://127.0.0.1:8010/api/v2/logs/5/raw',
        BUILD_URL,
      ].join('\n'),
    );
  });

  it('keeps one failing test inline', () => {
    const { html } = renderMatrix({ kind: 'reply', lines: [['Failed: ', { text: 'test_ssl', code: true }]] });
    expect(html).toBe('Failed: <code>test_ssl</code>');
  });

  it('turns control characters from build data into spaces in body and HTML', () => {
    const { body, html } = renderMatrix({ kind: 'reply', lines: [['a\nb\u0000c\x1b[31md\u2028e']] });
    expect(body).toBe('a b c [31md e');
    expect(html).toBe('a b c [31md e');
  });

  it('cuts a message too big for one event by whole lines, saying how many', () => {
    const big: Message = {
      kind: 'reply',
      lines: Array.from({ length: 2000 }, (_, i) => [`line ${i} ${'x'.repeat(80)}`]),
    };
    const fitted = fitMessage(big, 60_000);
    const { body, html } = renderMatrix(fitted);
    expect(Buffer.byteLength(body) + Buffer.byteLength(html)).toBeLessThanOrEqual(60_000);
    expect(body.split('\n').at(-1)).toMatch(/^… \d+ more lines$/);
    expect(fitMessage(announcement('small'), 60_000)).toEqual(announcement('small'));
  });
});

describe('HTML helpers', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });

  it('accepts only absolute http(s) URLs as link targets', () => {
    expect(safeUrl('https://buildbot.python.org/all/#/builders/1')).toBe(
      'https://buildbot.python.org/all/#/builders/1',
    );
    expect(safeUrl('javascript:alert(1)')).toBeUndefined();
    expect(safeUrl('data:text/html,<script>')).toBeUndefined();
    expect(safeUrl('//evil.example/')).toBeUndefined();
    expect(safeUrl('http://a/"x')).toBe('http://a/%22x');
  });
});

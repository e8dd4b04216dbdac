import { describe, expect, it } from 'vitest';
import { escapeHtml, markup, link, raw, safeUrl } from '../../src/web/html.js';
import { issueUrl } from '../../src/web/model.js';

describe('html templates', () => {
  it('escape every interpolated value: tags, quotes, ampersands and backticks', () => {
    const name = `<script>alert("x")</script> & 'q' \``;
    const out = markup`<td title="${name}">${name}</td>`.value;
    expect(out).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; &#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; &#96;</td>',
    );
    expect(out).not.toContain('<script>');
  });

  it('keep nested Html as markup, render arrays and drop false, null and undefined', () => {
    const inner = markup`<b>${'<i>'}</b>`;
    expect(markup`<p>${inner}${[1, '<', inner]}${false}${null}${undefined}</p>`.value).toBe(
      '<p><b>&lt;i&gt;</b>1&lt;<b>&lt;i&gt;</b></p>',
    );
    expect(markup`${raw('<hr>')}`.value).toBe('<hr>');
    expect(escapeHtml('a"b')).toBe('a&quot;b');
  });
});

describe('links', () => {
  it('only http(s) URLs and the dashboard’s own relative links are allowed', () => {
    expect(safeUrl('https://buildbot.python.org/all/#/builders/1/builds/2')).toBe(
      'https://buildbot.python.org/all/#/builders/1/builds/2',
    );
    expect(safeUrl('../tests/test_ssl')).toBe('../tests/test_ssl');
    expect(safeUrl('./?branch=3.x')).toBe('./?branch=3.x');
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:x',
      '//evil.example/x',
      'mailto:x@example.org',
      '',
      undefined,
      null,
    ]) {
      expect(safeUrl(bad)).toBeUndefined();
    }
  });

  it('a javascript: URL renders as text, never as an href', () => {
    const out = link('javascript:alert(1)', 'click').value;
    expect(out).toBe('<span>click</span>');
    expect(out).not.toContain('href');
  });

  it('attribute-escape URLs, classes and titles', () => {
    const out = link('https://x.example/?a="><script>', '<t>', { cls: 'c"x', title: '"t"' }).value;
    expect(out).toBe(
      '<a href="https://x.example/?a=%22%3E%3Cscript%3E" class="c&quot;x" title="&quot;t&quot;">&lt;t&gt;</a>',
    );
    expect(link('../flaky', 'f').value).toBe('<a href="../flaky">f</a>');
  });

  it('known issues become tracker links; other text does not', () => {
    expect(issueUrl('gh-4242')).toBe('https://github.com/python/cpython/issues/4242');
    expect(issueUrl('bpo-12')).toBe('https://bugs.python.org/issue12');
    expect(issueUrl('https://example.org/i/1')).toBe('https://example.org/i/1');
    expect(issueUrl('javascript:alert(1)')).toBeUndefined();
  });
});

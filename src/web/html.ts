/**
 * Safe HTML building: every value interpolated into a `markup` template is escaped unless it is
 * already `Html` built the same way. Build data, log lines and test names are untrusted.
 */

import { escapeHtml, safeHttpUrl } from '../messages/safe-text.js';

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What a template may interpolate: false, null and undefined render as nothing. */
export type Renderable = Html | string | number | null | undefined | false | readonly Renderable[];

/** Escapes text for element content and for quoted attribute values (the one escaper, src/messages/safe-text.ts). */
export { escapeHtml };

function render(value: Renderable): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return (value as readonly Renderable[]).map(render).join('');
  return escapeHtml(String(value));
}

/** Parts one after the other, escaped as in a template: for pages built from sections. */
export function join(...parts: Renderable[]): Html {
  return new Html(parts.map(render).join(''));
}

/**
 * The tagged template: markup`<td>${name}</td>` escapes `name`. (Not called `html`, so that the
 * source formatter leaves the templates, and so the served whitespace, as written.)
 */
export function markup(strings: TemplateStringsArray, ...values: Renderable[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Text trusted as markup: only for constants written in this module's callers (CSS, the SVG we draw). */
export function raw(markup: string): Html {
  return new Html(markup);
}

/**
 * A URL that may go into an href: absolute http(s) URLs (build links, issues) and the dashboard's
 * own relative links (`./`, `../`, `?`). Anything else (`javascript:`, `data:`, `//host`) is refused.
 */
export function safeUrl(url: string | undefined | null): string | undefined {
  if (!url) return undefined;
  if (/^(\.\.?\/|\?)/.test(url)) return /[\s\\]/.test(url) ? undefined : url;
  return safeHttpUrl(url);
}

/** A link when the URL is safe, plain text otherwise; `title` becomes a tooltip. */
export function link(
  url: string | undefined | null,
  content: Renderable,
  opts: { cls?: string; title?: string } = {},
): Html {
  // Built as a string: the fleet page has thousands of these.
  const href = safeUrl(url);
  const attrs =
    (opts.cls ? ` class="${escapeHtml(opts.cls)}"` : '') +
    (opts.title ? ` title="${escapeHtml(opts.title)}"` : '');
  if (!href) return new Html(`<span${attrs}>${render(content)}</span>`);
  // No rel="noreferrer" needed: pages are sent with Referrer-Policy: no-referrer, and open no window.
  return new Html(`<a href="${escapeHtml(href)}"${attrs}>${render(content)}</a>`);
}

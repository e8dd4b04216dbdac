import { type Html, join, markup, raw } from './html.js';
import type { Page } from './page.js';

/** Inline CSS: a constant (no interpolation), so it is safe as markup. */
const CSS = raw(`
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#2b3a4a;color:#fff;padding:.5em 1em;display:flex;gap:1.5em;align-items:center}
header a{color:#cfe3ff;text-decoration:none}header a.on{color:#fff;font-weight:bold}
header .live{margin-left:auto;font-size:12px;color:#9fb3c8}
main{padding:1em}h1{font-size:20px;margin:.2em 0 .6em}h2{font-size:16px;margin:1.2em 0 .4em}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}
tr:nth-child(even) td{background:#f0f2f5}th{font-weight:600;border-bottom:1px solid #ccc}
.cells{white-space:nowrap}
.cell{display:inline-block;width:14px;height:14px;margin:0 1px;border-radius:2px;vertical-align:middle}
.r0{background:#3c9a3c}.r1{background:#e69a1e}.r2{background:#d0342c}.r3{background:#bbb}
.r4{background:#8e44ad}.r5{background:#5bc0de}.r6{background:#999}.rn{background:#ddd}
.badge{display:inline-block;padding:0 6px;border-radius:8px;color:#fff;font-size:12px}
.muted{color:#777}.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,monospace}pre{background:#f3f3f3;padding:.5em;overflow:auto;max-width:100%}
form.filters{margin:.5em 0 1em;display:flex;gap:1em;align-items:end;flex-wrap:wrap}
form.filters label{display:flex;flex-direction:column;font-size:12px}
.legend span{margin-right:1em}svg{vertical-align:middle}
`);

/** The whole document around a page: navigation, styles, and the live-update script. */
export function layout(page: Page, root: string): Html {
  const nav = (section: Page['section'], href: string, label: string) =>
    markup`<a href="${href}"${page.section === section ? raw(' class="on"') : ''}>${label}</a>`;
  return join(
    markup`<!doctype html>\n<html lang="en" data-root="${root}"><head><meta charset="utf-8">`,
    markup`<meta name="viewport" content="width=device-width, initial-scale=1">`,
    markup`<title>${page.title} · bbwatch</title><style>${CSS}</style>`,
    markup`<script src="${root}live.js" defer></script></head>`,
    markup`<body><header><strong>bbwatch</strong>${nav('fleet', root, 'Fleet')}${nav('flaky', `${root}flaky`, 'Flaky tests')}`,
    markup`<span class="live" id="live">static</span></header>${fragment(page)}</body></html>\n`,
  );
}

/** What live updates fetch and swap: the main element alone. */
export function fragment(page: Page): Html {
  return markup`<main id="main">${page.main}</main>`;
}

/** The page for a path that names nothing. */
export function notFoundPage(what: string): Page {
  return {
    title: 'Not found',
    section: 'fleet',
    main: markup`<h1>Not found</h1><p>${what}</p>`,
  };
}

/**
 * The live-update script, served as /live.js (the CSP allows scripts from the listener only).
 * On each `update` event it re-fetches the page with ?fragment=1 and swaps the main element.
 * Pages work without it.
 */
export const LIVE_SCRIPT = `(function () {
  'use strict';
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  var html = document.documentElement;
  var root = html.getAttribute('data-root') || './';
  var badge = document.getElementById('live');
  var busy = false, again = false, updates = 0;
  function say(text) { if (badge) badge.textContent = text; }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var url = new URL(location.href);
    url.searchParams.set('fragment', '1');
    fetch(url.toString(), { headers: { accept: 'text/html' }, cache: 'no-store' })
      .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.text(); })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('main');
        var main = document.getElementById('main');
        if (!fresh || !main) return;
        main.replaceWith(document.importNode(fresh, true));
        updates++;
        html.setAttribute('data-updates', String(updates));
        say('live · updated ' + new Date().toLocaleTimeString());
      })
      .catch(function () { say('live · update failed'); })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var source = new EventSource(root + 'events');
  source.addEventListener('open', function () { html.setAttribute('data-live', 'open'); say('live'); });
  source.addEventListener('error', function () { html.setAttribute('data-live', 'retrying'); say('live · reconnecting'); });
  source.addEventListener('update', refresh);
})();
`;

// The admin page's script: tabs, the credential's fields, confirmations, the interval dialog, the next run times
// of the cron field, Test connection, the live preview of the mapping, and the reload of a running run's page. Served at
// <base>/assets/usersync.js, so the page needs no inline script (its Content-Security-Policy
// allows scripts from 'self' only). Page POSTs from here carry the CSRF header.
(function () {
  'use strict';
  function meta(name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.content : '';
  }
  var csrf = meta('atl-token'), base = meta('usersync-base');
  var byId = function (id) { return document.getElementById(id); };

  // Tabs: show one pane; the form's hidden `tab` field remembers it for the save.
  function showTab(id) {
    document.querySelectorAll('.tabs-pane').forEach(function (p) {
      p.classList.toggle('active-pane', p.id === id);
    });
    document.querySelectorAll('.tabs-menu li').forEach(function (li) {
      li.classList.toggle('active-tab', li.firstElementChild.getAttribute('data-tab') === id);
    });
    var t = document.querySelector('input[name="tab"]');
    if (t) t.value = id;
  }
  document.querySelectorAll('a[data-tab]').forEach(function (a) {
    a.addEventListener('click', function (e) {
      e.preventDefault();
      showTab(a.getAttribute('data-tab'));
    });
  });

  // The credential's fields: those of the type chosen (without the script, both show).
  var auth = byId('auth');
  function showCredential() {
    document.querySelectorAll('[data-auth]').forEach(function (d) {
      d.hidden = d.getAttribute('data-auth') !== auth.value;
    });
  }
  if (auth) {
    auth.addEventListener('change', showCredential);
    showCredential();
  }

  // Forms that ask first (Delete, Sync anyway).
  document.querySelectorAll('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm(f.getAttribute('data-confirm'))) e.preventDefault();
    });
  });

  // The next five run times of the schedule as typed.
  var sched = byId('schedule'), list = byId('next-runs'), timer;
  function item(text, cls) {
    var li = document.createElement('li');
    if (cls) li.className = cls;
    li.textContent = text;
    list.appendChild(li);
  }
  function refreshRuns() {
    if (!sched || !list) return;
    fetch(base + '/next-runs?schedule=' + encodeURIComponent(sched.value), { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        list.replaceChildren();
        if (j.error) return item(j.error, 'error');
        j.nextRuns.forEach(function (t) { item(t); });
      });
  }
  if (sched) {
    sched.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(refreshRuns, 300);
    });
  }

  // The interval dialog: every N minutes / hours, or daily at HH:MM, into the cron field.
  var dlg = byId('interval-dialog'), blanket = byId('blanket');
  var kind = byId('interval-kind'), n = byId('interval-n'), at = byId('interval-time');
  var choices = { minutes: [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30], hours: [1, 2, 3, 4, 6, 8, 12, 24] };
  function fillN() {
    var k = kind.value, daily = k === 'daily';
    n.hidden = daily;
    at.hidden = !daily;
    byId('interval-unit').textContent = daily ? '' : k;
    if (daily) return;
    var keep = n.value;
    n.replaceChildren();
    choices[k].forEach(function (v) {
      var o = document.createElement('option');
      o.value = o.textContent = String(v);
      n.appendChild(o);
    });
    n.value = choices[k].indexOf(+keep) >= 0 ? keep : (k === 'minutes' ? '15' : '1');
  }
  function openDialog(open) {
    dlg.classList.toggle('open', open);
    blanket.classList.toggle('open', open);
  }
  function cron() {
    var k = kind.value, v = +n.value;
    if (k === 'minutes') return v === 60 ? '0 0 * * * *' : '0 */' + v + ' * * * *';
    if (k === 'hours') return v === 24 ? '0 0 0 * * *' : '0 0 */' + v + ' * * *';
    var p = (at.value || '02:00').split(':');
    return '0 ' + (+p[1]) + ' ' + (+p[0]) + ' * * *';
  }
  if (dlg && kind) {
    kind.addEventListener('change', fillN);
    fillN();
    byId('set-interval').addEventListener('click', function () { openDialog(true); });
    document.querySelectorAll('[data-close-dialog]').forEach(function (b) {
      b.addEventListener('click', function () { openDialog(false); });
    });
    byId('interval-apply').addEventListener('click', function () {
      sched.value = cron();
      var en = byId('schedule-enabled');
      if (en) en.checked = true;
      openDialog(false);
      refreshRuns();
    });
  }

  // Test connection with the form's settings as typed.
  var test = byId('test-connection');
  if (test) {
    test.addEventListener('click', function () {
      var out = byId('test-result');
      function show(cls, text) { out.className = 'test-result' + cls; out.textContent = text; }
      show('', 'Testing…');
      fetch(base + '/test', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'X-CSRF-Token': csrf },
        body: new URLSearchParams(new FormData(test.form))
      })
        .then(function (r) { return r.json(); })
        .then(function (j) { show(j.ok ? ' ok' : ' fail', j.message); })
        .catch(function () { show(' fail', 'The test could not be run.'); });
    });
  }

  // The live preview: the first Okta users and groups through the mapping as typed
  // (POST <base>/preview), shown in a table; once shown, redone as the tab's fields change.
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '—' : text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  function table(out, head, rows) {
    var t = document.createElement('table'), h = document.createElement('tr');
    t.className = 'aui preview-table';
    head.forEach(function (c) { var th = document.createElement('th'); th.textContent = c; h.appendChild(th); });
    t.appendChild(h);
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      r.forEach(function (c, i) { cell(tr, c, i === r.length - 1 ? 'muted' : ''); });
      t.appendChild(tr);
    });
    out.textContent = '';
    out.appendChild(t);
  }
  function preview(button) {
    var kind = button.getAttribute('data-preview'), out = byId('preview-' + kind);
    out.className = 'preview-result';
    out.textContent = 'Asking Okta…';
    fetch(base + '/preview', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': csrf },
      body: new URLSearchParams(new FormData(button.form))
    })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (!j.ok) {
          out.className = 'preview-result fail';
          out.textContent = j.message;
          return;
        }
        if (kind === 'users') {
          table(out, ['Okta login', 'Username', 'Full name', 'Email', 'Note'], j.users.map(function (u) {
            return [u.oktaLogin, u.username === null ? '(skipped)' : u.username, u.displayName, u.email, u.note];
          }));
        } else {
          table(out, ['Okta group', 'Product group', 'Note'], j.groups.map(function (g) {
            return [g.oktaName, g.name === null ? '(not synced)' : g.name, g.note];
          }));
        }
      })
      .catch(function () { out.className = 'preview-result fail'; out.textContent = 'The preview could not be run.'; });
  }
  document.querySelectorAll('.preview-button').forEach(function (b) {
    var timer = null, shown = false;
    b.addEventListener('click', function () { shown = true; preview(b); });
    var pane = b.closest('.tabs-pane');
    if (pane) {
      pane.addEventListener('input', function () {
        if (!shown) return;
        clearTimeout(timer);
        timer = setTimeout(function () { preview(b); }, 500);
      });
    }
  });

  // A running run's page reloads until the run finishes.
  var running = document.querySelector('[data-reload-ms]');
  if (running) {
    setTimeout(function () { location.reload(); }, +running.getAttribute('data-reload-ms'));
  }
})();

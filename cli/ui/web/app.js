// berth ui: the dashboard's script. Every daemon call goes to this page's own server under
// /api (which relays it to berthd) signed with the token the server put in the page; views update
// from the daemon's event stream instead of polling.
'use strict';

const TOKEN = document.querySelector('meta[name="berth-token"]').content;
const view = document.getElementById('view');
const live = document.getElementById('live');

// ---- daemon calls ----------------------------------------------------------------------------

class DaemonError extends Error {}

async function call(method, path, { body, headers = {}, signal } = {}) {
  const h = { 'X-Berth-Token': TOKEN, ...headers };
  if (body !== undefined && !(body instanceof Blob) && !(body instanceof ArrayBuffer) && !(body instanceof Uint8Array)) {
    body = JSON.stringify(body);
    h['Content-Type'] = 'application/json';
  }
  const resp = await fetch('/api' + path, { method, headers: h, body, signal });
  if (!resp.ok) {
    let message = await resp.text();
    try { message = JSON.parse(message).message || message; } catch (e) { /* plain text */ }
    // The CLI's words for a daemon's refusal.
    throw new DaemonError('Error response from daemon: ' + message.trim());
  }
  return resp;
}
const get = async (path) => (await call('GET', path)).json();

// Newline-delimited JSON messages of a streamed answer (events, pull, push, build, stats).
async function* jsonLines(resp) {
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buf.trim()) yield JSON.parse(buf);
}

function showError(err) {
  if (err && err.name === 'AbortError') return;
  const box = document.getElementById('errors');
  const div = el('div', {}, el('span', { class: 'error-text' }, String(err && err.message || err)),
    el('button', { 'aria-label': 'dismiss', onclick: () => div.remove() }, '×'));
  box.append(div);
}

// ---- DOM helpers -----------------------------------------------------------------------------

// el('a', {href, onclick}, children...): text children are text nodes, never HTML.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

function bytes(n) {
  if (n === undefined || n === null || n < 0) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(n < 10 ? 2 : 1) : n) + ' ' + units[i];
}

function ago(seconds) {
  const d = Date.now() / 1000 - seconds;
  if (d < 60) return Math.max(1, Math.floor(d)) + ' seconds ago';
  if (d < 3600) return Math.floor(d / 60) + ' minutes ago';
  if (d < 86400) return Math.floor(d / 3600) + ' hours ago';
  return Math.floor(d / 86400) + ' days ago';
}

const shortId = (id) => (id || '').replace(/^sha256:/, '').slice(0, 12);

function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

function table(headers, rows, { wide = [] } = {}) {
  return el('div', { class: 'table-wrap' }, el('table', {},
    el('thead', {}, el('tr', {}, headers.map((h, i) => el('th', { class: wide.includes(i) ? 'wide' : null, scope: 'col' }, h)))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c, i) => el('td', { class: wide.includes(i) ? 'wide' : null }, c)))))));
}

// Runs an action from a button, disabling it meanwhile and reporting a failure.
async function act(button, fn) {
  if (button) button.disabled = true;
  try { await fn(); } catch (e) { showError(e); } finally { if (button) button.disabled = false; }
}

// A view's reload on events: answers can come back out of order on a busy machine, so only the
// newest request's answer is drawn.
function newestOnly(fetch, draw) {
  let seq = 0;
  return async () => {
    const mine = ++seq;
    try {
      const value = await fetch();
      if (mine === seq) draw(value);
    } catch (e) { showError(e); }
  };
}

// ---- the event stream ------------------------------------------------------------------------

const listeners = new Set();
function onEvents(fn) { listeners.add(fn); return () => listeners.delete(fn); }

async function followEvents() {
  for (;;) {
    try {
      const resp = await call('GET', '/events');
      live.textContent = 'live';
      live.classList.add('on');
      for await (const ev of jsonLines(resp)) for (const fn of [...listeners]) fn(ev);
    } catch (e) { /* the daemon restarted or the connection dropped: retry below */ }
    live.textContent = 'reconnecting…';
    live.classList.remove('on');
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// Calls fn at most every `ms` while events of `types` keep coming.
function refreshOn(types, fn, ms = 50) {
  let timer = null;
  return onEvents((ev) => {
    if (!types.includes(ev.Type)) return;
    if (timer) return;
    timer = setTimeout(() => { timer = null; fn(); }, ms);
  });
}

// ---- routing ---------------------------------------------------------------------------------

let cleanups = [];
function onLeave(fn) { cleanups.push(fn); }

async function route() {
  for (const fn of cleanups) { try { fn(); } catch (e) { /* already gone */ } }
  cleanups = [];
  const parts = (location.hash.replace(/^#\/?/, '') || 'containers').split('/').map(decodeURIComponent);
  const [section, id] = parts;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.section === section);
  view.replaceChildren();
  const pages = { containers: id ? containerPage : containersView, images: id ? imagePage : imagesView,
    volumes: id ? volumePage : volumesView, networks: id ? networkPage : networksView, build: buildView, events: eventsView, system: systemView };
  const page = pages[section] || containersView;
  try { await page(id); } catch (e) { showError(e); }
}

// ---- containers ------------------------------------------------------------------------------

function stateBadge(c) {
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status || '');
  return el('span', {}, el('span', { class: 'state ' + c.State }, c.State),
    health ? el('span', { class: 'state ' + health[1].replace('health: ', '') }, ' ' + health[1]) : null);
}

function portLinks(ports) {
  const seen = new Set();
  return (ports || []).filter((p) => p.PublicPort).map((p) => {
    const host = !p.IP || p.IP === '0.0.0.0' || p.IP === '::' ? location.hostname : p.IP;
    const text = `${p.IP || '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`;
    if (seen.has(text)) return null;
    seen.add(text);
    return p.Type === 'tcp' ? el('a', { href: `http://${host.includes(':') ? '[' + host + ']' : host}:${p.PublicPort}/`, target: '_blank', rel: 'noopener' }, text, ' ') : text + ' ';
  });
}

function containerActions(c, after) {
  const b = (label, fn, cls) => el('button', { class: cls, 'data-action': label.toLowerCase(), 'aria-label': `${label} ${name(c)}`,
    onclick: (e) => act(e.currentTarget, async () => { await fn(); if (after) after(); }) }, label);
  const id = c.Id;
  const running = c.State === 'running' || c.State === 'restarting';
  return el('div', { class: 'actions' },
    !running && c.State !== 'paused' ? b('Start', () => call('POST', `/containers/${id}/start`)) : null,
    running ? b('Stop', () => call('POST', `/containers/${id}/stop`)) : null,
    b('Restart', () => call('POST', `/containers/${id}/restart`)),
    running ? b('Pause', () => call('POST', `/containers/${id}/pause`)) : null,
    c.State === 'paused' ? b('Unpause', () => call('POST', `/containers/${id}/unpause`)) : null,
    running ? b('Kill', async () => { if (await confirmAction(`Kill ${name(c)}?`)) await call('POST', `/containers/${id}/kill`); }, 'danger') : null,
    b('Remove', async () => {
      if (await confirmAction(`Remove ${name(c)}${running ? ' (it is running: it will be killed)' : ''}?`))
        await call('DELETE', `/containers/${id}?force=${running ? 1 : 0}&v=0`);
    }, 'danger'));
}

const name = (c) => ((c.Names && c.Names[0]) || c.Name || shortId(c.Id)).replace(/^\//, '');

async function containersView() {
  let all = true;
  let filter = '';
  const body = el('div');
  const search = el('input', { type: 'search', placeholder: 'Filter by name or image', 'aria-label': 'filter containers',
    oninput: (e) => { filter = e.target.value.toLowerCase(); render(); } });
  const allBox = el('input', { type: 'checkbox', id: 'show-all', checked: true, onchange: (e) => { all = e.target.checked; load(); } });
  view.append(el('h1', {}, 'Containers'),
    el('div', { class: 'toolbar' }, search, el('label', {}, allBox, ' show stopped')), body);
  let list = [];
  function render() {
    const shown = list.filter((c) => !filter || name(c).toLowerCase().includes(filter) || (c.Image || '').toLowerCase().includes(filter));
    body.replaceChildren(shown.length === 0 ? el('p', { class: 'muted' }, 'No containers.') :
      table(['Name', 'Image', 'State', 'Status', 'Ports', 'Created', 'Actions'], shown.map((c) => [
        el('a', { href: `#/containers/${encodeURIComponent(name(c))}`, 'data-container': name(c) }, name(c)),
        c.Image, stateBadge(c), c.Status, el('span', {}, portLinks(c.Ports)), ago(c.Created), containerActions(c, load)]),
      { wide: [5] }));
  }
  const load = newestOnly(() => get(`/containers/json?all=${all ? 1 : 0}`), (l) => { list = l; render(); });
  onLeave(refreshOn(['container'], load));
  await load();
}

async function containerPage(id) {
  let info = await get(`/containers/${encodeURIComponent(id)}/json`);
  const header = el('div');
  const panel = el('div');
  const tabs = ['Overview', 'Logs', 'Stats', 'Processes', 'Terminal'];
  let current = 'Overview';
  let stopPanel = null;
  const tabBar = el('div', { class: 'tabs', role: 'tablist' }, tabs.map((t) =>
    el('button', { role: 'tab', 'data-tab': t.toLowerCase(), 'aria-selected': t === current ? 'true' : 'false', onclick: () => select(t) }, t)));
  view.append(el('p', {}, el('a', { href: '#/containers' }, '← Containers')), header, tabBar, panel);

  function renderHeader() {
    const c = { Id: info.Id, Name: info.Name, State: info.State.Status };
    header.replaceChildren(el('h1', {}, name(c), ' ', el('span', { class: 'state ' + c.State, id: 'container-state' }, c.State)),
      el('div', { class: 'toolbar' }, el('span', { class: 'muted mono' }, shortId(info.Id) + ' · ' + info.Config.Image), containerActions(c, reload)));
  }
  const reload = newestOnly(() => get(`/containers/${info.Id}/json`), (i) => {
    info = i;
    renderHeader();
    if (current === 'Overview') select('Overview');
  });
  function select(t) {
    current = t;
    for (const b of tabBar.children) b.setAttribute('aria-selected', b.textContent === t ? 'true' : 'false');
    if (stopPanel) stopPanel();
    stopPanel = null;
    panel.replaceChildren();
    const pages = { Overview: overviewTab, Logs: logsTab, Stats: statsTab, Processes: topTab, Terminal: terminalTab };
    stopPanel = pages[t](panel, info) || null;
  }
  onLeave(() => { if (stopPanel) stopPanel(); });
  onLeave(onEvents((ev) => { if (ev.Type === 'container' && ev.id === info.Id) reload(); }));
  renderHeader();
  select('Overview');
}

function overviewTab(panel, info) {
  const s = info.State;
  const kv = [['Status', s.Status + (s.Health ? ` (${s.Health.Status})` : '')], ['Started', s.StartedAt], ['Finished', s.FinishedAt],
    ['Exit code', s.ExitCode], ['Command', [info.Path, ...(info.Args || [])].join(' ')], ['Image', info.Config.Image],
    ['Restart policy', info.HostConfig.RestartPolicy ? info.HostConfig.RestartPolicy.Name || 'no' : 'no'],
    ['Networks', Object.keys(info.NetworkSettings.Networks || {}).join(', ')],
    ['Mounts', (info.Mounts || []).map((m) => `${m.Name || m.Source} → ${m.Destination}`).join(', ')]];
  panel.append(el('div', { class: 'kv' }, kv.flatMap(([k, v]) => [el('span', { class: 'muted' }, k), el('span', {}, String(v ?? ''))])),
    el('h2', {}, 'Inspect'), el('pre', { id: 'inspect' }, JSON.stringify(info, null, 2)));
}

// Docker's multiplexed stream (no tty): 8-byte headers, stream type then big-endian length.
function stdcopyDecoder(onText) {
  let pending = new Uint8Array(0);
  const dec = new TextDecoder();
  return (chunk) => {
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending);
    joined.set(chunk, pending.length);
    let off = 0;
    while (joined.length - off >= 8) {
      const len = (joined[off + 4] << 24 >>> 0) + (joined[off + 5] << 16) + (joined[off + 6] << 8) + joined[off + 7];
      if (joined.length - off - 8 < len) break;
      onText(dec.decode(joined.subarray(off + 8, off + 8 + len)), joined[off]);
      off += 8 + len;
    }
    pending = joined.slice(off);
  };
}

function logsTab(panel, info) {
  const ctrl = new AbortController();
  const out = el('pre', { id: 'logs', 'aria-live': 'polite' });
  let text = '';
  let query = '';
  const search = el('input', { type: 'search', placeholder: 'Search the logs', 'aria-label': 'search logs',
    oninput: (e) => { query = e.target.value; render(); } });
  panel.append(el('div', { class: 'toolbar' }, search, el('span', { class: 'muted' }, 'following')), out);
  let pending = false;
  function render() {
    pending = false;
    const lines = text.split('\n');
    const shown = query ? lines.filter((l) => l.toLowerCase().includes(query.toLowerCase())) : lines;
    const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 20;
    if (!query) out.textContent = shown.join('\n');
    else out.replaceChildren(...shown.flatMap((l) => {
      const parts = [];
      const lower = l.toLowerCase(), q = query.toLowerCase();
      let at = 0, i;
      while ((i = lower.indexOf(q, at)) >= 0) { parts.push(l.slice(at, i), el('mark', {}, l.slice(i, i + q.length))); at = i + q.length; }
      parts.push(l.slice(at), '\n');
      return parts;
    }));
    if (stick) out.scrollTop = out.scrollHeight;
  }
  const append = (s) => {
    text += s;
    if (text.length > 2000000) text = text.slice(-1000000);
    if (!pending) { pending = true; requestAnimationFrame(render); }
  };
  (async () => {
    const resp = await call('GET', `/containers/${info.Id}/logs?follow=1&stdout=1&stderr=1&tail=1000`, { signal: ctrl.signal });
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    const demux = stdcopyDecoder((s) => append(s));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (info.Config.Tty) append(dec.decode(value, { stream: true })); else demux(value);
    }
  })().catch(showError);
  return () => ctrl.abort();
}

// A line chart of the last points on a canvas (no library: the page loads nothing from outside).
function chart(title, format) {
  const canvas = el('canvas', { width: 600, height: 140, role: 'img', 'aria-label': title });
  const value = el('span', { class: 'value' }, '—');
  const box = el('div', { class: 'chart', 'data-chart': title }, el('div', {}, title, ': ', value), canvas);
  const points = [];
  return {
    box,
    push(v) {
      points.push(v);
      if (points.length > 60) points.shift();
      value.textContent = format(v);
      const ctx = canvas.getContext('2d');
      const w = canvas.width, h = canvas.height;
      ctx.clearRect(0, 0, w, h);
      const max = Math.max(...points, 1e-9) * 1.1;
      ctx.strokeStyle = '#d9dee7';
      ctx.beginPath(); ctx.moveTo(0, h - 0.5); ctx.lineTo(w, h - 0.5); ctx.stroke();
      ctx.strokeStyle = '#2460c9';
      ctx.lineWidth = 2;
      ctx.beginPath();
      points.forEach((p, i) => {
        const x = (i / 59) * w, y = h - (p / max) * (h - 10) - 2;
        if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      });
      ctx.stroke();
    },
  };
}

function statsTab(panel, info) {
  const ctrl = new AbortController();
  const cpu = chart('CPU', (v) => v.toFixed(1) + ' %');
  const mem = chart('Memory', bytes);
  const net = chart('Network I/O (per second)', (v) => bytes(v) + '/s');
  const blk = chart('Block I/O (per second)', (v) => bytes(v) + '/s');
  const limit = el('p', { class: 'muted' });
  panel.append(limit, el('div', { class: 'charts' }, cpu.box, mem.box, net.box, blk.box));
  let prev = null;
  (async () => {
    const resp = await call('GET', `/containers/${info.Id}/stats?stream=1`, { signal: ctrl.signal });
    for await (const s of jsonLines(resp)) {
      const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
      const sysDelta = (s.cpu_stats.system_cpu_usage || 0) - (s.precpu_stats.system_cpu_usage || 0);
      const cpus = s.cpu_stats.online_cpus || 1;
      cpu.push(sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0);
      const cache = (s.memory_stats.stats && (s.memory_stats.stats.inactive_file ?? s.memory_stats.stats.total_inactive_file)) || 0;
      mem.push(Math.max(0, (s.memory_stats.usage || 0) - cache));
      limit.textContent = s.memory_stats.limit ? 'Memory limit: ' + bytes(s.memory_stats.limit) : '';
      const netTotal = Object.values(s.networks || {}).reduce((a, n) => a + n.rx_bytes + n.tx_bytes, 0);
      const blkTotal = ((s.blkio_stats && s.blkio_stats.io_service_bytes_recursive) || []).reduce((a, e) => a + (e.value || 0), 0);
      const t = Date.parse(s.read) / 1000;
      if (prev && t > prev.t) {
        net.push(Math.max(0, (netTotal - prev.net) / (t - prev.t)));
        blk.push(Math.max(0, (blkTotal - prev.blk) / (t - prev.t)));
      }
      prev = { t, net: netTotal, blk: blkTotal };
    }
  })().catch(showError);
  return () => ctrl.abort();
}

function topTab(panel, info) {
  const body = el('div');
  async function load() {
    try {
      const top = await get(`/containers/${info.Id}/top`);
      body.replaceChildren(table(top.Titles, top.Processes));
    } catch (e) { body.replaceChildren(el('p', { class: 'muted' }, e.message)); }
  }
  panel.append(el('div', { class: 'toolbar' }, el('button', { onclick: load }, 'Refresh')), body);
  load();
}

// xterm.js is a third of a megabyte: loaded the first time a terminal is opened, not with the page.
let xtermLoading = null;
function loadXterm() {
  if (!xtermLoading) {
    xtermLoading = new Promise((resolve) => {
      const script = el('script', { src: '/assets/xterm.js' });
      script.addEventListener('load', () => resolve(!!window.Terminal));
      script.addEventListener('error', () => resolve(false));
      document.head.append(script);
    });
  }
  return xtermLoading;
}

function terminalTab(panel, info) {
  let closed = false, cleanup = null;
  loadXterm().then((ok) => {
    if (closed) return;
    if (!ok) {
      panel.append(el('p', { class: 'muted' }, 'This berth was built without xterm.js (Debian package node-xterm), so the terminal is unavailable.'));
      return;
    }
    cleanup = openTerminal(panel, info);
  });
  return () => { closed = true; if (cleanup) cleanup(); };
}

function openTerminal(panel, info) {
  const shell = el('input', { value: 'sh', 'aria-label': 'command', size: 12 });
  const box = el('div', { class: 'terminal', id: 'terminal' });
  let ws = null, term = null;
  const connect = async () => {
    if (ws) ws.close();
    if (term) term.dispose();
    box.replaceChildren();
    term = new window.Terminal({ cursorBlink: true });
    term.open(box);
    window.berthTerminal = term;  // the page's one terminal, for the browser tests and debugging
    // xterm measures its font after a frame; fitting earlier leaves it at 80x24.
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 30)));
    term.fit();
    const enc = new TextEncoder(), dec = new TextDecoder();
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${proto}://${location.host}/ws/exec/${encodeURIComponent(info.Id)}?token=${TOKEN}` +
      `&cmd=${encodeURIComponent(shell.value || 'sh')}&cols=${term.cols}&rows=${term.rows}`);
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (m) => term.write(typeof m.data === 'string' ? m.data : dec.decode(new Uint8Array(m.data), { stream: true }));
    ws.onclose = () => term.write('\r\n[session closed]\r\n');
    term.on('data', (d) => { if (ws.readyState === 1) ws.send(enc.encode(d)); });
    term.on('resize', (size) => { if (ws.readyState === 1) ws.send(JSON.stringify({ resize: [size.cols, size.rows] })); });
    term.focus();
  };
  const onResize = () => { if (term) term.fit(); };
  window.addEventListener('resize', onResize);
  panel.append(el('div', { class: 'toolbar' }, el('label', {}, 'Command ', shell), el('button', { class: 'primary', onclick: connect }, 'Connect')), box);
  if (info.State.Running) connect();
  else box.append(el('p', { class: 'muted' }, 'The container is not running.'));
  return () => {
    window.removeEventListener('resize', onResize);
    if (ws) ws.close();
    if (term) term.dispose();
    window.berthTerminal = null;
  };
}

// ---- images ----------------------------------------------------------------------------------

// Per-layer progress of a pull or push, as the docker CLI shows it.
function progressList() {
  const rows = new Map();
  const tbody = el('tbody');
  const status = el('p', { class: 'muted', 'data-progress-status': '' });
  const box = el('div', {}, el('table', { class: 'layers' }, tbody), status);
  return {
    box,
    message(m) {
      if (m.error || m.errorDetail) throw new DaemonError((m.errorDetail && m.errorDetail.message) || m.error);
      if (!m.id || !m.progressDetail) { if (m.status) status.textContent = m.status + (m.id ? ' ' + m.id : ''); return; }
      let row = rows.get(m.id);
      if (!row) {
        const bar = el('div');
        row = { text: el('td'), bar, size: el('td', { class: 'muted' }) };
        rows.set(m.id, row);
        tbody.append(el('tr', { 'data-layer': m.id }, el('td', { class: 'mono' }, m.id), row.text, el('td', {}, el('div', { class: 'progress' }, bar)), row.size));
      }
      row.text.textContent = m.status;
      const d = m.progressDetail || {};
      if (d.total) { row.bar.style.width = Math.min(100, (100 * d.current) / d.total) + '%'; row.size.textContent = `${bytes(d.current)} / ${bytes(d.total)}`; }
      if (/complete|Already exists|Pushed|Layer already exists|Mounted/.test(m.status)) row.bar.style.width = '100%';
    },
  };
}

async function imagesView() {
  const body = el('div');
  const ref = el('input', { placeholder: 'registry/repository:tag', 'aria-label': 'image to pull', size: 40, id: 'pull-ref' });
  const progress = el('div', { id: 'pull-progress' });
  const pull = el('button', { class: 'primary', id: 'pull', onclick: (e) => act(e.currentTarget, async () => {
    const [name, tag] = splitRef(ref.value.trim());
    if (!name) throw new Error('Name an image to pull');
    const list = progressList();
    progress.replaceChildren(list.box);
    const resp = await call('POST', `/images/create?fromImage=${encodeURIComponent(name)}&tag=${encodeURIComponent(tag || 'latest')}`);
    for await (const m of jsonLines(resp)) list.message(m);
    load();
  }) }, 'Pull');
  view.append(el('h1', {}, 'Images'),
    el('div', { class: 'toolbar' }, ref, pull,
      el('button', { onclick: (e) => act(e.currentTarget, async () => {
        if (!(await confirmAction('Remove all dangling images?'))) return;
        const r = await (await call('POST', '/images/prune')).json();
        showNote(`Reclaimed ${bytes(r.SpaceReclaimed)}`);
        load();
      }) }, 'Prune')), progress, body);
  const load = newestOnly(() => get('/images/json'), (images) => {
      body.replaceChildren(images.length === 0 ? el('p', { class: 'muted' }, 'No images.') :
        table(['Repository:tag', 'ID', 'Created', 'Size', 'Actions'], images.map((img) => {
          const tags = (img.RepoTags || []).filter((t) => t !== '<none>:<none>');
          const label = tags.length ? tags.join(', ') : '<none>';
          return [el('a', { href: `#/images/${encodeURIComponent(img.Id)}` }, label), el('span', { class: 'mono' }, shortId(img.Id)), ago(img.Created), bytes(img.Size),
            el('div', { class: 'actions' },
              tags.length ? el('button', { onclick: (e) => act(e.currentTarget, () => pushImage(tags[0], progress)) }, 'Push') : null,
              el('button', { class: 'danger', 'aria-label': `remove ${label}`, onclick: (e) => act(e.currentTarget, async () => {
                if (!(await confirmAction(`Remove ${label}?`))) return;
                await call('DELETE', `/images/${encodeURIComponent(tags[0] || img.Id)}`);
                load();
              }) }, 'Remove'))];
        }), { wide: [2] }));
  });
  onLeave(refreshOn(['image'], load, 150));
  await load();
}

function splitRef(ref) {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), ref.slice(at + 1)];
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, ''];
}

async function pushImage(ref, progress) {
  const [name, tag] = splitRef(ref);
  const list = progressList();
  progress.replaceChildren(el('h2', {}, 'Push ' + ref), list.box);
  // docker sends an X-Registry-Auth header on every push; anonymous is "{}".
  const resp = await call('POST', `/images/${encodeURIComponent(name)}/push?tag=${encodeURIComponent(tag || 'latest')}`,
    { headers: { 'X-Registry-Auth': btoa('{}') } });
  for await (const m of jsonLines(resp)) list.message(m);
}

function showNote(text) {
  const box = document.getElementById('errors');
  const div = el('div', { class: 'note' }, text, el('button', { onclick: () => div.remove() }, '×'));
  box.append(div);
  setTimeout(() => div.remove(), 5000);
}

async function imagePage(id) {
  const info = await get(`/images/${encodeURIComponent(id)}/json`);
  const history = await get(`/images/${encodeURIComponent(id)}/history`);
  view.append(el('p', {}, el('a', { href: '#/images' }, '← Images')),
    el('h1', {}, (info.RepoTags && info.RepoTags[0]) || shortId(info.Id)),
    el('h2', {}, 'Layers and history'),
    table(['Created by', 'Size', 'Created'], history.map((h) => [el('span', { class: 'mono' }, h.CreatedBy), bytes(h.Size), ago(h.Created)])),
    el('h2', {}, 'Inspect'), el('pre', {}, JSON.stringify(info, null, 2)));
}

// ---- volumes and networks --------------------------------------------------------------------

async function usersOf(kind) {
  const containers = await get('/containers/json?all=1');
  const users = new Map();
  for (const c of containers) {
    const keys = kind === 'volume' ? (c.Mounts || []).filter((m) => m.Type === 'volume').map((m) => m.Name)
      : Object.values((c.NetworkSettings && c.NetworkSettings.Networks) || {}).map((n) => n.NetworkID);
    for (const k of keys) users.set(k, [...(users.get(k) || []), name(c)]);
  }
  return users;
}

async function volumesView() {
  const body = el('div');
  const nameIn = el('input', { placeholder: 'volume name (empty: generated)', 'aria-label': 'volume name' });
  view.append(el('h1', {}, 'Volumes'), el('div', { class: 'toolbar' }, nameIn,
    el('button', { class: 'primary', onclick: (e) => act(e.currentTarget, async () => {
      await call('POST', '/volumes/create', { body: nameIn.value ? { Name: nameIn.value } : {} });
      nameIn.value = '';
      load();
    }) }, 'Create'),
    el('button', { onclick: (e) => act(e.currentTarget, async () => {
      if (!(await confirmAction('Remove all unused anonymous volumes?'))) return;
      const r = await (await call('POST', '/volumes/prune')).json();
      showNote(`Reclaimed ${bytes(r.SpaceReclaimed)}`);
      load();
    }) }, 'Prune')), body);
  const load = newestOnly(() => Promise.all([get('/volumes'), usersOf('volume')]), ([vols, users]) => {
      const list = vols.Volumes || [];
      body.replaceChildren(list.length === 0 ? el('p', { class: 'muted' }, 'No volumes.') :
        table(['Name', 'Driver', 'Mountpoint', 'Used by', 'Actions'], list.map((v) => [el('a', { class: 'mono', href: `#/volumes/${encodeURIComponent(v.Name)}` }, v.Name), v.Driver,
          el('span', { class: 'mono' }, v.Mountpoint), (users.get(v.Name) || []).join(', ') || '—',
          el('button', { class: 'danger', onclick: (e) => act(e.currentTarget, async () => {
            if (!(await confirmAction(`Remove volume ${v.Name}?`))) return;
            await call('DELETE', `/volumes/${encodeURIComponent(v.Name)}`);
            load();
          }) }, 'Remove')]), { wide: [2] }));
  });
  onLeave(refreshOn(['volume', 'container'], load, 300));
  await load();
}

async function volumePage(id) {
  const [v, users] = await Promise.all([get(`/volumes/${encodeURIComponent(id)}`), usersOf('volume')]);
  view.append(el('p', {}, el('a', { href: '#/volumes' }, '← Volumes')), el('h1', {}, v.Name),
    el('div', { class: 'kv' }, [['Driver', v.Driver], ['Mountpoint', v.Mountpoint], ['Created', v.CreatedAt],
      ['Used by', (users.get(v.Name) || []).join(', ') || '—']].flatMap(([k, val]) => [el('span', { class: 'muted' }, k), el('span', {}, String(val ?? ''))])),
    el('h2', {}, 'Inspect'), el('pre', {}, JSON.stringify(v, null, 2)));
}

async function networksView() {
  const body = el('div');
  const nameIn = el('input', { placeholder: 'network name', 'aria-label': 'network name' });
  const subnet = el('input', { placeholder: 'subnet (optional)', 'aria-label': 'subnet', size: 16 });
  view.append(el('h1', {}, 'Networks'), el('div', { class: 'toolbar' }, nameIn, subnet,
    el('button', { class: 'primary', onclick: (e) => act(e.currentTarget, async () => {
      const spec = { Name: nameIn.value, Driver: 'bridge' };
      if (subnet.value) spec.IPAM = { Config: [{ Subnet: subnet.value }] };
      await call('POST', '/networks/create', { body: spec });
      nameIn.value = subnet.value = '';
      load();
    }) }, 'Create')), body);
  const load = newestOnly(() => Promise.all([get('/networks'), usersOf('network')]), ([nets, users]) => {
      body.replaceChildren(table(['Name', 'Driver', 'Subnet', 'Containers', 'Actions'], nets.map((n) => [
        el('a', { href: `#/networks/${encodeURIComponent(n.Id)}` }, n.Name), n.Driver,
        ((n.IPAM && n.IPAM.Config) || []).map((c) => c.Subnet).join(', '), (users.get(n.Id) || []).join(', ') || '—',
        ['bridge', 'host', 'none'].includes(n.Name) ? '' : el('button', { class: 'danger', onclick: (e) => act(e.currentTarget, async () => {
          if (!(await confirmAction(`Remove network ${n.Name}?`))) return;
          await call('DELETE', `/networks/${encodeURIComponent(n.Id)}`);
          load();
        }) }, 'Remove')])));
  });
  onLeave(refreshOn(['network'], load, 300));
  await load();
}

async function networkPage(id) {
  const n = await get(`/networks/${encodeURIComponent(id)}`);
  view.append(el('p', {}, el('a', { href: '#/networks' }, '← Networks')), el('h1', {}, n.Name),
    table(['Container', 'IPv4', 'MAC'], Object.values(n.Containers || {}).map((c) => [c.Name, c.IPv4Address, c.MacAddress])),
    el('h2', {}, 'Inspect'), el('pre', {}, JSON.stringify(n, null, 2)));
}

// ---- build -----------------------------------------------------------------------------------

// A tar archive (ustar) of one file, for a build from a Dockerfile typed into the page.
function tarOf(name, text) {
  const data = new TextEncoder().encode(text);
  const header = new Uint8Array(512);
  const put = (s, off) => { for (let i = 0; i < s.length; i++) header[off + i] = s.charCodeAt(i); };
  const octal = (n, len) => n.toString(8).padStart(len - 1, '0');
  put(name, 0); put(octal(0o644, 8), 100); put(octal(0, 8), 108); put(octal(0, 8), 116);
  put(octal(data.length, 12), 124); put(octal(Math.floor(Date.now() / 1000), 12), 136);
  put('        ', 148); put('0', 156); put('ustar\u000000', 257);
  put(octal(header.reduce((a, b) => a + b, 0), 7), 148);
  const size = 512 + Math.ceil(data.length / 512) * 512 + 1024;
  const tar = new Uint8Array(size);
  tar.set(header);
  tar.set(data, 512);
  return tar;
}

function buildView() {
  const tag = el('input', { placeholder: 'tag (name:tag)', 'aria-label': 'tag', id: 'build-tag' });
  const dockerfile = el('textarea', { rows: 10, 'aria-label': 'Dockerfile', id: 'build-dockerfile' }, 'FROM busybox\nRUN echo built > /hello\nCMD ["cat", "/hello"]\n');
  const context = el('input', { type: 'file', 'aria-label': 'context archive', accept: '.tar,.tar.gz,.tgz,.tar.xz,.tar.zst' });
  const nocache = el('input', { type: 'checkbox' });
  const out = el('pre', { id: 'build-output' });
  const build = el('button', { class: 'primary', id: 'build', onclick: (e) => act(e.currentTarget, async () => {
    out.textContent = '';
    const file = context.files[0];
    const body = file ? file : new Blob([tarOf('Dockerfile', dockerfile.value)]);
    const q = new URLSearchParams({ rm: '1' });
    if (tag.value) q.set('t', tag.value);
    if (nocache.checked) q.set('nocache', '1');
    const resp = await call('POST', '/build?' + q, { body, headers: { 'Content-Type': 'application/x-tar' } });
    for await (const m of jsonLines(resp)) {
      if (m.stream) out.textContent += m.stream;
      if (m.status) out.textContent += m.status + '\n';
      if (m.aux && m.aux.ID) out.textContent += 'Built ' + m.aux.ID + '\n';
      if (m.errorDetail || m.error) throw new DaemonError((m.errorDetail && m.errorDetail.message) || m.error);
      out.scrollTop = out.scrollHeight;
    }
  }) }, 'Build');
  view.append(el('h1', {}, 'Build'),
    el('p', { class: 'muted' }, 'A Dockerfile alone, or a context archive holding one (then its Dockerfile is used).'),
    el('div', { class: 'toolbar' }, tag, el('label', {}, nocache, ' no cache'), el('label', {}, 'Context ', context), build),
    dockerfile, el('h2', {}, 'Output'), out);
}

// ---- events and system -----------------------------------------------------------------------

function eventsView() {
  const tbody = el('tbody', { id: 'events' });
  view.append(el('h1', {}, 'Events'), el('p', { class: 'muted' }, 'As they happen (newest first).'),
    el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, el('tr', {}, ['Time', 'Type', 'Action', 'Object'].map((h) => el('th', {}, h)))), tbody)));
  onLeave(onEvents((ev) => {
    const who = (ev.Actor && ev.Actor.Attributes && ev.Actor.Attributes.name) || shortId(ev.Actor && ev.Actor.ID);
    const when = new Date(ev.timeNano ? ev.timeNano / 1e6 : ev.time * 1000).toLocaleTimeString();
    tbody.prepend(el('tr', {}, el('td', {}, when), el('td', {}, ev.Type), el('td', {}, ev.Action), el('td', {}, who)));
    while (tbody.children.length > 500) tbody.lastChild.remove();
  }));
}

async function systemView() {
  const [df, info] = await Promise.all([get('/system/df'), get('/info')]);
  const sum = (xs, f) => (xs || []).reduce((a, x) => a + (f(x) || 0), 0);
  const parts = [
    ['Images', sum(df.Images, (i) => i.Size), (df.Images || []).length],
    ['Containers', sum(df.Containers, (c) => c.SizeRw), (df.Containers || []).length],
    ['Volumes', sum(df.Volumes, (v) => v.UsageData && v.UsageData.Size > 0 ? v.UsageData.Size : 0), (df.Volumes || []).length],
    ['Build cache', sum(df.BuildCache, (b) => b.Size), (df.BuildCache || []).length],
  ];
  const max = Math.max(...parts.map((p) => p[1]), 1);
  view.append(el('h1', {}, 'System'),
    el('div', { class: 'kv' }, [['Server', info.ServerVersion], ['Storage driver', info.Driver], ['Cgroups', `${info.CgroupDriver} v${info.CgroupVersion}`],
      ['Containers', `${info.Containers} (${info.ContainersRunning} running)`], ['Images', info.Images], ['Kernel', info.KernelVersion]]
      .flatMap(([k, v]) => [el('span', { class: 'muted' }, k), el('span', {}, String(v ?? ''))])),
    el('h2', {}, 'Disk usage'),
    el('div', { class: 'bars', id: 'df' }, parts.map(([label, size, count]) => {
      const fill = el('div', { class: 'fill' });
      fill.style.width = (100 * size) / max + '%';
      return el('div', { class: 'bar' }, el('span', {}, `${label} (${count})`), fill, el('span', {}, bytes(size)));
    })));
}

// ---- start -----------------------------------------------------------------------------------

window.addEventListener('hashchange', route);
followEvents();
route();

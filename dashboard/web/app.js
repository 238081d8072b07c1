// The dashboard page: signs in (a session cookie the server sets, HttpOnly),
// then polls /api/snapshot every second (short polling keeps the server
// simple: any number of tabs cost one cached JSON each), renders each
// section, and polls the selected order's timeline while it is open. Action
// buttons are shown to admin only (the server refuses everyone else anyway).
'use strict';

const POLL_MS = 1000;
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const badge = (s) => `<span class="badge ${esc(s)}">${esc(s)}</span>`;
const time = (t) => (t ? new Date(t).toLocaleTimeString() : '');
const ago = (t) => {
  if (!t) return '';
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  return s >= 0 ? `${s}s ago` : `in ${-s}s`;
};
const pct = (v) => (v === undefined || v === null || v < 0 ? '–' : `${v.toFixed(1)}%`);
const ms = (sec) => (sec === undefined || sec === null ? '–' : `${(sec * 1000).toFixed(1)}ms`);
const money = (cents, cur) => (cents === undefined ? '' : `${(cents / 100).toFixed(2)} ${esc(cur || '')}`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let session = null;  // {username, roles, admin} once signed in
let selectedOrder = null;
let search = null;   // {customerId} while a search result is shown
let lastOk = 0;

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function getJson(url, options) {
  const r = await fetch(url, Object.assign({ cache: 'no-store' }, options));
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { detail: text }; }
  if (!r.ok) throw new HttpError(r.status, (body && (body.detail || body.title)) || `HTTP ${r.status}`);
  return body;
}

// Only http(s) links: a registered URL could be javascript: or data:.
const safeUrl = (u) => (/^https?:\/\//i.test(String(u || '')) ? String(u) : '');

function showSignIn(message) {
  session = null;
  $('main').hidden = true;
  $('who').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message || '';
}

function signedIn(s) {
  session = s;
  $('sign-in').hidden = true;
  $('main').hidden = false;
  $('who').hidden = false;
  $('who').textContent = `${s.username} (${s.admin ? 'admin' : 'viewer'})`;
  $('sign-out').hidden = false;
}

function renderRegistry(reg) {
  $('self-preservation').hidden = !reg.selfPreservation;
  const apps = reg.apps || [];
  let up = 0, total = 0;
  const rows = [];
  for (const app of apps) {
    for (const i of app.instances) {
      total++;
      if (i.status === 'UP') up++;
      const md = i.metadata || {};
      rows.push(`<tr class="instance${i.dead ? ' dead' : ''}" data-app="${esc(app.name)}" data-instance="${esc(i.instanceId)}" data-status="${esc(i.status)}">
        <td>${esc(app.name)}</td><td>${safeUrl(i.homePageUrl) ? `<a href="${esc(safeUrl(i.homePageUrl))}actuator/info">${esc(i.instanceId)}</a>` : esc(i.instanceId)}</td>
        <td class="status">${badge(i.status)}${i.registryStatus && i.registryStatus !== i.status ? ` <small>(registry: ${esc(i.registryStatus)})</small>` : ''}</td>
        <td class="reason">${i.dead ? `<span class="error">${esc(i.deadReason)}</span>` : badge(i.health || '?')}</td>
        <td title="${esc(i.lastRenewal)}">${esc(ago(i.lastRenewal))}</td>
        <td title="${esc(i.leaseExpiresAt)}">${esc(ago(i.leaseExpiresAt))}</td>
        <td>${esc(md.version || '')} ${esc(md.zone || '')}</td></tr>`);
    }
  }
  $('instances').innerHTML = rows.join('') || `<tr><td colspan="7" class="muted">${reg.reachable ? 'no instances registered' : 'registry unreachable: ' + esc(reg.error)}</td></tr>`;
  $('registry-summary').textContent = reg.reachable
    ? `${up}/${total} instances UP · renewals last minute ${reg.renewsLastMinute ?? '–'} (threshold ${reg.renewsThreshold ?? '–'}) · evictions ${reg.evictions ?? 0}`
    : `unreachable: ${reg.error}`;
  $('registry-events').innerHTML = (reg.recentEvents || []).map((e) =>
    `<li>${esc(time(e.at))} ${esc(e.kind)} ${esc(e.app)} ${esc(e.instanceId)} ${esc(e.status || '')}</li>`).join('');

  $('breakers').innerHTML = (reg.breakers || []).map((b) => {
    const lat = b.latencySeconds || {};
    return `<div class="tile breaker ${esc(b.state)}" data-app="${esc(b.app)}" data-instance="${esc(b.instanceId)}" data-name="${esc(b.name)}" data-state="${esc(b.state)}">
      <h4>${esc(b.name)} ${badge(b.state)}</h4>
      <div class="where">on ${esc(b.app)} · ${esc(b.instanceId)}</div>
      <div class="nums">failure ${pct(b.failureRatePercent)} · slow ${pct(b.slowCallRatePercent)}<br>
      buffered ${b.bufferedCalls} · failed ${b.failedCalls} · not permitted ${b.notPermittedCalls}<br>
      total ok ${b.successfulCallsTotal} · failed ${b.failedCallsTotal}<br>
      p50 ${ms(lat.p50)} · p90 ${ms(lat.p90)} · p99 ${ms(lat.p99)}</div></div>`;
  }).join('') || '<p class="muted">no breakers reported</p>';

  $('bulkheads').innerHTML = (reg.bulkheads || []).map((b) => {
    const used = Math.round((b.saturation || 0) * 100);
    return `<div class="tile bulkhead" data-name="${esc(b.name)}" data-instance="${esc(b.instanceId)}">
      <h4>${esc(b.name)}</h4><div class="where">on ${esc(b.app)} · ${esc(b.instanceId)}</div>
      <div class="nums">${b.maxAllowedConcurrentCalls - b.availableConcurrentCalls}/${b.maxAllowedConcurrentCalls} in use · rejected ${b.rejectedCalls ?? 0}</div>
      <div class="bar${used >= 100 ? ' full' : ''}"><span style="width:${used}%"></span></div></div>`;
  }).join('') || '<p class="muted">no bulkheads reported</p>';
}

function orderRow(o) {
  return `<tr class="order${o.orderId === selectedOrder ? ' selected' : ''}" data-order-id="${esc(o.orderId)}" data-status="${esc(o.status)}">
    <td><code>${esc(o.orderId.slice(0, 8))}</code></td><td>${esc(o.customerId)}</td><td>${badge(o.status)}</td>
    <td>${esc(o.reason || '')}</td><td>${money(o.totalCents, o.currency)}</td><td>${esc(time(o.createdAt))}</td>
    <td>${o.sagaMs != null ? `${o.steps} steps · ${o.sagaMs} ms` : ''}</td></tr>`;
}

function renderOrders(orders) {
  if (search) return;  // a search result stays until "Recent"
  $('orders-error').textContent = orders.reachable ? '' : `order-service: ${orders.error}`;
  $('order-list').innerHTML = (orders.items || []).map(orderRow).join('') || '<tr><td colspan="7" class="muted">no orders yet</td></tr>';
}

const FAILURES = /Failed|Rejected|Cancelled/;
const COMPENSATIONS = /Refunded|Released/;

async function renderDetail() {
  if (!selectedOrder) return;
  const id = selectedOrder;
  try {
    const d = await getJson(`/api/orders/${encodeURIComponent(id)}`);
    if (id !== selectedOrder) return;
    const o = d.order;
    const steps = d.timeline.map((s) => {
      const cls = FAILURES.test(s.event) ? 'failure' : COMPENSATIONS.test(s.event) ? 'compensation' : '';
      return `<li class="step ${cls}" data-event="${esc(s.event)}" data-source="${esc(s.source)}">
        <b>${esc(s.event)}</b> <span class="muted">by ${esc(s.source)}</span>
        ${s.detail ? `<div class="error">${esc(s.detail)}</div>` : ''}
        <div class="when">${esc(time(s.at))} · +${s.sinceStartMs} ms (step ${s.stepMs} ms)</div></li>`;
    }).join('');
    $('order-detail').innerHTML = `<h3>Order <code>${esc(o.orderId)}</code></h3>
      <p data-status="${esc(o.status)}" id="order-detail-status">${badge(o.status)} ${o.reason ? `<span class="error" id="order-detail-reason">${esc(o.reason)}</span>` : ''}
      · ${esc(o.customerId)} · ${money(o.totalCents, o.currency)}</p>
      <p class="muted">${(o.items || []).map((i) => `${esc(i.quantity)} × ${esc(i.sku)} @ ${money(i.unitPriceCents, o.currency)}`).join(', ')}</p>
      <ol class="timeline">${steps}</ol>
      ${d.notificationsError ? `<p class="error">notifications: ${esc(d.notificationsError)}</p>` : ''}`;
  } catch (e) {
    if (id === selectedOrder) $('order-detail').innerHTML = `<p class="error">order ${esc(id)}: ${esc(e.message)}</p>`;
  }
}

async function runSearch() {
  const q = $('order-search').value.trim();
  if (!q) { search = null; return; }
  if (UUID.test(q)) {
    selectedOrder = q.toLowerCase();
    await renderDetail();
    return;
  }
  search = { customerId: q };
  try {
    const r = await getJson(`/api/orders?customerId=${encodeURIComponent(q)}&limit=50`);
    $('orders-error').textContent = r.items.length ? '' : `no orders of customer ${q}`;
    $('order-list').innerHTML = r.items.map(orderRow).join('');
  } catch (e) {
    $('orders-error').textContent = e.message;
  }
}

function renderKafka(k, dlt) {
  $('kafka-error').textContent = k.reachable ? '' : `Kafka: ${k.error}`;
  $('kafka-summary').textContent = `bootstrap ${k.bootstrap || '–'}${k.devbroker ? ' · dev broker (faults enabled)' : ''}`;
  const faults = !!k.devbroker && session && session.admin;
  $('brokers').innerHTML = (k.brokers || []).map((b) => `<div class="tile broker ${esc(b.state)}" data-broker="${b.id}" data-state="${esc(b.state)}">
      <h4>broker ${b.id} ${badge(b.state)}</h4><div class="where">${esc(b.host)}:${b.port}${b.rttMs ? ` · +${b.rttMs} ms RTT` : ''}</div>
      ${faults ? `<button data-fault="${b.state === 'DOWN' ? 'up' : 'down'}" data-broker="${b.id}">${b.state === 'DOWN' ? 'Bring up' : 'Take down'}</button>
      <button data-fault="rtt" data-broker="${b.id}" data-ms="${b.rttMs ? 0 : 200}">${b.rttMs ? 'Clear latency' : 'Add 200 ms'}</button>` : ''}
    </div>`).join('');
  $('groups').innerHTML = (k.groups || []).map((g) => `<tr class="group" data-group="${esc(g.group)}" data-lag="${g.totalLag}">
      <td>${esc(g.group)}</td><td>${g.error ? `<span class="error">${esc(g.error)}</span>` : g.totalLag}</td>
      <td class="muted">${g.partitions.filter((p) => p.lag > 0 || p.committed >= 0).map((p) => `${esc(p.topic)}/${p.partition}: ${p.committed} → ${p.high}${p.lag ? ` (<b>${p.lag}</b>)` : ''}`).join(' · ')}</td></tr>`).join('');
  $('topics').innerHTML = (k.topics || []).map((t) => `<tr class="topic" data-topic="${esc(t.name)}"><td>${esc(t.name)}</td>
      <td>${t.partitions.map((p) => `<span title="replicas ${p.replicas.join(',')} isr ${p.isr.join(',')}">${p.id}: <b>${p.leader}</b> [${p.replicas.join(',')}] (${p.isr.join(',')})${p.error ? ` <span class="error">${esc(p.error)}</span>` : ''}</span>
      ${faults ? `<button data-leader-topic="${esc(t.name)}" data-partition="${p.id}" data-to="${p.leader % (k.brokers || []).length + 1}" title="move the leader">⇄</button>` : ''}`).join(' · ')}</td></tr>`).join('');
  const d = dlt || { total: 0, items: [] };
  $('dlt-summary').textContent = `${d.total} received, newest ${d.items.length} shown`;
  $('dead-letters').innerHTML = d.items.map((r) => `<tr class="dead-letter" data-topic="${esc(r.topic)}">
      <td>${esc(time(r.at))}</td><td>${esc(r.topic)}/${r.partition}@${r.offset}</td>
      <td>${esc(r.originalTopic)}/${esc(r.originalPartition)}@${esc(r.originalOffset)} <span class="muted">${esc(r.group)}</span></td>
      <td>${esc(r.eventType)}<details class="payload"><summary>payload</summary><pre>${esc(r.payload && r.payload.json ? JSON.stringify(r.payload.json, null, 2) : (r.payload && r.payload.undecodable) || '')}</pre></details></td><td class="error">${esc(r.error)}</td>
      <td>${session && session.admin ? `<button data-replay-topic="${esc(r.topic)}" data-partition="${r.partition}" data-offset="${r.offset}">Replay</button>` : ''}</td></tr>`).join('')
    || '<tr><td colspan="6" class="muted">no dead letters</td></tr>';
}

// The stack's programs and their restart counts (only inside `bazel run //ops:stack`).
function renderPrograms(programs) {
  $('programs').hidden = !Array.isArray(programs);
  if (!Array.isArray(programs)) return;
  $('program-rows').innerHTML = programs.map((p) => `<tr class="program" data-program="${esc(p.name)}" data-restarts="${Number(p.restarts) || 0}">
      <td>${esc(p.name)}</td><td>${badge(p.state)}</td><td class="${p.restarts > 0 ? 'warn' : ''}">${Number(p.restarts) || 0}</td></tr>`).join('');
}

async function poll() {
  if (!session) return;  // signing in starts it again
  try {
    const s = await getJson('/api/snapshot');
    renderRegistry(s.registry);
    renderOrders(s.orders);
    renderKafka(s.kafka, s.deadLetters);
    renderPrograms(s.programs);
    lastOk = Date.now();
    $('live').textContent = `live · ${time(s.generatedAt)}`;
    $('live').classList.remove('stale');
    $('banner').hidden = true;
    await renderDetail();
  } catch (e) {
    if (e.status === 401) return showSignIn('Your session ended: sign in again.');
    $('live').classList.add('stale');
    $('live').textContent = `stale since ${lastOk ? new Date(lastOk).toLocaleTimeString() : 'start'}`;
    $('banner').hidden = false;
    $('banner').className = 'banner error';
    $('banner').textContent = `dashboard service unreachable: ${e.message}`;
  }
  setTimeout(poll, POLL_MS);
}

async function action(url, body, what) {
  try {
    await getJson(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body || {}) });
  } catch (e) {
    alert(`${what}: ${e.message}`);
  }
}

document.addEventListener('click', (ev) => {
  const t = ev.target.closest('button, tr.order');
  if (!t) return;
  if (t.matches('tr.order')) {
    selectedOrder = t.dataset.orderId;
    document.querySelectorAll('tr.order').forEach((r) => r.classList.toggle('selected', r === t));
    renderDetail();
  } else if (t.dataset.fault) {
    const body = t.dataset.fault === 'rtt' ? { ms: Number(t.dataset.ms) } : {};
    action(`/api/kafka/brokers/${t.dataset.broker}/${t.dataset.fault}`, body, `broker ${t.dataset.broker}`);
  } else if (t.dataset.leaderTopic) {
    action(`/api/kafka/partitions/${encodeURIComponent(t.dataset.leaderTopic)}/${t.dataset.partition}/leader`,
      { broker: Number(t.dataset.to) }, 'move leader');
  } else if (t.dataset.replayTopic) {
    action('/api/dead-letters/replay', { topic: t.dataset.replayTopic, partition: Number(t.dataset.partition), offset: Number(t.dataset.offset) }, 'replay');
  }
});
$('order-search-form').addEventListener('submit', (ev) => { ev.preventDefault(); runSearch(); });
$('sign-in').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    await getJson('/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: $('sign-in-user').value, password: $('sign-in-password').value }) });
    $('sign-in-password').value = '';
    signedIn(await getJson('/api/session'));
    poll();
  } catch (e) {
    $('sign-in-error').textContent = e.message;
  }
});
$('sign-out').addEventListener('click', async () => {
  try {
    await getJson('/api/session', { method: 'DELETE', headers: { 'Content-Type': 'application/json' } });
  } catch (e) { /* signed out either way */ }
  showSignIn('Signed out.');
});
$('order-search-clear').addEventListener('click', () => { search = null; $('order-search').value = ''; });

getJson('/api/session').then((s) => { signedIn(s); poll(); }).catch(() => showSignIn(''));

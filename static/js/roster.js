// The lab card's access roster (准入, art. 12-13): who may work here, each with today's status; an
// inspector checks a person by name or staff number, and with one tap records a person working
// without valid access (art. 13(3)): POST /api/labs/<id>/roster/findings through the outbox, named
// by a client UUID (a replay records nothing twice), so it works offline and reaches the lab's
// officers as a rectification ticket once the phone is online. The roster last drawn online is saved
// in the data cache (per user, cleared on logout) and drawn from there offline.
import { get } from './api.js';
import { DATA_CACHE, labFromBundle } from './bundle.js';
import { put } from './db.js';
import { changed } from './outbox.js';
import { uuid } from './photo.js';
import { syncNow } from './sync.js';
import { $, el } from './ui.js';

const labId = (window.location.pathname.match(/\/app\/labs\/(\d+)/) || [])[1];
const me = () => document.body.dataset.userId || '';
const savedKey = `/offline/roster/${labId}`;
let strings = null;
let data = null;

function tr(key, vars = {}) {
  if (!strings) {
    const node = document.getElementById('roster-i18n');
    strings = node ? JSON.parse(node.textContent) : {};
  }
  let s = strings[key] || key;
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

async function save(roster) {
  if (!('caches' in window)) return;
  const body = JSON.stringify({ user_id: me(), saved_at: new Date().toISOString(), roster });
  const cache = await caches.open(DATA_CACHE);
  await cache.put(savedKey, new Response(body, { headers: { 'Content-Type': 'application/json' } }));
}

async function saved() {
  if (!('caches' in window)) return null;
  const resp = await caches.match(savedKey, { cacheName: DATA_CACHE });
  if (!resp) return null;
  const copy = await resp.json();
  return String(copy.user_id) === String(me()) ? copy : null;
}

async function record(body, name) {
  body.client_uuid = uuid();
  const item = {
    id: body.client_uuid, kind: 'report', url: `/api/labs/${labId}/roster/findings`, seq: Date.now() * 1000,
    user_id: me(), created_at: new Date().toISOString(), status: 'pending', attempts: 0, error: null, body,
    deps: [], label: `${tr('record')} · ${name}`, lab_id: Number(labId),
  };
  await put('outbox', item);
  changed();
  const done = $('#roster-recorded');
  done.textContent = tr('queued', { name });
  done.hidden = false;
  syncNow();
}

function matches(entry, q) {
  if (!q) return true;
  const needle = q.trim().toLowerCase();
  return entry.name.toLowerCase().includes(needle) || entry.staff_no.toLowerCase().includes(needle);
}

function draw() {
  if (!data) return;
  const q = $('#roster-search').value;
  const shown = data.entries.filter((e) => matches(e, q));
  $('#roster-list').replaceChildren(...shown.map((e) => {
    const ok = e.status === 'valid';
    const button = !ok && data.may_record_finding
      ? el('button', { type: 'button', class: 'button danger', 'data-record': e.id, text: tr('record'),
        onclick: () => record({ entry_id: e.id }, e.name) })
      : null;
    return el('li', { class: 'pad', 'data-staff-no': e.staff_no, 'data-status': e.status },
      el('strong', { text: e.name }), ` ${e.staff_no} · `,
      el('span', { class: `tag ${ok ? 'ok' : 'bad'}`, text: tr(e.status) }),
      ` ${tr('until', { day: e.valid_until })} `, button);
  }));
  $('#roster-none').hidden = shown.length > 0 || !q;
  $('#roster-unlisted').hidden = !(data.may_record_finding && ((q && q.trim()) || data.unsaved));
  if (!$('#roster-unlisted').hidden && q && q.trim() && !$('#roster-unlisted-name').value) {
    const looksLikeNumber = /^[A-Za-z0-9._-]+$/.test(q.trim());
    $(looksLikeNumber ? '#roster-unlisted-no' : '#roster-unlisted-name').value = q.trim();
  }
}

async function load() {
  if (!labId || !$('#roster-section')) return;
  let roster = null;
  let note = '';
  try {
    const resp = await get(`/api/labs/${labId}/roster`);
    if (resp.ok) { roster = resp.data; await save(roster); } else if (resp.status < 500 && resp.status !== 401) return;
  } catch (e) { /* offline: the saved copy */ }
  if (!roster) {
    const copy = await saved();
    if (copy) {
      roster = copy.roster;
      note = tr('offline_copy', { when: copy.saved_at.slice(0, 16).replace('T', ' ') });
    } else if (!(await labFromBundle(labId))) {
      return; // offline, a lab this user does not inspect (a student at the door QR): nothing of it
    } else {
      // Offline and never opened here online: a person can still be recorded by name; the server
      // judges their access when the finding arrives (a 409 in the outbox if it is valid after all).
      roster = { entries: [], training_required: false, may_record_finding: true, unsaved: true };
      note = tr('not_saved');
    }
  }
  data = roster;
  $('#roster-meta').textContent = [roster.unsaved ? '' : tr('count', { n: roster.entries.length }),
    roster.training_required ? tr('training_required') : '', note].filter(Boolean).join(' · ');
  $('#roster-page-link').href = `/labs/${labId}/roster`;
  $('#roster-section').hidden = false;
  draw();
}

$('#roster-search') && $('#roster-search').addEventListener('input', draw);
$('#roster-unlisted') && $('#roster-unlisted').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('#roster-unlisted-name').value.trim();
  if (!name) return;
  await record({ name, staff_no: $('#roster-unlisted-no').value.trim() }, name);
  $('#roster-unlisted-name').value = '';
  $('#roster-unlisted-no').value = '';
});
load();

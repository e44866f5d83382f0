// Tickets on the phone: the list in the user's scope (state, level, overdue filters) and one
// ticket with its history, evidence photos and the actions this user may take.
import { get } from './api.js';
import { saveTicket, savedTicket } from './bundle.js';
import { discard, enqueueTicketAction, itemsFor } from './outbox.js';
import { cameraFile, downscale, uuid } from './photo.js';
import { syncNow } from './sync.js';
import { replySlip } from './ticket_signature.js';
import { $, el, fmtDeadline, fmtTime, isOverdue, status, stateLabel, t, ticketItem, ticketLevelLabel } from './ui.js';

const page = document.querySelector('[data-page]').dataset.page;

// Pages of PAGE tickets (a phone screenful or two); "more" fetches the page the API announced in its
// `Link: <...>; rel="next"` header (same filters, offset advanced) and appends it. No header: last page.
const PAGE = 50;
let nextUrl = null; // the next page of the list shown, from the last response's Link rel="next"
let listGeneration = 0; // a filter change while a page is loading discards that page

function moreButton() {
  let b = $('#tickets-more');
  if (!b) {
    b = el('button', { type: 'button', id: 'tickets-more', class: 'big block', text: t('more_tickets'), hidden: true });
    b.addEventListener('click', () => loadPage(false));
    $('#ticket-list').after(b);
  }
  return b;
}

async function loadPage(fresh) {
  const s = $('#tickets-status');
  const more = moreButton();
  let url = nextUrl;
  if (fresh) {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData($('#ticket-filters')).entries()) if (v) q.set(k, v);
    q.set('limit', String(PAGE));
    url = `/api/tickets?${q}`;
    nextUrl = null;
    more.hidden = true;
  }
  if (!url) return;
  const generation = ++listGeneration;
  status(s, t('loading'));
  more.disabled = true;
  try {
    const r = await get(url);
    if (generation !== listGeneration) return;
    if (!r.ok) { status(s, (r.error && r.error.message) || t('load_failed')); return; }
    const list = r.data.items || r.data;
    if (fresh) $('#ticket-list').replaceChildren(...list.map(ticketItem));
    else $('#ticket-list').append(...list.map(ticketItem));
    nextUrl = r.next;
    status(s, fresh && !list.length ? t('no_tickets') : '');
    more.hidden = !nextUrl;
  } catch (e) {
    if (generation === listGeneration) status(s, t('needs_online'));
  } finally {
    if (generation === listGeneration) more.disabled = false;
  }
}

const loadList = () => loadPage(true);

// A thumbnail that opens the full photo; its alt text names the link ("Photo 2 (full size)"). A photo
// the server does not have yet (its phone sends the report first, the photos after) is a placeholder
// saying the evidence is arriving, never a broken image (as templates/_evidence.html on the pages).
function photoLink(p, index) {
  const id = typeof p === 'string' ? p : p.uuid;
  if (typeof p === 'object' && p.arrived === false) {
    return el('span', { class: 'photo-arriving', 'data-photo': id, title: t('photo_n', { n: index + 1 }), text: t('evidence_arriving') });
  }
  const thumb = (typeof p === 'object' && p.thumb_url) || `/photos/${id}/thumb`;
  const display = (typeof p === 'object' && p.display_url) || `/photos/${id}/display`;
  return el('a', { href: display, class: 'thumb', target: '_blank' },
    el('img', { src: thumb, alt: t('photo_n', { n: index + 1 }), loading: 'lazy' }));
}

const me = document.body.dataset.userId || '';
let ticket = null;
let fixPhotos = []; // [{uuid, blob, url}]; a photo carried over from a refused action has no blob (it is queued or sent)
let queued = []; // this ticket's actions in the outbox (outbox.itemsFor)
let slip = null; // the reply slip's signature box (ticket_signature.js)
let carried = new Set(); // refused actions whose words are in the form now: replaced by the next action queued

function renderTicket() {
  $('#ticket-card').hidden = false;
  $('#ticket-article').textContent = ticket.article ? `${t('article')} ${ticket.article}` : '';
  $('#ticket-state').textContent = stateLabel(ticket.state);
  $('#ticket-state').dataset.state = ticket.state;
  $('#ticket-level').textContent = ticketLevelLabel(ticket.level);
  $('#ticket-major').hidden = ticket.severity !== 'major';
  $('#ticket-title').textContent = ticket.title;
  $('#ticket-meta').textContent = [ticket.lab_name, ticket.deadline ? `${t('deadline')} ${fmtDeadline(ticket.deadline)}` : '', isOverdue(ticket) ? t('overdue') : ''].filter(Boolean).join(' · ');
  $('#ticket-description').textContent = ticket.description || '';
  // The inspector's photos of the hazard (before), then each event's photos in the history.
  $('#ticket-evidence').replaceChildren(...(ticket.evidence_photos || []).map(photoLink));
  const events = ticket.events || [];
  $('#ticket-history').hidden = !events.length;
  $('#ticket-events').replaceChildren(...events.map((ev) => el('li', { class: 'event', 'data-kind': ev.kind || ev.action || '' },
    el('strong', { text: ev.label || (t(`event_${ev.kind}`) !== `event_${ev.kind}` ? t(`event_${ev.kind}`) : (ev.kind || '')) }),
    el('span', { class: 'muted', text: ` ${ev.actor_name || (ev.actor && ev.actor.name) || ev.who || ''} · ${fmtTime(ev.created_at || ev.when)}` }),
    ev.note ? el('p', { text: ev.note }) : null,
    (ev.photos || []).length ? el('div', { class: 'thumbs' }, ...(ev.photos || []).map(photoLink)) : null)));
  renderActions();
}

// The officer's one step "submit fix" covers start_fix + submit_fix when the ticket is still open.
function offered(t0) {
  let allowed = ((t0 && t0.allowed_actions) || []).slice();
  if (allowed.includes('start_fix')) allowed = ['submit_fix', ...allowed.filter((a) => a !== 'start_fix' && a !== 'submit_fix')];
  return allowed;
}

function renderActions() {
  if (!ticket) return;
  // While an action waits to be sent, the ticket shown is older than what the person did: no second action.
  const waiting = queued.some((i) => i.status === 'pending');
  const allowed = waiting ? [] : offered(ticket);
  $('#ticket-actions').hidden = !allowed.length;
  $('#fix-fields').hidden = !allowed.some((a) => a === 'submit_fix' || a === 'declare_cannot_fix');
  $('#reply-slip').hidden = !allowed.some((a) => a === 'submit_fix' || a === 'verify');
  $('#action-buttons').replaceChildren(...allowed.map((action) => {
    const b = el('button', { type: 'button', class: `big block ${action === 'verify' || action === 'submit_fix' ? 'primary' : ''} ${action === 'reject' ? 'danger' : ''}`, 'data-action': action, text: t(`action_${action}`) });
    b.addEventListener('click', () => act(action, b));
    return b;
  }));
}

function renderFixPhotos() {
  $('#fix-thumbs').replaceChildren(...fixPhotos.map((p, i) => el('figure', { class: 'thumb', 'data-photo': p.uuid },
    p.url ? el('img', { src: p.url, alt: '' }) : el('span', { class: 'photo-arriving', text: t('photo_n', { n: i + 1 }) }))));
}

// Every action goes through the outbox, online or not: online it is sent at once, offline it waits;
// a retry after a lost answer is applied once (client_uuid). The report goes before its photos.
async function act(action, button) {
  const err = $('#action-error');
  err.hidden = true;
  const note = $('#action-note').value.trim();
  const interim = $('#interim').value.trim();
  // Every move but starting needs words: the fix, the proof, the reason (art. 30: who, when, why).
  if (!note && action !== 'declare_cannot_fix') { status(err, t('reason_required')); $('#action-note').focus(); return; }
  if (action === 'declare_cannot_fix' && !interim) { status(err, t('interim_required')); $('#interim').focus(); return; }
  if (action === 'submit_fix' && !fixPhotos.length) { status(err, t('photo_needed_fix')); return; }
  // The reply slip's signature (optional) goes with the fix and with its verification (art. 28).
  const signs = action === 'submit_fix' || action === 'verify';
  const { signature, problem } = signs ? slip.body() : {};
  if (problem) { status(err, problem); return; }
  button.disabled = true;
  try {
    const withPhotos = action === 'submit_fix' || action === 'declare_cannot_fix';
    const photos = withPhotos ? fixPhotos : [];
    const label = `${t(`action_${action}`)} · ${ticket.title}`;
    let version = ticket.version;
    if (action === 'submit_fix' && ticket.state === 'open') {
      // Started and submitted in one step: two actions, sent in this order (each one bumps the version).
      await enqueueTicketAction({ userId: me, ticketId: ticket.id, label: `${t('action_start_fix')} · ${ticket.title}`,
        body: { action: 'start_fix', note: '', interim_measures: '', photos: [], version, client_uuid: uuid() } });
      version += 1;
    }
    const body = { action, note, interim_measures: interim, photos: photos.map((p) => p.uuid), version, client_uuid: uuid(),
      ...(signature ? { signature } : {}) };
    await enqueueTicketAction({ userId: me, ticketId: ticket.id, body, label,
      photos: photos.filter((p) => p.blob).map((p) => ({ uuid: p.uuid, blob: p.blob, camera: p.camera })) });
    // The refused actions whose words were carried into this one are replaced by it.
    for (const id of carried) await discard(id);
    carried = new Set();
    fixPhotos = [];
    renderFixPhotos();
    $('#action-note').value = '';
    $('#interim').value = '';
    if (signs) slip.reset();
    status($('#ticket-status'), navigator.onLine === false ? t('queued') : '');
    await refreshQueued();
    syncNow();
  } catch (e) {
    status(err, t('load_failed'));
  } finally {
    button.disabled = false;
  }
}

// What this phone still has to send for this ticket: a waiting action with its photos' upload state;
// one the server refused, with what changed and a way to redo it on the ticket as it is now.
function photoStates(item) {
  const uuids = (item.body && item.body.photos) || [];
  if (!uuids.length) return null;
  return el('ul', { class: 'photo-states' }, ...uuids.map((u, i) => el('li', { 'data-photo': u,
    'data-state': (item.photo_status || {})[u] || 'waiting',
    text: `${t('photo_n', { n: i + 1 })}: ${t(`photo_${{ done: 'arrived' }[(item.photo_status || {})[u]] || (item.photo_status || {})[u] || 'waiting'}`)}` })));
}

function typed(item) {
  const b = item.body || {};
  return [b.note ? el('p', { class: 'typed-note', text: b.note }) : null,
    b.interim_measures ? el('p', { class: 'typed-interim', text: `${t('interim_measures')}: ${b.interim_measures}` }) : null];
}

function queuedItem(item) {
  const action = (item.body && item.body.action) || '';
  const head = el('strong', { text: t(`action_${action}`) });
  if (item.status === 'pending') {
    return el('li', { class: 'queued-action', 'data-id': item.id, 'data-status': 'pending' },
      head, ' · ', el('span', { class: 'muted', text: t('action_waiting') }), ...typed(item), photoStates(item));
  }
  // Refused: 409, the ticket changed meanwhile (its state and version now, as fresh as we can read them),
  // or another refusal (its message). Nothing typed is lost: it stays here until redone or discarded.
  const now = ticket || (item.details && item.details.state ? item.details : null);
  const possible = ticket ? offered(ticket).includes(action) : false;
  const redo = el('button', { type: 'button', class: 'primary', 'data-redo': item.id, text: t('redo_action'), hidden: !possible });
  redo.addEventListener('click', () => redoAction(item, redo));
  const drop = el('button', { type: 'button', 'data-discard': item.id, text: t('discard') });
  drop.addEventListener('click', async () => { carried.delete(item.id); await discard(item.id); });
  return el('li', { class: 'queued-action refused', 'data-id': item.id, 'data-status': item.status },
    head, ' · ', el('span', { class: 'error', text: item.status === 'conflict' ? t('action_conflict') : `${t('action_refused')} ${item.error || ''}` }),
    item.status === 'conflict' && now ? el('p', { class: 'ticket-now', text: t('ticket_now', { state: stateLabel(now.state), version: now.version }) }) : null,
    el('p', { class: 'muted', text: t('what_you_wrote') }), ...typed(item), photoStates(item),
    ticket && !possible ? el('p', { class: 'muted', text: t('action_not_possible_now') }) : null,
    el('div', { class: 'row' }, redo, drop));
}

// Puts what a refused action carried back into the form (nothing typed is lost), to edit or send again.
function carryIntoForm(item) {
  const b = item.body || {};
  if (carried.has(item.id)) return;
  carried.add(item.id);
  if (b.note && !$('#action-note').value.trim()) $('#action-note').value = b.note;
  if (b.interim_measures && !$('#interim').value.trim()) $('#interim').value = b.interim_measures;
  for (const u of b.photos || []) if (!fixPhotos.some((p) => p.uuid === u)) fixPhotos.push({ uuid: u, blob: null, url: null });
  renderFixPhotos();
}

// Redo: the same action with what was typed, on the current ticket (its version now) under a new
// client_uuid, reusing the photo UUIDs (queued or already sent); the refused item is discarded.
async function redoAction(item, button) {
  button.disabled = true;
  try {
    try {
      const fresh = await get(`/api/tickets/${ticket.id}`);
      if (fresh.ok) { ticket = fresh.data; renderTicket(); }
    } catch (e) { /* offline: the version last read; a new change is a new conflict, nothing lost */ }
    const b = item.body || {};
    await enqueueTicketAction({ userId: me, ticketId: ticket.id, label: item.label || '',
      body: { ...b, version: ticket.version, client_uuid: uuid() } });
    await discard(item.id);
    carried.delete(item.id);
    fixPhotos = fixPhotos.filter((p) => !(b.photos || []).includes(p.uuid));
    renderFixPhotos();
    if (b.note && $('#action-note').value.trim() === b.note) $('#action-note').value = '';
    if (b.interim_measures && $('#interim').value.trim() === b.interim_measures) $('#interim').value = '';
    syncNow();
  } catch (e) {
    status($('#action-error'), t('load_failed'));
  } finally {
    button.disabled = false;
  }
}

let refreshedFor = ''; // the refused items the ticket was last fetched for
let refreshing = null; // that fetch: every refresh shows the conflict only once it is read
async function refreshQueued() {
  if (!ticketId) return;
  let mine;
  try { mine = await itemsFor(ticketId); } catch (e) { mine = []; }
  const refused = mine.filter((i) => i.status !== 'pending');
  const key = refused.map((i) => i.id).join(',');
  if (key && key !== refreshedFor) {
    // A refusal: read the ticket as it is now (what changed), once per new refusal.
    refreshedFor = key;
    refreshing = loadTicket();
  }
  if (key && refreshing) await refreshing;
  queued = mine;
  for (const item of refused) carryIntoForm(item);
  $('#ticket-queue').hidden = !queued.length;
  $('#queued-actions').replaceChildren(...queued.map(queuedItem));
  renderActions();
}

const ticketId = (window.location.pathname.match(/\/app\/tickets\/(\d+)/) || [])[1];

async function loadTicket() {
  try {
    const r = await get(`/api/tickets/${ticketId}`);
    if (!r.ok) { status($('#ticket-status'), (r.error && r.error.message) || t('load_failed')); return; }
    ticket = r.data;
    status($('#ticket-status'), '');
    renderTicket();
    saveTicket(ticket).catch(() => { /* storage full or off: online still works */ });
  } catch (e) {
    // Offline: the copy saved when it was last seen; an action on it waits in the outbox.
    const saved = await savedTicket(ticketId).catch(() => null);
    if (!saved) { status($('#ticket-status'), t('needs_online')); return; }
    ticket = saved.ticket;
    renderTicket();
    status($('#ticket-status'), t('ticket_saved_copy', { when: fmtTime(saved.saved_at) }));
  }
}

if (page === 'tickets') {
  // Filters may come in the address (a landing page: /app/tickets?state=fix_submitted) and follow
  // every change, so a reload or "back" shows the same list.
  const form = $('#ticket-filters');
  const params = new URLSearchParams(window.location.search);
  for (const field of form.elements) {
    if (!field.name || !params.has(field.name)) continue;
    if (field.type === 'checkbox') field.checked = params.get(field.name) === field.value;
    else field.value = params.get(field.name);
  }
  form.addEventListener('change', () => {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) if (v) q.set(k, v);
    window.history.replaceState(null, '', q.toString() ? `?${q}` : window.location.pathname);
    loadList();
  });
  loadList();
} else {
  slip = replySlip($('#reply-slip .reply-signature'));
  const input = $('#fix-photo');
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    try {
      const blob = await downscale(file);
      fixPhotos.push({ uuid: uuid(), blob, camera: cameraFile(file, blob), url: URL.createObjectURL(blob) });
      renderFixPhotos();
    } catch (e) {
      status($('#action-error'), t('photo_failed'));
    } finally {
      input.value = '';
    }
  });
  window.addEventListener('labsafe:outbox', () => { refreshQueued(); });
  window.addEventListener('labsafe:sync', (e) => {
    // An action (or one of its photos) reached the server: show the ticket as it is there now.
    if (e.detail && (e.detail.confirmed || []).length) loadTicket().then(refreshQueued);
  });
  loadTicket().then(refreshQueued);
}

// Tickets on the phone: the list in the user's scope (state, level, overdue filters) and one
// ticket with its history, evidence photos and the actions this user may take.
import { get, request } from './api.js';
import { downscale, uuid } from './photo.js';
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

// A thumbnail that opens the full photo; its alt text names the link ("Photo 2 (full size)").
function photoLink(p, index) {
  const id = typeof p === 'string' ? p : p.uuid;
  const thumb = (typeof p === 'object' && p.thumb_url) || `/photos/${id}/thumb`;
  const display = (typeof p === 'object' && p.display_url) || `/photos/${id}/display`;
  return el('a', { href: display, class: 'thumb', target: '_blank' },
    el('img', { src: thumb, alt: t('photo_n', { n: index + 1 }), loading: 'lazy' }));
}

let ticket = null;
let fixPhotos = []; // [{uuid, blob, url}]

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
  // The officer's one step "submit fix" covers start_fix + submit_fix when the ticket is still open.
  let allowed = (ticket.allowed_actions || []).slice();
  if (allowed.includes('start_fix')) allowed = ['submit_fix', ...allowed.filter((a) => a !== 'start_fix' && a !== 'submit_fix')];
  $('#ticket-actions').hidden = !allowed.length;
  $('#fix-fields').hidden = !allowed.some((a) => a === 'submit_fix' || a === 'declare_cannot_fix');
  $('#action-buttons').replaceChildren(...allowed.map((action) => {
    const b = el('button', { type: 'button', class: `big block ${action === 'verify' || action === 'submit_fix' ? 'primary' : ''} ${action === 'reject' ? 'danger' : ''}`, 'data-action': action, text: t(`action_${action}`) });
    b.addEventListener('click', () => act(action, b));
    return b;
  }));
}

async function act(action, button) {
  const err = $('#action-error');
  err.hidden = true;
  const note = $('#action-note').value.trim();
  // Every move but starting needs words: the fix, the proof, the reason (art. 30: who, when, why).
  if (!note) { status(err, t('reason_required')); $('#action-note').focus(); return; }
  if (action === 'submit_fix' && !fixPhotos.length) { status(err, t('photo_needed_fix')); return; }
  button.disabled = true;
  try {
    const photoIds = [];
    if (action === 'submit_fix' || action === 'declare_cannot_fix') {
      for (const p of fixPhotos) {
        const form = new FormData();
        form.append('file', p.blob, `${p.uuid}.jpg`);
        const r = await request('PUT', `/api/photos/${p.uuid}`, { body: form });
        if (!r.ok) { status(err, (r.error && r.error.message) || t('load_failed')); return; }
        photoIds.push(p.uuid);
      }
    }
    let version = ticket.version;
    if (action === 'submit_fix' && ticket.state === 'open') {
      const started = await request('POST', `/api/tickets/${ticket.id}/actions`, { json: { action: 'start_fix', note: '', version } });
      if (!started.ok) { status(err, (started.error && started.error.message) || t('load_failed')); await loadTicket(); return; }
      ticket = started.data;
      version = ticket.version;
    }
    const body = { action, note, version };
    if (photoIds.length) body.photos = photoIds;
    const interim = $('#interim').value.trim();
    if (interim) body.interim_measures = interim;
    const r = await request('POST', `/api/tickets/${ticket.id}/actions`, { json: body });
    if (!r.ok) {
      status(err, (r.error && r.error.message) || t('load_failed'));
      if (r.status === 409) await loadTicket();
      return;
    }
    ticket = r.data;
    fixPhotos = [];
    $('#fix-thumbs').replaceChildren();
    $('#action-note').value = '';
    status($('#ticket-status'), t('action_done'));
    if (!ticket.allowed_actions) await loadTicket();
    else renderTicket();
  } catch (e) {
    status(err, t('needs_online'));
  } finally {
    button.disabled = false;
  }
}

async function loadTicket() {
  const id = (window.location.pathname.match(/\/app\/tickets\/(\d+)/) || [])[1];
  try {
    const r = await get(`/api/tickets/${id}`);
    if (!r.ok) { status($('#ticket-status'), (r.error && r.error.message) || t('load_failed')); return; }
    ticket = r.data;
    status($('#ticket-status'), '');
    renderTicket();
  } catch (e) {
    status($('#ticket-status'), t('needs_online'));
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
  const input = $('#fix-photo');
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    try {
      const blob = await downscale(file);
      const p = { uuid: uuid(), blob, url: URL.createObjectURL(blob) };
      fixPhotos.push(p);
      $('#fix-thumbs').append(el('figure', { class: 'thumb', 'data-photo': p.uuid }, el('img', { src: p.url, alt: '' })));
    } catch (e) {
      status($('#action-error'), t('photo_failed'));
    } finally {
      input.value = '';
    }
  });
  loadTicket();
}

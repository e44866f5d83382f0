// The phone's accident report (art. 31, app/accidents): works offline. The report and its photos go
// into the outbox under one client UUID (a replay is the same accident on the server), the report
// first, its photos after (report first, evidence after).
import { get } from './api.js';
import { DATA_CACHE, getBundle } from './bundle.js';
import { enqueueAccident } from './outbox.js';
import { cameraFile, downscale, uuid } from './photo.js';
import { syncNow } from './sync.js';
import { $, el, show } from './ui.js';

const me = document.body.dataset.userId || '';
const form = $('#accident-form');
const photos = [];

function localNow() {
  const d = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

// The labs this user may report in (GET /api/accidents/labs): a college's head or a department officer
// inspects none, so the offline bundle holds none of them; the list last fetched online is kept in the
// data cache (per user, cleared on logout) for offline use.
const LABS_KEY = '/offline/accident-labs';

async function reportableLabs() {
  try {
    const resp = await get('/api/accidents/labs');
    if (resp.ok) {
      if ('caches' in window) {
        const cache = await caches.open(DATA_CACHE);
        await cache.put(LABS_KEY, new Response(JSON.stringify({ user_id: me, labs: resp.data }),
          { headers: { 'Content-Type': 'application/json' } }));
      }
      return resp.data;
    }
  } catch (e) { /* offline: the saved copy */ }
  if (!('caches' in window)) return [];
  const saved = await caches.match(LABS_KEY, { cacheName: DATA_CACHE });
  if (!saved) return [];
  const copy = await saved.json();
  return String(copy.user_id) === String(me) ? copy.labs || [] : [];
}

async function fillLabs() {
  const select = $('#accident-lab');
  const bundle = await getBundle({ refresh: true }).catch(() => null);
  const byId = new Map(((bundle && bundle.labs) || []).map((lab) => [String(lab.id), lab]));
  for (const lab of await reportableLabs().catch(() => [])) if (!byId.has(String(lab.id))) byId.set(String(lab.id), lab);
  const labs = [...byId.values()].sort((a, b) => String(a.code).localeCompare(String(b.code)));
  const wanted = new URLSearchParams(location.search).get('lab');
  for (const lab of labs) {
    const option = el('option', { value: String(lab.id) }, `${lab.code} · ${lab.name}`);
    if (String(lab.id) === wanted) option.selected = true;
    select.append(option);
  }
  show($('#accident-no-labs'), labs.length === 0);
}

function renderPhotos() {
  const box = $('#accident-thumbs');
  box.replaceChildren(...photos.map((p) => el('figure', { class: 'thumb', 'data-photo': p.uuid }, el('img', { src: p.url, alt: '' }))));
}

$('#accident-photo')?.addEventListener('change', async (event) => {
  const file = event.target.files && event.target.files[0];
  if (!file) return;
  try {
    const blob = await downscale(file);
    photos.push({ uuid: uuid(), blob, camera: cameraFile(file, blob), url: URL.createObjectURL(blob) });
    renderPhotos();
  } catch (e) {
    $('#accident-error').textContent = $('#accident-msg-photo').textContent;
    show($('#accident-error'));
  } finally {
    event.target.value = '';
  }
});

function bodyOf(data) {
  const count = (name) => Math.max(0, parseInt(data.get(name) || '0', 10) || 0);
  const when = new Date(data.get('occurred_at'));  // the phone's local time, sent with its offset
  return {
    client_uuid: uuid(), lab_id: Number(data.get('lab_id')), occurred_at: when.toISOString(),
    place: data.get('place') || '', description: (data.get('description') || '').trim(),
    deaths: count('deaths'), serious_injuries: count('serious_injuries'), light_injuries: count('light_injuries'),
    property_loss_yuan: count('property_loss_yuan'), environment: data.get('environment'),
    stability: data.get('stability'), first_measures: data.get('first_measures') || '',
    photos: photos.map((p) => p.uuid),
  };
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = bodyOf(new FormData(form));
  if (!body.lab_id || !body.description || Number.isNaN(Date.parse(body.occurred_at))) {
    $('#accident-error').textContent = $('#accident-msg-invalid').textContent;
    show($('#accident-error'));
    return;
  }
  show($('#accident-error'), false);
  const label = `${$('#accident-lab').selectedOptions[0].textContent} · ${body.description.slice(0, 40)}`;
  await enqueueAccident({ userId: me, body, photos, label });
  form.reset();
  photos.length = 0;
  renderPhotos();
  $('#accident-when').value = localNow();
  show($('#accident-queued'));
  window.__accidentQueued = body.client_uuid;
  syncNow();
});

window.addEventListener('labsafe:sync', (event) => {
  const confirmed = (event.detail && event.detail.confirmed) || [];
  if (window.__accidentQueued && confirmed.includes(window.__accidentQueued)) {
    show($('#accident-queued'), false);
    show($('#accident-sent'));
    $('#accident-link').href = '/accidents';
  }
});

$('#accident-when').value = localNow();
fillLabs();

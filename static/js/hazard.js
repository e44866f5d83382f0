// Report a hazard from a lab's door page (issue 24, art. 30): anyone signed in, online or not. The
// report and its photos go into the outbox under one client UUID (outbox.js), so a replay never
// records it twice; sync.js sends the report first, then its photos. The reporter's own reports of
// this lab, with their outcome, are listed when online. Strings come from the section's data-* (the
// hazards domain's catalogue).
import { get } from './api.js';
import { enqueueHazardReport } from './outbox.js';
import { cameraFile, downscale, uuid } from './photo.js';
import { syncNow } from './sync.js';
import { $, el, status } from './ui.js';

const labId = Number((window.location.pathname.match(/\/app\/labs\/(\d+)/) || [])[1]);
const section = $('#hazard-section');
const words = section ? section.dataset : {};
let pending = null; // the client UUID of the report just queued

async function drawMine() {
  let resp;
  try {
    resp = await get(`/api/hazard-reports?lab_id=${labId}&mine=1&limit=20`);
  } catch (e) { return; } // offline: nothing to add
  if (!resp.ok) return;
  const list = $('#hazard-mine');
  list.replaceChildren(...resp.data.map((r) => el('li', { class: 'pad', 'data-report-id': String(r.id), 'data-state': r.state },
    el('a', { href: r.url, text: `#${r.id}` }), ' ', el('span', { class: 'tag', text: r.state_label }), ' ',
    el('span', { class: 'muted', text: r.text.slice(0, 80) }))));
  $('#hazard-mine-section').hidden = !resp.data.length;
}

async function submit(event) {
  event.preventDefault();
  const form = event.target;
  const text = form.elements.text.value.trim();
  if (!text) { status($('#hazard-status'), words.needText); return; }
  const files = [...(form.elements.photos.files || [])].slice(0, Number(words.maxPhotos || 6));
  const photos = [];
  for (const file of files) {
    let blob = file;
    try { blob = await downscale(file); } catch (e) { blob = file; }
    photos.push({ uuid: uuid(), blob, camera: cameraFile(file, blob) });
  }
  const body = { lab_id: labId, text, photos: photos.map((p) => p.uuid), client_uuid: uuid() };
  pending = body.client_uuid;
  await enqueueHazardReport({ userId: document.body.dataset.userId, body, photos, label: words.label || '' });
  form.reset();
  section.dataset.state = 'queued';
  status($('#hazard-status'), words.queued);
  syncNow();
}

window.addEventListener('labsafe:sync', (e) => {
  if (pending && (e.detail.confirmed || []).includes(pending)) {
    pending = null;
    section.dataset.state = 'sent';
    status($('#hazard-status'), words.sent);
    drawMine();
  }
});

if (section && labId) {
  $('#hazard-form').addEventListener('submit', submit);
  section.hidden = false;
  drawMine();
}

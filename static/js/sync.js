// Replays the outbox: reports first (inspections and ticket actions: small, and what the school
// must learn of at once; the server accepts a report whose photos have not arrived and attaches
// each photo as it lands), then photos, smallest first, each resumed from what the server has;
// last, when the school keeps them, the camera originals: only on Wi-Fi or when charging.
// Triggers (app.js): app start, `online`, page visible again, the "sync now" button; Background
// Sync is Chromium-only, so it is not relied on (iOS must work too).
import { request } from './api.js';
import { changed, items, remove, update, uploading } from './outbox.js';
import { uploadPhoto } from './upload.js';

let running = null;
export const lastResult = { state: 'idle', ticketIds: [], confirmed: [], sent: [], waiting: 0 };

const isUpload = (item) => item.kind === 'photo' || item.kind === 'camera_original';

// May the camera originals (PHOTO_CAMERA_ORIGINALS: full camera files, several MB each) go now?
// On Wi-Fi (Network Information API, Android Chrome) or while charging (Battery Status API,
// Chromium). When neither API exists (iOS Safari, Firefox) the phone cannot tell Wi-Fi from
// cellular: they go unless the user asked to save data (connection.saveData), and only after every
// report and every photo has gone (run), so they never hold up the evidence the school reads.
async function cameraOriginalsMayGo() {
  const conn = navigator.connection;
  if (conn && conn.type === 'wifi') return true;
  let battery = null;
  if (typeof navigator.getBattery === 'function') {
    try { battery = await navigator.getBattery(); } catch (e) { battery = null; }
  }
  if (battery && battery.charging) return true;
  if ((conn && conn.type) || battery) return false; // one of them answered: neither Wi-Fi nor charging
  return !(conn && conn.saveData === true);
}

// Receipts of the inspections that reached the server (when, which tickets they opened), so the
// page that queued one offline, and the home screen, can say it was sent. Kept per user in
// localStorage (small, the last RECEIPTS); cleared on logout with the user's other data.
const RECEIPTS = 20;
export const RECEIPTS_KEY = 'labsafe-sent';

export function receipts(user = userId()) {
  try {
    return JSON.parse(localStorage.getItem(RECEIPTS_KEY) || '[]').filter((r) => String(r.user_id) === String(user));
  } catch (e) { return []; }
}

function keepReceipt(receipt) {
  try {
    const all = JSON.parse(localStorage.getItem(RECEIPTS_KEY) || '[]').filter((r) => r.id !== receipt.id);
    all.unshift(receipt);
    localStorage.setItem(RECEIPTS_KEY, JSON.stringify(all.slice(0, RECEIPTS)));
  } catch (e) { /* storage full or off: the page still shows this run's result */ }
}

function userId() {
  return document.body.dataset.userId || '';
}

// Resumable (upload.js): a photo cut off mid-way goes on from the bytes the server kept.
async function sendPhoto(item) {
  // Noted before the first byte leaves: an app killed mid-photo has no chance to count the try,
  // and the next start must ask the server what it kept instead of sending it all again.
  if (item.started) item.attempts = Math.max(item.attempts || 0, 1);
  else { item.started = true; await update(item); }
  uploading.set(item.id, 0);
  changed();
  try {
    return await uploadPhoto(item, (confirmed) => { uploading.set(item.id, confirmed); });
  } finally {
    uploading.delete(item.id);
  }
}

function sendReport(item) {
  // A domain's own small report, queued with its URL (roster.js: a finding of art. 13(3)).
  if (item.kind === 'report' && item.url) return request('POST', item.url, { json: item.body });
  if (item.kind === 'ticket_action') return request('POST', `/api/tickets/${item.ticket_id}/actions`, { json: item.body });
  if (item.kind === 'hazard_report') return request('POST', '/api/hazard-reports', { json: item.body });
  if (item.kind === 'accident') return request('POST', '/api/accidents', { json: item.body }); // app/accidents
  return request('POST', '/api/inspections', { json: item.body });
}

async function send(item) {
  let resp;
  try {
    resp = await (isUpload(item) ? sendPhoto(item) : sendReport(item));
  } catch (err) {
    if (isUpload(item)) {
      // The server may hold part of it now: the next try asks how much, and sends only the rest.
      item.attempts = (item.attempts || 0) + 1;
      await update(item);
    }
    return 'network';
  }
  if (resp.ok) {
    // 201 first time, 200 for a replay the server already has: both mean "arrived".
    await remove(item.id);
    lastResult.confirmed.push(item.id);
    if (item.kind === 'inspection') {
      const ticketIds = (resp.data && resp.data.ticket_ids) || [];
      lastResult.ticketIds.push(...ticketIds);
      const receipt = { id: item.id, user_id: item.user_id, label: item.label || '', sent_at: new Date().toISOString(), ticket_ids: ticketIds,
        score: resp.data ? resp.data.score : null, grade: resp.data ? resp.data.grade : null };
      keepReceipt(receipt);
      lastResult.sent.push(receipt);
    }
    // Say so at once: a report lands seconds before its photos, and the page should show it.
    window.dispatchEvent(new CustomEvent('labsafe:sync', { detail: {
      state: 'running', confirmed: [item.id], sent: lastResult.sent.filter((r) => r.id === item.id),
    } }));
    return 'ok';
  }
  if (resp.status === 401 || (resp.status === 400 && resp.error && resp.error.code === 'csrf')) {
    return 'auth'; // keep the item; the user logs in again
  }
  // 404: its photo has not reached the server. While the photo is still queued on the phone it will:
  // the camera original waits for it. A photo no longer queued (discarded after a refusal) never
  // will, so the camera original is marked refused below, for the person to see and discard.
  if (resp.status === 404 && item.kind === 'camera_original' && (await items()).some((i) => i.id === item.photo_uuid)) {
    return 'wait';
  }
  // 202: a photo upload that made no progress (an empty body arrived); try again later.
  if (resp.status >= 500 || resp.status === 429 || resp.status === 408 || resp.status === 202) {
    item.attempts = (item.attempts || 0) + 1;
    await update(item);
    return 'network';
  }
  const message = (resp.error && resp.error.message) || `HTTP ${resp.status}`;
  item.status = resp.status === 409 ? 'conflict' : 'failed';
  item.error = message;
  item.http_status = resp.status;
  item.details = (resp.error && resp.error.details) || null;
  await update(item);
  return item.status;
}

async function run() {
  const me = userId();
  if (!me) return { state: 'skipped' };
  lastResult.ticketIds = [];
  lastResult.confirmed = [];
  lastResult.sent = [];
  const mine = (await items()).filter((i) => String(i.user_id) === String(me) && i.status === 'pending');
  const bySize = (a, b) => (a.size || 0) - (b.size || 0) || a.seq - b.seq;
  const reports = mine.filter((i) => !isUpload(i));
  const photos = mine.filter((i) => i.kind === 'photo').sort(bySize);
  let originals = mine.filter((i) => i.kind === 'camera_original').sort(bySize);
  let state = 'done';
  for (const item of [...reports, ...photos]) {
    const r = await send(item);
    if (r === 'network' || r === 'auth') { state = r; break; }
  }
  // Last, after every report and photo went: the camera originals, or they wait (pending, no error).
  if (state !== 'done' || !originals.length || !(await cameraOriginalsMayGo())) originals = [];
  for (const item of originals) {
    const r = await send(item);
    if (r === 'network' || r === 'auth') { state = r; break; }
  }
  lastResult.waiting = (await items()).filter((i) => String(i.user_id) === String(me) && i.kind === 'camera_original'
    && i.status === 'pending').length;
  lastResult.state = state;
  const relogin = document.getElementById('relogin');
  if (relogin) relogin.hidden = state !== 'auth';
  return { state, ticketIds: lastResult.ticketIds.slice(), confirmed: lastResult.confirmed.slice(), sent: lastResult.sent.slice(),
    waiting: lastResult.waiting };
}

let again = null;

export function syncNow() {
  // A run already under way may have read the outbox before the newest item went in: queue one
  // more run after it (at most one), so "submit" never waits for the next trigger.
  if (running) {
    if (!again) again = running.then(() => { again = null; return syncNow(); });
    return again;
  }
  window.dispatchEvent(new CustomEvent('labsafe:sync', { detail: { state: 'running' } }));
  const job = navigator.locks ? navigator.locks.request('labsafe-sync', run) : run();
  running = job.then((result) => {
    window.dispatchEvent(new CustomEvent('labsafe:sync', { detail: result }));
    return result;
  }, (err) => {
    window.dispatchEvent(new CustomEvent('labsafe:sync', { detail: { state: 'error', error: String(err) } }));
    return { state: 'error' };
  }).finally(() => { running = null; changed(); });
  return running;
}

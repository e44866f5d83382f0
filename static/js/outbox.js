// The outbox: what waits for the server, each item named by its client UUID. Kinds:
//   inspection    POST /api/inspections (body); refers to its photos by UUID
//   ticket_action POST /api/tickets/<ticket_id>/actions (body, with client_uuid and the version seen)
//   hazard_report POST /api/hazard-reports (body, with client_uuid; issue 24); refers to its photos by UUID
//   photo         the photo's bytes (blob), uploaded resumably; `offset` is what the server has
//   camera_original  the camera's own file of a photo (id `${photo_uuid}:camera`), when the school
//                 keeps them (PHOTO_CAMERA_ORIGINALS); sent last, on Wi-Fi or when charging (sync.js)
// Nothing leaves it until the server confirmed (2xx); refusals stay, marked, with the message and
// the server's details. Reports go before their photos (sync.js): the school learns of a hazard at
// once, and each photo attaches itself on the server as it lands.
import { all, del, put, transaction, wrap } from './db.js';

let seq = 0;
const nextSeq = () => Date.now() * 1000 + (seq++ % 1000);

export function changed() {
  window.dispatchEvent(new CustomEvent('labsafe:outbox'));
}

export async function items() {
  const list = await all('outbox');
  return list.sort((a, b) => a.seq - b.seq);
}

export async function pendingCount(userId) {
  const list = await items();
  return list.filter((i) => !userId || String(i.user_id) === String(userId)).length;
}

export async function remove(id) {
  await del('outbox', id);
  changed();
}

export async function update(item) {
  await put('outbox', item);
  changed();
}

function photoItem(uuid, blob, { userId, label, parent, now }) {
  return {
    id: uuid, kind: 'photo', seq: nextSeq(), user_id: userId, created_at: now, status: 'pending',
    attempts: 0, error: null, blob, size: blob.size, offset: 0, label, parent,
  };
}

// The camera's own file of photo `uuid`: uploaded as a photo is, to the photo's camera-original URL.
function cameraItem(uuid, blob, opts) {
  return { ...photoItem(uuid, blob, opts), id: `${uuid}:camera`, kind: 'camera_original', photo_uuid: uuid };
}

// Moves a finished draft into the outbox atomically: the inspection and its photos; the draft and
// its draft photos disappear in the same transaction, so nothing is lost or doubled.
export async function enqueueInspection(draft, body, label) {
  const photoIds = body.answers.flatMap((a) => a.photos || []);
  await transaction(['drafts', 'photos', 'outbox'], 'readwrite', async (tx) => {
    const photos = tx.objectStore('photos');
    const outbox = tx.objectStore('outbox');
    const now = new Date().toISOString();
    await wrap(outbox.put({
      id: body.uuid, kind: 'inspection', seq: nextSeq(), user_id: draft.user_id, created_at: now,
      status: 'pending', attempts: 0, error: null, body, deps: photoIds, label, lab_id: body.lab_id,
    }));
    for (const uuid of photoIds) {
      const p = await wrap(photos.get(uuid));
      if (!p) continue;
      const opts = { userId: draft.user_id, label, parent: body.uuid, now };
      await wrap(outbox.put(photoItem(uuid, p.blob, opts)));
      if (p.camera) await wrap(outbox.put(cameraItem(uuid, p.camera, opts)));
      await wrap(photos.delete(uuid));
    }
    await wrap(tx.objectStore('drafts').delete(draft.key));
  });
  changed();
}

// Queues one ticket action (a fix with its after-photos, a verify, a reject...) with its photos,
// atomically. body = {action, note, interim_measures, photos: [uuid], version, client_uuid};
// photos = [{uuid, blob, camera?}] not yet on the server (a redo reuses UUIDs already sent or queued).
export async function enqueueTicketAction({ userId, ticketId, body, photos = [], label = '' }) {
  await transaction(['outbox'], 'readwrite', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const now = new Date().toISOString();
    await wrap(outbox.put({
      id: body.client_uuid, kind: 'ticket_action', seq: nextSeq(), user_id: userId, created_at: now,
      status: 'pending', attempts: 0, error: null, body, deps: body.photos || [], label,
      ticket_id: Number(ticketId),
    }));
    for (const p of photos) {
      if (await wrap(outbox.get(p.uuid))) continue; // already queued by the action this one redoes
      const opts = { userId, label, parent: body.client_uuid, now };
      await wrap(outbox.put(photoItem(p.uuid, p.blob, opts)));
      if (p.camera) await wrap(outbox.put(cameraItem(p.uuid, p.camera, opts)));
    }
  });
  changed();
}

// Queues a report that carries photos (a hazard report from a lab's door, art. 30; an accident, art. 31)
// with its photos, atomically: body.client_uuid names it (a replay is the same report), and the photos
// ([{uuid, blob, camera?}]) are its dependencies, sent first.
async function enqueueWithPhotos(kind, { userId, body, photos = [], label = '' }) {
  await transaction(['outbox'], 'readwrite', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const now = new Date().toISOString();
    await wrap(outbox.put({
      id: body.client_uuid, kind, seq: nextSeq(), user_id: userId, created_at: now,
      status: 'pending', attempts: 0, error: null, body, deps: body.photos || [], label, lab_id: body.lab_id,
    }));
    for (const p of photos) {
      const opts = { userId, label, parent: body.client_uuid, now };
      await wrap(outbox.put(photoItem(p.uuid, p.blob, opts)));
      if (p.camera) await wrap(outbox.put(cameraItem(p.uuid, p.camera, opts)));
    }
  });
  changed();
}

// body = {lab_id, text, photos: [uuid], client_uuid}
export const enqueueHazardReport = (args) => enqueueWithPhotos('hazard_report', args);
// body = the accident's facts (app/accidents), photos: [uuid], client_uuid
export const enqueueAccident = (args) => enqueueWithPhotos('accident', args);

// Photos being uploaded right now, with the bytes the server has confirmed (in memory: progress
// is not worth an IndexedDB write per block; the item's `offset` is saved when an attempt ends).
export const uploading = new Map();

function photoStatus(uuid, byId) {
  if (!byId.has(uuid)) return 'done';
  return uploading.has(uuid) ? 'uploading' : 'waiting';
}

// The ticket actions queued for a ticket, each with the upload state of its photos.
export async function itemsFor(ticketId) {
  const list = await items();
  const byId = new Map(list.map((i) => [i.id, i]));
  return list
    .filter((i) => i.kind === 'ticket_action' && String(i.ticket_id) === String(ticketId))
    .map((i) => ({ ...i, photo_status: Object.fromEntries((i.deps || []).map((u) => [u, photoStatus(u, byId)])) }));
}

// Per photo of an inspection (or any report): 'waiting' | 'uploading' | 'done'.
export async function photoStates(uuids) {
  const byId = new Map((await items()).map((i) => [i.id, i]));
  return Object.fromEntries(uuids.map((u) => [u, photoStatus(u, byId)]));
}

// Drops a refused action; its photos stay queued (a redo may reuse them, and the server keeps a
// photo nothing refers to only until the orphan pruning).
export async function discard(id) {
  await remove(id);
}

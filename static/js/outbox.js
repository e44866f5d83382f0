// The outbox: inspections and photo blobs waiting for the server, each named by its client UUID.
// Nothing leaves it until the server confirmed (2xx); refusals stay, marked, with the message.
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

// Moves a finished draft into the outbox atomically: its photos, then the inspection; the draft
// and its draft photos disappear in the same transaction, so nothing is lost or doubled.
export async function enqueueInspection(draft, body, label) {
  const photoIds = body.answers.flatMap((a) => a.photos || []);
  await transaction(['drafts', 'photos', 'outbox'], 'readwrite', async (tx) => {
    const photos = tx.objectStore('photos');
    const outbox = tx.objectStore('outbox');
    const now = new Date().toISOString();
    for (const uuid of photoIds) {
      const p = await wrap(photos.get(uuid));
      if (!p) continue;
      await wrap(outbox.put({
        id: uuid, kind: 'photo', seq: nextSeq(), user_id: draft.user_id, created_at: now,
        status: 'pending', attempts: 0, error: null, blob: p.blob, label, parent: body.uuid,
      }));
      await wrap(photos.delete(uuid));
    }
    await wrap(outbox.put({
      id: body.uuid, kind: 'inspection', seq: nextSeq(), user_id: draft.user_id, created_at: now,
      status: 'pending', attempts: 0, error: null, body, deps: photoIds, label, lab_id: body.lab_id,
    }));
    await wrap(tx.objectStore('drafts').delete(draft.key));
  });
  changed();
}

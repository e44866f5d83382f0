// A small promise wrapper over IndexedDB. Stores: drafts (per lab+checklist+level), photos (draft
// photo blobs), outbox (what waits for the server).
const DB_NAME = 'labsafe';
const DB_VERSION = 1;
let opening = null;

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('drafts')) db.createObjectStore('drafts', { keyPath: 'key' });
        if (!db.objectStoreNames.contains('photos')) db.createObjectStore('photos', { keyPath: 'uuid' });
        if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'id' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return opening;
}

export function wrap(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// Runs fn(tx) in one transaction; resolves with fn's result once the transaction committed.
// fn may only await IndexedDB requests (anything else would let the transaction auto-commit).
export async function transaction(stores, mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode);
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
    Promise.resolve().then(() => fn(tx)).then((v) => { result = v; }, (err) => {
      try { tx.abort(); } catch (e) { /* already finished */ }
      reject(err);
    });
  });
}

export const get = (store, key) => transaction([store], 'readonly', (tx) => wrap(tx.objectStore(store).get(key)));
export const put = (store, value) => transaction([store], 'readwrite', (tx) => wrap(tx.objectStore(store).put(value)));
export const del = (store, key) => transaction([store], 'readwrite', (tx) => wrap(tx.objectStore(store).delete(key)));
export const all = (store) => transaction([store], 'readonly', (tx) => wrap(tx.objectStore(store).getAll()));
export const clear = (store) => transaction([store], 'readwrite', (tx) => wrap(tx.objectStore(store).clear()));

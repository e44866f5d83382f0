// Resumable photo upload (GET/PATCH /api/photos/<uuid>/upload, app/photos/api.py).
//
// On one bar of signal a connection drops mid-photo. The server keeps every byte that arrived, so
// the next try asks how far it got and sends only the rest, instead of the whole photo again.
// A fresh upload skips that question (one round trip saved) and sends the photo in ONE request:
// each extra request costs a round trip of 300+ ms on 3G, so parts are large (CHUNK_BYTES).
import { csrfToken, refreshCsrf } from './api.js';

export const CHUNK_BYTES = 4 * 1024 * 1024; // a phone photo (~300 kB) is one request

async function call(method, url, body, headers = {}) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json', ...headers } };
  if (method !== 'GET') {
    init.headers['X-CSRFToken'] = csrfToken();
    init.headers['Content-Type'] = 'application/octet-stream';
    init.body = body;
  }
  const resp = await fetch(url, init); // rejects (TypeError) only when the network is down
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  const error = data && data.error ? data.error : null;
  return { status: resp.status, ok: resp.ok, data, error, headers: resp.headers, next: null };
}

// Where an outbox item uploads: a photo under its UUID, or the camera's own file of a stored photo
// (kind 'camera_original', photo_uuid) by the same protocol.
export function uploadUrl(item) {
  if (item.kind === 'camera_original') return `/api/photos/${encodeURIComponent(item.photo_uuid)}/camera-original/upload`;
  return `/api/photos/${encodeURIComponent(item.id)}/upload`;
}

// item = {id: uuid, blob, offset?, attempts?} (or a camera original, see uploadUrl). Resolves to api.js request()'s shape
// {status, ok, data, error, ...}: 201/200 with the photo's body (as PUT /api/photos/<uuid> answers)
// once it is stored, or the refusal. item.offset follows what the server confirmed, so a caller
// that keeps the item may pass it back; item.attempts > 0 (the caller counts failed tries) also
// makes the next call ask the server first. onProgress(confirmedBytes, totalBytes).
export async function uploadPhoto(item, onProgress = () => {}, { chunkBytes = CHUNK_BYTES } = {}) {
  const url = uploadUrl(item);
  const total = item.blob.size;
  let offset = 0;
  if ((item.offset || 0) > 0 || (item.attempts || 0) > 0) {
    const state = await call('GET', url);
    if (!state.ok) return state;
    // Another length staged (not this blob's): start over from 0, the server then replaces it.
    if (state.data.total === total) {
      if (state.data.complete) {
        onProgress(total, total);
        return { ...state, status: 200 };
      }
      offset = state.data.offset;
    }
  }
  item.offset = offset;
  onProgress(offset, total);
  let csrfRetry = true;
  let resumes = 2; // 409 with the server's offset (e.g. a part still arriving was counted): go on from there
  for (;;) {
    const end = Math.min(total, offset + chunkBytes);
    const resp = await call('PATCH', url, item.blob.slice(offset, end), {
      'Upload-Offset': String(offset),
      'Upload-Length': String(total),
    });
    if (resp.status === 400 && resp.error && resp.error.code === 'csrf' && csrfRetry) {
      csrfRetry = false; // a token queued overnight has expired: a fresh one, once (as request())
      await refreshCsrf();
      continue;
    }
    const details = (resp.error && resp.error.details) || {};
    if (resp.status === 202 && resp.data && resp.data.offset > offset) {
      offset = resp.data.offset;
    } else if (resp.status === 409 && Number.isInteger(details.offset) && details.total === total && resumes-- > 0) {
      offset = details.offset;
    } else if (resp.status === 202) {
      return { ...resp, ok: false }; // no progress (an empty body arrived): not done, try again later
    } else {
      if (resp.ok) {
        item.offset = total;
        onProgress(total, total);
      }
      return resp;
    }
    item.offset = offset;
    onProgress(offset, total);
  }
}

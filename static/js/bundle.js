// The offline bundle (GET /api/offline/bundle): the labs this user may inspect or daily-check,
// with nameplate info, officers, open tickets and the checklists that apply. Kept in Cache
// Storage (the service worker reads it too, to open /l/<token> offline); cleared on logout.
export const DATA_CACHE = 'labsafe-data-v1';
export const BUNDLE_URL = '/api/offline/bundle';

function me() {
  return document.body.dataset.userId || '';
}

// The shell pages come from the worker's cache, so a session that expired meanwhile shows first as
// a 401 from the API: the page keeps what it drew from the bundle and shows the relogin prompt
// (base.html #relogin). It stays up: a sync run that had nothing to send hides it otherwise.
let loggedOut = false;

function showRelogin() {
  const node = document.getElementById('relogin');
  if (node && loggedOut) node.hidden = false;
}

export function loginExpired() {
  loggedOut = true;
  showRelogin();
}

window.addEventListener('labsafe:sync', showRelogin);

export async function refreshBundle() {
  try {
    const resp = await fetch(BUNDLE_URL, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    if (resp.status === 401) loginExpired();
    if (!resp.ok) return null;
    if ('caches' in window) {
      const cache = await caches.open(DATA_CACHE);
      await cache.put(BUNDLE_URL, resp.clone());
    }
    return await resp.json();
  } catch (e) {
    return null;
  }
}

export async function cachedBundle() {
  if (!('caches' in window)) return null;
  const resp = await caches.match(BUNDLE_URL, { cacheName: DATA_CACHE });
  if (!resp) return null;
  const bundle = await resp.json();
  // Another user's bundle is never shown (logout clears it; this is the belt to those braces).
  if (String(bundle.user_id) !== String(me())) return null;
  return bundle;
}

export async function getBundle({ refresh = false } = {}) {
  if (refresh && navigator.onLine !== false) {
    const fresh = await refreshBundle();
    if (fresh) return fresh;
  }
  return cachedBundle();
}

export async function labFromBundle(labId) {
  const b = await cachedBundle();
  return b ? (b.labs || []).find((l) => String(l.id) === String(labId)) || null : null;
}

export async function labByToken(token) {
  const b = await cachedBundle();
  return b ? (b.labs || []).find((l) => l.qr_token === token) || null : null;
}

// `code` as scan.js normalises it (NFKC, no spaces, upper case); the labs' codes the same way.
export async function labByCode(code) {
  const b = await cachedBundle();
  const same = (c) => (c || '').normalize('NFKC').replace(/\s+/g, '').toUpperCase() === code;
  return b ? (b.labs || []).find((l) => same(l.code)) || null : null;
}

export async function checklistFromBundle(labId, key) {
  const b = await cachedBundle();
  if (!b) return null;
  const lab = (b.labs || []).find((l) => String(l.id) === String(labId));
  if (!lab) return null;
  const entry = (lab.checklists || []).find((c) => c.key === key);
  if (!entry) return null;
  const version = (b.checklist_versions || {})[String(entry.version_id)];
  if (!version) return null;
  const wanted = new Set(entry.item_ids || []);
  return { ...entry, items: version.items.filter((i) => wanted.has(i.id)) };
}

// Tickets saved for offline work (a lab officer opens a ticket in a basement): the detail the page
// last drew, under a key of its own, per user; cleared on logout with the rest of DATA_CACHE.
// A saved copy may be stale: an action on it carries the version it shows, and the server
// answers 409 if the ticket moved (the ticket page then offers the action again).
const savedTicketKey = (id) => `/offline/tickets/${id}`;

export async function saveTicket(ticket) {
  if (!('caches' in window) || !ticket) return;
  const body = JSON.stringify({ user_id: me(), saved_at: new Date().toISOString(), ticket });
  const cache = await caches.open(DATA_CACHE);
  await cache.put(savedTicketKey(ticket.id), new Response(body, { headers: { 'Content-Type': 'application/json' } }));
}

export async function savedTicket(id) {
  if (!('caches' in window)) return null;
  const resp = await caches.match(savedTicketKey(id), { cacheName: DATA_CACHE });
  if (!resp) return null;
  const saved = await resp.json();
  return String(saved.user_id) === String(me()) ? saved : null;
}

// Saves the details of these listed tickets (each {id, version}) that are not saved at that
// version yet: one request per changed ticket, none for the unchanged.
export async function keepTicketsForOffline(listed, fetchDetail) {
  for (const item of listed.slice(0, 20)) {
    const saved = await savedTicket(item.id);
    if (saved && saved.ticket.version === item.version) continue;
    const detail = await fetchDetail(item.id);
    if (detail) await saveTicket(detail);
  }
}

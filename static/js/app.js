// Every page: service worker, online/offline indicator, the outbox badge, sync triggers, logout.
import { items, pendingCount } from './outbox.js';
import { RECEIPTS_KEY, syncNow } from './sync.js';
import { refreshCsrf } from './api.js';
import { DATA_CACHE, cachedBundle, refreshBundle } from './bundle.js';
import { clear } from './db.js';
import { el, t } from './ui.js';

const userId = document.body.dataset.userId || '';

async function updateBadge() {
  const badge = document.getElementById('outbox-badge');
  if (!badge) return;
  let n = 0;
  try { n = await pendingCount(userId); } catch (e) { n = 0; }
  badge.dataset.count = String(n);
  document.getElementById('outbox-count').textContent = String(n);
  badge.classList.toggle('has-items', n > 0);
}

function updateNet() {
  const node = document.getElementById('net-status');
  if (node) node.hidden = navigator.onLine !== false;
}

// Whether this version's shell pages cache lacks a page (deleted at logout, login or a change of
// language; or a page the worker could not fetch). Looked up on the device: no request.
async function pagesMissing() {
  const { shellVersion, shellPages } = document.body.dataset;
  if (!('caches' in window) || !shellVersion) return false;
  const name = `labsafe-pages-${shellVersion}`;
  if (!(await caches.has(name))) return true;
  return (await (await caches.open(name)).keys()).length < Number(shellPages || 0);
}

async function registerWorker() {
  if (!('serviceWorker' in navigator) || !userId) return;
  try {
    const reg = await navigator.serviceWorker.register(document.body.dataset.sw, { scope: '/' });
    // A new version's worker caches the shell pages when it installs; an existing one is asked to
    // fetch them only when they are missing (it fetches just those), not on every page load.
    if (reg.active && !reg.installing && !reg.waiting && navigator.onLine !== false && (await pagesMissing())) {
      reg.active.postMessage({ type: 'warm' });
    }
  } catch (e) { /* no worker: the app still works online */ }
}

async function dropPages() {
  if (!('caches' in window)) return;
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n.startsWith('labsafe-pages-')).map((n) => caches.delete(n)));
}

// A cached page's form carries the CSRF token of the day it was cached: take a fresh one.
async function freshToken(form) {
  try {
    const token = await refreshCsrf();
    const field = form.querySelector('input[name="csrf_token"]');
    if (token && field) field.value = token;
  } catch (e) { /* offline: the form's own token */ }
}

// Logout clears this user's data from the device, except an outbox not yet on the server,
// which stays (and is sent after the next login by the same user) once the user confirmed.
async function clearUserData() {
  if ('caches' in window) await caches.delete(DATA_CACHE);
  await dropPages();
  await clear('drafts');
  await clear('photos');
  try { localStorage.removeItem(RECEIPTS_KEY); } catch (e) { /* storage off */ }
  if (navigator.serviceWorker && navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({ type: 'logout' });
  }
}

function setupLogout() {
  const form = document.getElementById('logout-form');
  const dialog = document.getElementById('logout-dialog');
  if (!form) return;
  let confirmed = false;
  form.addEventListener('submit', async (ev) => {
    if (confirmed) return;
    ev.preventDefault();
    let waiting = [];
    try { waiting = (await items()).filter((i) => String(i.user_id) === String(userId)); } catch (e) { waiting = []; }
    const go = async () => {
      confirmed = true;
      try { await clearUserData(); } catch (e) { /* still log out */ }
      await freshToken(form);
      form.submit();
    };
    if (!waiting.length || !dialog || !dialog.showModal) {
      await go();
      return;
    }
    document.getElementById('logout-warning').textContent = t('logout_warning');
    const list = document.getElementById('logout-items');
    list.replaceChildren(...waiting.map((i) => el('li', { class: 'pad' },
      `${t(`kind_${i.kind}`)} · ${i.label || ''}`,
      i.error ? el('span', { class: 'muted', text: i.error }) : null)));
    dialog.showModal();
    document.getElementById('logout-cancel').onclick = () => dialog.close();
    document.getElementById('logout-confirm').onclick = () => { dialog.close(); go(); };
  });
}

// The cached shell pages show who is logged in, in which language, with the session's CSRF token:
// a login (maybe by someone else, after a session expired), a password change (a new session) and
// a change of language drop them, and they are fetched again.
// The form is not held back: the worker is told first and answers no navigation until they are gone.
function setupPageForms() {
  const sessionForms = (document.body.dataset.sessionForms || '').split(' ').filter(Boolean);
  for (const form of document.querySelectorAll('form')) {
    const isSession = sessionForms.includes(new URL(form.action, window.location.href).pathname);
    const isLang = form.classList.contains('lang-form');
    if (!isSession && !isLang) continue;
    form.addEventListener('submit', () => {
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({ type: 'drop-pages' });
      }
      dropPages().catch(() => {});
      // The page may be a cached shell standing in for this URL: come back here, not to the shell.
      const next = isLang && form.querySelector('input[name="next"]');
      if (next) next.value = window.location.pathname + window.location.search;
    });
  }
}

// A cached page's forms carry the CSRF token of the hour it was cached; tokens last 8 hours.
async function freshenTokens() {
  const age = Date.now() - Number(document.body.dataset.renderedAt || 0) * 1000;
  if (!(age > 4 * 3600 * 1000) || navigator.onLine === false) return;
  try {
    const token = await refreshCsrf();
    if (!token) return;
    for (const field of document.querySelectorAll('input[name="csrf_token"]')) field.value = token;
  } catch (e) { /* offline: api.js retries a refused token itself */ }
}

window.addEventListener('labsafe:outbox', updateBadge);
window.addEventListener('online', () => { updateNet(); syncNow(); });
window.addEventListener('offline', updateNet);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') syncNow();
});

updateNet();
setupLogout();
setupPageForms();
// Keep the offline bundle fresh while online (home.js refreshes it itself).
async function freshenBundle() {
  if (navigator.onLine === false || document.querySelector('[data-page="home"]')) return;
  const cached = await cachedBundle();
  const age = cached ? Date.now() - Date.parse(cached.generated_at) : Infinity;
  if (!(age < 5 * 60 * 1000)) await refreshBundle();
}

if (userId) {
  freshenTokens();
  updateBadge();
  registerWorker();
  syncNow().then((r) => { if (r && r.confirmed && r.confirmed.length) refreshBundle(); });
  freshenBundle();
  // A server that answered 5xx sends no `online` event: retry what waits once a minute.
  setInterval(async () => {
    if (navigator.onLine !== false && document.visibilityState === 'visible' && (await pendingCount(userId)) > 0) syncNow();
  }, 60 * 1000);
}

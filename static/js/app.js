// Every page: service worker, online/offline indicator, the outbox badge, sync triggers, logout.
import { items, pendingCount } from './outbox.js';
import { RECEIPTS_KEY, syncNow } from './sync.js';
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

async function registerWorker() {
  if (!('serviceWorker' in navigator) || !userId) return;
  try {
    const reg = await navigator.serviceWorker.register(document.body.dataset.sw, { scope: '/' });
    // A first install caches the shell pages itself; an existing worker is asked to refresh them
    // (after a logout they were deleted).
    if (reg.active && !reg.installing && !reg.waiting) reg.active.postMessage({ type: 'warm' });
  } catch (e) { /* no worker: the app still works online */ }
}

// Logout clears this user's data from the device, except an outbox not yet on the server,
// which stays (and is sent after the next login by the same user) once the user confirmed.
async function clearUserData() {
  if ('caches' in window) {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n === DATA_CACHE || n.startsWith('labsafe-pages-')).map((n) => caches.delete(n)));
  }
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
      form.submit();
    };
    if (!waiting.length || !dialog || !dialog.showModal) {
      await go();
      return;
    }
    document.getElementById('logout-warning').textContent = t('logout_warning');
    const list = document.getElementById('logout-items');
    list.replaceChildren(...waiting.map((i) => el('li', { class: 'pad' },
      `${t(i.kind === 'photo' ? 'kind_photo' : 'kind_inspection')} · ${i.label || ''}`,
      i.error ? el('span', { class: 'muted', text: i.error }) : null)));
    dialog.showModal();
    document.getElementById('logout-cancel').onclick = () => dialog.close();
    document.getElementById('logout-confirm').onclick = () => { dialog.close(); go(); };
  });
}

window.addEventListener('labsafe:outbox', updateBadge);
window.addEventListener('online', () => { updateNet(); syncNow(); });
window.addEventListener('offline', updateNet);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') syncNow();
});

updateNet();
setupLogout();
// Keep the offline bundle fresh while online (home.js refreshes it itself).
async function freshenBundle() {
  if (navigator.onLine === false || document.querySelector('[data-page="home"]')) return;
  const cached = await cachedBundle();
  const age = cached ? Date.now() - Date.parse(cached.generated_at) : Infinity;
  if (!(age < 5 * 60 * 1000)) await refreshBundle();
}

if (userId) {
  updateBadge();
  registerWorker();
  syncNow().then((r) => { if (r && r.confirmed && r.confirmed.length) refreshBundle(); });
  freshenBundle();
  // A server that answered 5xx sends no `online` event: retry what waits once a minute.
  setInterval(async () => {
    if (navigator.onLine !== false && document.visibilityState === 'visible' && (await pendingCount(userId)) > 0) syncNow();
  }, 60 * 1000);
}

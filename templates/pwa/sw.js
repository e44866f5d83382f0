/* LabSafe service worker {{ version }} — served at /sw.js with scope / (Service-Worker-Allowed).
 * static cache: the app shell (CSS, JS, icons, offline page), no user data; its URLs carry each
 *   file's hash (app/pwa/assets.py), served cache first;
 * pages cache: the shell pages (they show the user's name) — deleted on logout, on login and on a
 *   change of language; served cache first, so a repeat visit downloads no page: they are fetched
 *   when this version installs (once per deploy) and when the page finds them missing (app.js);
 * data cache: the offline bundle, written by the page (bundle.js) — deleted on logout.
 * Cache names carry the version; activate deletes every older labsafe-* cache. */
const VERSION = '{{ version }}';
const STATIC_CACHE = `labsafe-static-${VERSION}`;
const PAGES_CACHE = `labsafe-pages-${VERSION}`;
const DATA_CACHE = 'labsafe-data-v1';
const STATIC_URLS = {{ static_urls|safe }};
const PAGE_URLS = {{ page_urls|safe }};
const OFFLINE_URL = '{{ offline_url }}';
const BUNDLE_URL = '/api/offline/bundle';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    // Hashed URLs: the browser's HTTP cache may answer (immutable), the page has just loaded them.
    await cache.addAll(STATIC_URLS);
    await warmPages();
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keep = new Set([STATIC_CACHE, PAGES_CACHE, DATA_CACHE]);
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('labsafe-') && !keep.has(n)).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

// Shell pages are cached only when the user is logged in (a redirect to /login is not a shell).
// Only the pages this version's cache lacks are fetched.
async function warmPages() {
  const fetchedIn = generation;
  const cache = await caches.open(PAGES_CACHE);
  await Promise.all(PAGE_URLS.map(async (url) => {
    if (await cache.match(url)) return;
    try {
      const resp = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
      if (resp.ok && !resp.redirected && fetchedIn === generation) await (await caches.open(PAGES_CACHE)).put(url, resp);
    } catch (e) { /* offline: try again next time */ }
  }));
}

// Pages being dropped (a login or a change of language was just submitted): no navigation is
// answered from them meanwhile.
let dropping = null;
// Counts the drops: a page fetched before one (in the old language, or for the user who left) is
// not put in the cache after it.
let generation = 0;

self.addEventListener('message', (event) => {
  const type = event.data && event.data.type;
  if (type === 'warm') event.waitUntil(warmPages());
  if (type === 'drop-pages' || type === 'logout') generation += 1;
  if (type === 'drop-pages') event.waitUntil(dropping = caches.delete(PAGES_CACHE));
  if (type === 'logout') event.waitUntil(Promise.all([dropping = caches.delete(PAGES_CACHE), caches.delete(DATA_CACHE)]));
});

// Which cached shell page stands in for a URL (the shells carry no lab data).
function shellFor(path) {
  if (/^\/app\/labs\/\d+\/inspect\/[^/]+\/?$/.test(path)) return '/app/shell/inspect';
  if (/^\/app\/labs\/\d+\/?$/.test(path)) return '/app/shell/lab';
  if (/^\/app\/tickets\/\d+\/?$/.test(path)) return '/app/shell/ticket';
  if (PAGE_URLS.includes(path)) return path;
  return null;
}

async function labUrlForToken(token) {
  const resp = await caches.match(BUNDLE_URL, { cacheName: DATA_CACHE });
  if (!resp) return null;
  try {
    const bundle = await resp.json();
    const lab = (bundle.labs || []).find((l) => l.qr_token === token);
    return lab ? `/app/labs/${lab.id}` : null;
  } catch (e) {
    return null;
  }
}

async function navigate(request) {
  const url = new URL(request.url);
  const shell = shellFor(url.pathname);
  if (dropping) await dropping;
  if (shell) {
    // Cache first: a shell carries no lab data, and this version's copy is this version's page.
    // A session that expired meanwhile shows in the page's API calls (401: the relogin prompt).
    const cached = await caches.match(shell, { cacheName: PAGES_CACHE });
    if (cached) return cached;
  }
  try {
    const fetchedIn = generation;
    const resp = await fetch(request);
    if (shell && resp.ok && !resp.redirected && fetchedIn === generation) {
      const cache = await caches.open(PAGES_CACHE);
      await cache.put(shell, resp.clone());
    }
    return resp;
  } catch (err) {
    // Offline. A door QR opened by the phone's camera app: resolve it from the bundle.
    const qr = url.pathname.match(/^\/l\/([^/]+)$/);
    if (qr) {
      const target = await labUrlForToken(decodeURIComponent(qr[1]));
      if (target) return Response.redirect(target, 302);
    }
    return (await caches.match(OFFLINE_URL, { cacheName: STATIC_CACHE })) || Response.error();
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(navigate(request));
    return;
  }
  if (url.pathname.startsWith('/static/')) {
    // Cache first: a hashed URL names one content for ever; the cache name changes with the shell.
    event.respondWith((async () => {
      const cached = await caches.match(request, { cacheName: STATIC_CACHE });
      if (cached) return cached;
      const resp = await fetch(request);
      if (resp.ok && (url.searchParams.has('v') || url.pathname.startsWith('/static/vendor/'))) {
        const cache = await caches.open(STATIC_CACHE);
        await cache.put(request, resp.clone());
      }
      return resp;
    })());
  }
  // /api/* goes to the network untouched: the page decides what to do offline.
});

// JSON API client: session cookie + X-CSRFToken; a stale token is refreshed once and retried.
let token = null;

export function csrfToken() {
  if (token) return token;
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

export async function refreshCsrf() {
  const resp = await fetch('/api/csrf', { credentials: 'same-origin', cache: 'no-store' });
  if (resp.ok) token = (await resp.json()).csrf_token;
  return token;
}

// The URL of a `Link: <url>; rel="next"` header (RFC 8288; the paged lists send one when more
// follow), or null.
export function nextLink(headers) {
  const link = headers && headers.get('Link');
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = part.match(/^\s*<([^>]*)>\s*;(.*)$/);
    if (m && /(?:^|;)\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(?:;|$)/i.test(m[2])) return m[1];
  }
  return null;
}

// Resolves to {status, ok, data, error, headers, next}: headers are the response's Headers, next the
// URL of its Link rel="next" (null when none). Rejects (TypeError) only when the network is down.
export async function request(method, url, { json, body, retryCsrf = true } = {}) {
  const headers = { Accept: 'application/json' };
  let payload = body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  if (method !== 'GET') headers['X-CSRFToken'] = csrfToken();
  const resp = await fetch(url, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  const error = data && data.error ? data.error : null;
  // CSRF tokens expire (an inspection queued overnight): fetch a fresh one and retry once.
  if (resp.status === 400 && error && error.code === 'csrf' && retryCsrf) {
    await refreshCsrf();
    return request(method, url, { json, body, retryCsrf: false });
  }
  return { status: resp.status, ok: resp.ok, data, error, headers: resp.headers, next: nextLink(resp.headers) };
}

export const get = (url) => request('GET', url);

// Scan the door QR: rear camera via getUserMedia, BarcodeDetector where the browser has it, else
// the vendored jsQR (loaded only then); manual entry of the lab code as the fallback.
import { get } from './api.js';
import { labByCode, labByToken } from './bundle.js';
import { $, status, t } from './ui.js';

const page = $('[data-page="scan"]');
const video = $('#camera');
const canvas = $('#frame');
let stream = null;
let scanning = false;

// A plate carries https://<host>/l/<token>; accept the bare token too.
export function tokenFrom(text) {
  const value = (text || '').trim();
  try {
    const url = new URL(value);
    const m = url.pathname.match(/\/l\/([A-Za-z0-9_-]+)\/?$/);
    return m ? m[1] : null;
  } catch (e) {
    return /^[A-Za-z0-9_-]{20,}$/.test(value) ? value : null;
  }
}

// What the nameplate prints under the QR is the lab code (app/reports/nameplates.py): typed as
// printed, in either case, with stray spaces or a Chinese keyboard's full-width characters.
export function normaliseCode(text) {
  return (text || '').normalize('NFKC').replace(/\s+/g, '').toUpperCase();
}

async function labForCode(code) {
  const cached = await labByCode(code);
  if (cached || navigator.onLine === false) return cached;
  try {
    const r = await get('/api/labs');
    if (r.ok) return (r.data || []).find((l) => normaliseCode(l.code) === code) || null;
  } catch (e) { /* offline after all */ }
  return null;
}

async function openLab(input) {
  const err = $('#manual-error');
  err.hidden = true;
  const isUrl = /^https?:\/\//i.test((input || '').trim());
  const code = isUrl ? '' : normaliseCode(input);
  // A lab code first (what people type); a bare token (20+ URL-safe characters) could also be a
  // long lab code, so it is tried as a token only when no lab has that code.
  let lab = code ? await labForCode(code) : null;
  const token = lab ? null : tokenFrom(input);
  if (!lab && token) {
    lab = await labByToken(token);
    if (!lab && navigator.onLine !== false) {
      try {
        const r = await get(`/api/qr/${encodeURIComponent(token)}`);
        if (r.ok) lab = r.data;
        else { status(err, (r.error && r.error.message) || t('code_unknown')); return; }
      } catch (e) { /* offline after all */ }
    }
  }
  if (lab) {
    stop();
    window.location.assign(`/app/labs/${lab.id}`);
  } else {
    status(err, token && navigator.onLine === false ? t('not_in_bundle') : t('code_unknown'));
  }
}

function stop() {
  scanning = false;
  if (stream) stream.getTracks().forEach((tr) => tr.stop());
  stream = null;
}

function loadJsQR() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = page.dataset.jsqr;
    s.onload = () => resolve(window.jsQR);
    s.onerror = reject;
    document.head.append(s);
  });
}

async function decoder() {
  if ('BarcodeDetector' in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        const det = new window.BarcodeDetector({ formats: ['qr_code'] });
        return async () => {
          const codes = await det.detect(video);
          return codes.length ? codes[0].rawValue : null;
        };
      }
    } catch (e) { /* fall through to jsQR */ }
  }
  const jsQR = await loadJsQR();
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  return async () => {
    const w = video.videoWidth;
    const h = video.videoHeight;
    if (!w || !h) return null;
    const scale = Math.min(1, 800 / Math.max(w, h));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const code = jsQR(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' });
    return code ? code.data : null;
  };
}

async function start() {
  const box = $('#camera-box');
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false });
  } catch (e) {
    status($('#scan-status'), t('camera_denied'));
    $('#manual-code').focus();
    return;
  }
  video.srcObject = stream;
  box.hidden = false;
  await video.play();
  status($('#scan-status'), t('scan_hint'));
  const detect = await decoder();
  scanning = true;
  const tick = async () => {
    if (!scanning) return;
    let text = null;
    try { text = await detect(); } catch (e) { text = null; }
    if (text) {
      if (tokenFrom(text)) { await openLab(text); return; }
      status($('#scan-status'), t('not_a_lab_code'));
    }
    setTimeout(tick, 250);
  };
  tick();
}

$('#start-camera').addEventListener('click', start);
$('#manual-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  openLab($('#manual-code').value);
});
window.addEventListener('pagehide', stop);

// Running a checklist: items one by one or as a list; pass / fail / n.a., a note, photos for
// failures; every change is saved to an IndexedDB draft at once (closing the app loses nothing);
// submit moves the draft into the outbox and syncs.
import { get } from './api.js';
import { cachedBundle, checklistFromBundle, labFromBundle } from './bundle.js';
import { get as dbGet, put as dbPut, del as dbDel } from './db.js';
import { enqueueInspection, photoStates } from './outbox.js';
import { cameraFile, downscale, uuid } from './photo.js';
import { setupSignatures, signaturesBody } from './signature.js';
import { receipts, syncNow } from './sync.js';
import { $, el, fmtTime, localized, levelLabel, status, t } from './ui.js';

const m = window.location.pathname.match(/\/app\/labs\/(\d+)\/inspect\/([^/]+)/) || [];
const labId = Number(m[1]);
const key = decodeURIComponent(m[2] || '');
const params = new URLSearchParams(window.location.search);
const userId = document.body.dataset.userId;
let draft = null;
const nodes = new Map(); // item id -> <li>
const objectUrls = new Map(); // photo uuid -> blob URL

async function fetchChecklist() {
  try {
    const [c, lab] = await Promise.all([get(`/api/labs/${labId}/checklists/${encodeURIComponent(key)}`), get(`/api/labs/${labId}`)]);
    const list = await get(`/api/labs/${labId}/checklists`);
    if (c.ok) {
      const entry = list.ok ? list.data.find((x) => x.key === key) : null;
      return { checklist: c.data, lab: lab.ok ? lab.data : null, levels: entry ? entry.levels : [] };
    }
    return { error: (c.error && c.error.message) || t('load_failed') };
  } catch (e) {
    const checklist = await checklistFromBundle(labId, key);
    const lab = await labFromBundle(labId);
    if (!checklist) return { error: t('not_in_bundle') };
    return { checklist, lab, levels: checklist.levels || [] };
  }
}

async function loadDraft() {
  const level0 = params.get('level');
  const candidates = level0 ? [level0] : ['daily', 'college', 'school', 'special'];
  for (const level of candidates) {
    const d = await dbGet('drafts', `${labId}:${key}:${level}`);
    if (d && String(d.user_id) === String(userId)) return d;
  }
  return null;
}

async function save() {
  draft.updated_at = new Date().toISOString();
  await dbPut('drafts', draft);
  const mark = $('#saved-mark');
  mark.textContent = `${t('saved_draft')} ✓`;
}

function answered(item) {
  const a = draft.answers[item.id];
  return a && a.result;
}

function progress() {
  const items = draft.checklist.items;
  const done = items.filter(answered).length;
  $('#progress-text').textContent = `${done} / ${items.length}`;
  const bar = $('#progress-bar');
  bar.max = Math.max(1, items.length);
  bar.value = done;
}

function answerOf(item) {
  if (!draft.answers[item.id]) draft.answers[item.id] = { result: null, note: '', photos: [] };
  return draft.answers[item.id];
}

async function thumb(photoId, li, item) {
  let url = objectUrls.get(photoId);
  if (!url) {
    const p = await dbGet('photos', photoId);
    if (!p) return null;
    url = URL.createObjectURL(p.blob);
    objectUrls.set(photoId, url);
  }
  const remove = el('button', { type: 'button', class: 'thumb-remove', text: t('remove'), 'aria-label': t('remove') });
  remove.addEventListener('click', async () => {
    const a = answerOf(item);
    a.photos = a.photos.filter((x) => x !== photoId);
    await dbDel('photos', photoId);
    await save();
    paintItem(item);
  });
  return el('figure', { class: 'thumb', 'data-photo': photoId }, el('img', { src: url, alt: '' }), remove);
}

async function paintItem(item) {
  const li = nodes.get(item.id);
  const a = draft.answers[item.id] || {};
  for (const b of li.querySelectorAll('.choice')) b.setAttribute('aria-pressed', String(b.dataset.result === a.result));
  li.dataset.result = a.result || '';
  li.querySelector('.fail-box').hidden = a.result !== 'fail';
  const photos = a.photos || [];
  li.querySelector('.photo-hint').hidden = !(item.photo_required && a.result === 'fail' && !photos.length);
  const thumbs = await Promise.all(photos.map((p) => thumb(p, li, item)));
  li.querySelector('.thumbs').replaceChildren(...thumbs.filter(Boolean));
  progress();
}

function buildItem(item, index) {
  const li = $('#item-template').content.firstElementChild.cloneNode(true);
  li.dataset.itemId = item.id;
  li.dataset.index = index;
  li.querySelector('.article').textContent = `${t('article')} ${item.article} · ${t('item_of', { n: index + 1, total: draft.checklist.items.length })}`;
  li.querySelector('.major').hidden = item.severity !== 'major';
  li.querySelector('.item-text').textContent = localized(item, 'text');
  const note = li.querySelector('.item-note');
  note.value = (draft.answers[item.id] || {}).note || '';
  for (const b of li.querySelectorAll('.choice')) {
    b.addEventListener('click', async () => {
      const a = answerOf(item);
      a.result = b.dataset.result;
      await save();
      await paintItem(item);
      // One by one: a pass or n.a. moves on; a failure stays for the photo and the note.
      if (draft.mode === 'one' && a.result !== 'fail') go(1);
    });
  }
  let timer = null;
  note.addEventListener('input', () => {
    answerOf(item).note = note.value;
    clearTimeout(timer);
    timer = setTimeout(save, 300);
  });
  note.addEventListener('change', () => { answerOf(item).note = note.value; save(); });
  const input = li.querySelector('.photo-input');
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const hint = li.querySelector('.photo-hint');
    hint.hidden = false;
    hint.textContent = t('photo_processing');
    try {
      const blob = await downscale(file);
      const id = uuid();
      await dbPut('photos', { uuid: id, blob, camera: cameraFile(file, blob), draft_key: draft.key, created_at: new Date().toISOString() });
      answerOf(item).photos.push(id);
      await save();
      hint.textContent = t('photo_required');
    } catch (e) {
      hint.textContent = t('photo_failed');
      return;
    } finally {
      input.value = '';
    }
    await paintItem(item);
  });
  nodes.set(item.id, li);
  return li;
}

function layout() {
  const one = draft.mode === 'one';
  $('#mode-one').setAttribute('aria-pressed', String(one));
  $('#mode-list').setAttribute('aria-pressed', String(!one));
  draft.checklist.items.forEach((item, i) => { nodes.get(item.id).hidden = one && i !== draft.index; });
  $('#pager').hidden = !one;
  $('#prev-item').disabled = draft.index <= 0;
  const last = draft.index >= draft.checklist.items.length - 1;
  $('#next-item').hidden = last;
  $('#to-review').hidden = one && !last;
}

function go(delta) {
  const n = draft.checklist.items.length;
  draft.index = Math.max(0, Math.min(n - 1, draft.index + delta));
  save();
  layout();
  window.scrollTo(0, 0);
}

function problems() {
  const items = draft.checklist.items;
  const unanswered = items.filter((i) => !answered(i));
  const missingPhoto = items.filter((i) => i.photo_required && (draft.answers[i.id] || {}).result === 'fail' && !((draft.answers[i.id].photos || []).length));
  return { unanswered, missingPhoto };
}

function review() {
  const items = draft.checklist.items;
  const { unanswered, missingPhoto } = problems();
  const failed = items.filter((i) => (draft.answers[i.id] || {}).result === 'fail');
  $('#review-summary').textContent = `${items.length - unanswered.length} / ${items.length} · ${t('failed_items')}: ${failed.length}`;
  const jump = (item) => {
    const link = el('a', { href: '#', text: localized(item, 'text') });
    link.addEventListener('click', (ev) => {
      ev.preventDefault();
      draft.index = items.indexOf(item);
      showItems();
    });
    return link;
  };
  $('#review-list').replaceChildren(
    ...unanswered.map((i) => el('li', { class: 'pad warn' }, `${t('unanswered')}: `, jump(i))),
    ...missingPhoto.map((i) => el('li', { class: 'pad warn' }, `${t('photo_required')} `, jump(i))),
    ...failed.map((i) => el('li', { class: 'pad bad' }, `${t('fail')}: `, jump(i))));
  $('#inspection-note').value = draft.note || '';
  $('#submit-inspection').disabled = unanswered.length > 0 || missingPhoto.length > 0;
  $('#items').hidden = true;
  $('#pager').hidden = true;
  $('#to-review').hidden = true;
  $('#review').hidden = false;
  window.scrollTo(0, 0);
}

function showItems() {
  $('#review').hidden = true;
  $('#items').hidden = false;
  layout();
}

async function submit() {
  const button = $('#submit-inspection');
  draft.note = $('#inspection-note').value;
  // Checked here, not by the server: a refused body would sit in the outbox as an error.
  const { signatures, problem } = signaturesBody(draft);
  const warn = $('#signature-problem');
  warn.hidden = !problem;
  warn.textContent = problem ? t(problem) : '';
  if (problem) return;
  button.disabled = true;
  const body = {
    uuid: draft.uuid,
    lab_id: labId,
    checklist_version_id: draft.checklist.version_id,
    level: draft.level,
    started_at: draft.started_at,
    finished_at: new Date().toISOString(),
    note: draft.note,
    ...(draft.round_id ? { round_id: draft.round_id } : {}), // the round it is done for (home's "my rounds")
    ...(signatures.length ? { signatures } : {}), // optional: the record can be signed on paper instead
    answers: draft.checklist.items.map((i) => {
      const a = draft.answers[i.id];
      return { item_id: i.id, result: a.result, note: a.note || '', photos: a.photos || [] };
    }),
  };
  const label = `${draft.lab_name || ''} · ${levelLabel(draft.level)}`;
  await enqueueInspection(draft, body, label);
  $('#review').hidden = true;
  $('#inspect-head').hidden = true;
  const done = $('#done');
  done.hidden = false;
  $('#done-back').href = `/app/labs/${labId}`;
  $('#done-title').textContent = t('queued');
  done.dataset.state = 'queued';
  awaiting = body.uuid;
  sentPhotos = body.answers.flatMap((a) => a.photos || []);
  window.addEventListener('labsafe:outbox', showPhotoStates);
  showPhotoStates();
  // Sent now, or later by any sync run of this page (`online`, page visible, a minute's retry).
  const mine = (detail) => (detail && detail.sent ? detail.sent.find((r) => r.id === awaiting) : null);
  window.addEventListener('labsafe:sync', (ev) => { const r = mine(ev.detail); if (r) showSent(r); });
  const result = await syncNow();
  const receipt = mine(result) || receipts().find((r) => r.id === awaiting);
  if (receipt) showSent(receipt);
}

let awaiting = null; // the UUID of the inspection this page queued
let sentPhotos = []; // its photos' UUIDs

// The report goes first; its photos follow. Per photo: waiting, uploading or on the server.
async function showPhotoStates() {
  if (!sentPhotos.length) return;
  const states = await photoStates(sentPhotos);
  const done = sentPhotos.filter((u) => states[u] === 'done').length;
  $('#done-photos-box').hidden = false;
  $('#done-photos-box').dataset.done = String(done);
  $('#done-photos-title').textContent = t('photos_arriving', { done, n: sentPhotos.length });
  $('#done-photos').replaceChildren(...sentPhotos.map((u, i) => el('li', { class: `pad photo-${states[u]}`, 'data-photo': u, 'data-state': states[u] },
    `${t('kind_photo')} ${i + 1}: ${t(`photo_${states[u] === 'done' ? 'arrived' : states[u]}`)}`)));
}

// Says the inspection reached the server: when, and the tickets it opened (links to them).
function showSent(receipt) {
  const done = $('#done');
  if (done.dataset.state === 'submitted') return;
  $('#done-title').textContent = t('submitted');
  $('#done-text').textContent = t('sent_at', { when: fmtTime(receipt.sent_at) });
  // The server's score and grade (a receipt kept before they existed has none: nothing shown).
  const grade = $('#done-grade');
  grade.hidden = !receipt.grade;
  grade.dataset.grade = receipt.grade || '';
  if (receipt.grade) {
    grade.textContent = t('score_grade', { score: Number(receipt.score).toFixed(1), grade: receipt.grade, meaning: t(`grade_${receipt.grade}`) });
  }
  const ids = receipt.ticket_ids || [];
  $('#done-tickets-title').textContent = ids.length ? t('tickets_opened', { n: ids.length }) : t('no_tickets_opened');
  $('#done-tickets').replaceChildren(...ids.map((id) => el('li', {},
    el('a', { href: `/app/tickets/${id}`, 'data-ticket-id': id, text: t('ticket_n', { n: id }) }))));
  $('#done-tickets-box').hidden = false;
  done.dataset.state = 'submitted';
  done.dataset.sentAt = receipt.sent_at;
}

async function init() {
  draft = await loadDraft();
  if (!draft) {
    const loaded = await fetchChecklist();
    if (loaded.error) { status($('#inspect-status'), loaded.error); return; }
    const levels = loaded.levels || [];
    const level = params.get('level') || levels[0] || 'college';
    draft = {
      key: `${labId}:${key}:${level}`,
      user_id: userId,
      lab_id: labId,
      lab_name: loaded.lab ? localized(loaded.lab, 'name') : '',
      checklist_key: key,
      checklist: loaded.checklist,
      level,
      uuid: uuid(),
      started_at: new Date().toISOString(),
      answers: {},
      note: '',
      mode: 'one',
      index: 0,
    };
    await save();
  } else {
    status($('#inspect-status'), t('draft_restored'));
  }
  if (params.get('round')) { draft.round_id = Number(params.get('round')); await save(); }
  if (!draft.answers || !Object.keys(draft.answers).length) status($('#inspect-status'), '');
  $('#inspect-title').textContent = `${levelLabel(draft.level)} · ${localized(draft.checklist, 'title')}`;
  $('#inspect-lab').textContent = draft.lab_name;
  $('#back-to-lab').href = `/app/labs/${labId}`;
  $('#inspect-head').hidden = false;
  $('#items').replaceChildren(...draft.checklist.items.map(buildItem));
  await Promise.all(draft.checklist.items.map(paintItem));
  layout();
  // The inspector's own name, from the offline bundle (the shell page carries no user data).
  const bundle = await cachedBundle().catch(() => null);
  setupSignatures($('#signatures'), draft, save, bundle && bundle.user_name);
  document.body.dataset.inspectReady = '1';
}

$('#mode-one').addEventListener('click', () => { draft.mode = 'one'; save(); layout(); });
$('#mode-list').addEventListener('click', () => { draft.mode = 'list'; save(); layout(); });
$('#prev-item').addEventListener('click', () => go(-1));
$('#next-item').addEventListener('click', () => go(1));
$('#to-review').addEventListener('click', review);
$('#back-to-items').addEventListener('click', showItems);
$('#inspection-note').addEventListener('input', () => { draft.note = $('#inspection-note').value; save(); });
$('#submit-inspection').addEventListener('click', submit);
// The phone may kill a backgrounded app at any moment: write the draft as the page is hidden.
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden' && draft) save(); });
init();

// The lab card: nameplate (art. 24(1)), officers, hazards, open tickets, and the checklists this
// user may run here. Drawn at once from the offline bundle when it holds the lab, then from the
// network's answer (GET /api/labs/<id>/card: one request); offline, the bundle's copy stays.
// Someone with no rights on the lab (a student who scanned the door QR) may still report a hazard
// here (hazard.js): the card's 403 then quietly leaves only the report form, no error and nothing of
// the lab; offline, a bundle without any lab (no rights anywhere) does the same.
import { get } from './api.js';
import { cachedBundle, labFromBundle, loginExpired } from './bundle.js';
import { all } from './db.js';
import { $, el, hazardLabel, levelLabel, localized, status, t, ticketItem } from './ui.js';

const labId = (window.location.pathname.match(/\/app\/labs\/(\d+)/) || [])[1];

function fromBundle(cached) {
  return { lab: cached, tickets: cached.open_tickets || [], checklists: cached.checklists || [], dailyDone: cached.daily_done_today,
    closedUntil: cached.closed_until, designees: cached.daily_designees || [] };
}

async function fromNetwork(cached) {
  let resp;
  try {
    resp = await get(`/api/labs/${labId}/card`);
  } catch (e) {
    if (cached) return null; // offline: the bundle's copy stays
    return (await reportOnly()) ? { reportOnly: true } : { error: t('not_in_bundle') };
  }
  if (resp.status === 401) {
    loginExpired();
    return cached ? null : { error: (resp.error && resp.error.message) || t('load_failed') };
  }
  if (resp.status === 403 && mayReport()) return { reportOnly: true };
  if (!resp.ok) {
    // A lab the user may no longer see (403/404) is not shown from an older bundle either.
    if (resp.status < 500 || !cached) return { error: (resp.error && resp.error.message) || t('load_failed') };
    return null;
  }
  const card = resp.data;
  return { lab: card.lab, tickets: card.open_tickets || [], checklists: card.checklists || [], dailyDone: card.daily_done_today,
    closedUntil: card.closed_until, designees: card.daily_designees || [] };
}

// The hazard report form is on this page (anyone signed in may report: hazard.js shows it).
function mayReport() {
  return Boolean($('#hazard-section'));
}

// Offline, a lab missing from the bundle: only the report form when the bundle holds no lab at all.
async function reportOnly() {
  if (!mayReport()) return false;
  const bundle = await cachedBundle().catch(() => null);
  return !bundle || !(bundle.labs || []).length;
}

async function draw(data) {
  if (data.reportOnly) {
    status($('#lab-status'), '');
    for (const id of ['#lab-card', '#checklists-section', '#tickets-section']) $(id).hidden = true;
    $('[data-page="lab"]').dataset.drawn = 'report-only';
    return;
  }
  if (data.error) {
    status($('#lab-status'), data.error);
    for (const id of ['#lab-card', '#checklists-section', '#tickets-section']) $(id).hidden = true;
    return;
  }
  status($('#lab-status'), '');
  const { lab } = data;
  document.title = `${localized(lab, 'name')} · LabSafe`;
  $('#lab-name').textContent = localized(lab, 'name');
  $('#lab-meta').textContent = [lab.code, lab.college_name, [lab.building, lab.room].filter(Boolean).join(' ')].filter(Boolean).join(' · ');
  $('#lab-officers').replaceChildren(...(lab.officers || []).map((o) => el('span', { class: 'officer' },
    o.name, o.phone ? el('a', { href: `tel:${o.phone}`, class: 'tel', text: o.phone }) : null)));
  $('#lab-phone').replaceChildren(lab.phone ? el('a', { href: `tel:${lab.phone}`, class: 'tel', text: lab.phone }) : '—');
  $('#lab-hazards').replaceChildren(...((lab.hazard_tags || []).length
    ? lab.hazard_tags.map((h) => el('span', { class: 'tag', text: hazardLabel(h) })) : ['—']));
  // Holiday closures and the officer's daily-check designees (art. 29).
  const closed = $('#lab-closed');
  closed.hidden = !data.closedUntil;
  closed.textContent = data.closedUntil ? t('closed_until', { day: data.closedUntil }) : '';
  const designees = data.designees || [];
  $('#lab-designees-label').hidden = $('#lab-designees').hidden = !designees.length;
  $('#lab-designees').textContent = designees.map((x) => (x.until ? `${x.name} (${t('until', { day: x.until })})` : x.name)).join(', ');
  // Risk grade I-IV (MOE 2024 measures): red, orange, yellow, blue; null until assessed.
  const risk = lab.risk_level;
  $('#lab-risk').replaceChildren(el('span', {
    class: `tag risk risk-${risk || 'none'}`, 'data-risk-level': risk || '', text: t(risk ? `risk_${risk}` : 'risk_none'),
  }));
  $('#lab-card').hidden = false;

  const drafts = new Set((await all('drafts')).filter((d) => String(d.lab_id) === String(labId)).map((d) => `${d.checklist_key}:${d.level}`));
  const buttons = [];
  for (const c of data.checklists || []) {
    for (const level of c.levels || []) {
      const label = `${levelLabel(level)} · ${localized(c, 'title')}`;
      buttons.push(el('a', {
        class: 'button big block', 'data-checklist': c.key, 'data-level': level,
        href: `/app/labs/${labId}/inspect/${encodeURIComponent(c.key)}?level=${level}`,
      }, label, drafts.has(`${c.key}:${level}`) ? el('span', { class: 'tag', text: t('continue_draft') }) : null));
    }
  }
  $('#checklists-section').hidden = false;
  $('#checklist-buttons').replaceChildren(...(buttons.length ? buttons : [el('p', { class: 'muted', text: t('no_checklists') })]));
  const d = $('#lab-daily');
  d.hidden = true;
  if (data.dailyDone !== null && data.dailyDone !== undefined) {
    d.textContent = data.dailyDone ? t('daily_done') : t('daily_not_done');
    d.className = data.dailyDone ? 'daily ok' : 'daily warn';
    d.hidden = false;
  }
  $('#tickets-section').hidden = false;
  const tickets = data.tickets || [];
  $('#lab-tickets').replaceChildren(...(tickets.length ? tickets.map(ticketItem) : [el('li', { class: 'pad muted', text: t('no_open_tickets') })]));
  $('[data-page="lab"]').dataset.drawn = data.source;
}

async function render() {
  const cached = await labFromBundle(labId);
  if (cached) await draw({ ...fromBundle(cached), source: 'bundle' });
  const fresh = await fromNetwork(cached);
  if (fresh) await draw({ ...fresh, source: 'network' });
}

render();

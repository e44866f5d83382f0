// The lab card: nameplate (art. 24(1)), officers, hazards, open tickets, and the checklists this
// user may run here. Online from the API; offline from the bundle.
import { get } from './api.js';
import { labFromBundle } from './bundle.js';
import { all } from './db.js';
import { $, el, hazardLabel, levelLabel, localized, status, t, ticketItem } from './ui.js';

const labId = (window.location.pathname.match(/\/app\/labs\/(\d+)/) || [])[1];

async function load() {
  const cached = await labFromBundle(labId);
  try {
    const [lab, tickets, checklists] = await Promise.all([
      get(`/api/labs/${labId}`), get(`/api/labs/${labId}/tickets`), get(`/api/labs/${labId}/checklists`),
    ]);
    if (!lab.ok) return { error: (lab.error && lab.error.message) || t('load_failed') };
    return {
      lab: lab.data,
      tickets: tickets.ok ? (tickets.data.items || tickets.data).filter((x) => x.state !== 'closed') : (cached ? cached.open_tickets : []),
      checklists: checklists.ok ? checklists.data : (cached ? cached.checklists : []),
      dailyDone: cached ? cached.daily_done_today : null,
    };
  } catch (e) {
    if (!cached) return { error: t('not_in_bundle') };
    return { lab: cached, tickets: cached.open_tickets || [], checklists: cached.checklists || [], dailyDone: cached.daily_done_today };
  }
}

async function render() {
  const data = await load();
  if (data.error) { status($('#lab-status'), data.error); return; }
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
  if (data.dailyDone !== null && data.dailyDone !== undefined) {
    const d = $('#lab-daily');
    d.textContent = data.dailyDone ? t('daily_done') : t('daily_not_done');
    d.className = data.dailyDone ? 'daily ok' : 'daily warn';
    d.hidden = false;
  }
  $('#tickets-section').hidden = false;
  const tickets = data.tickets || [];
  $('#lab-tickets').replaceChildren(...(tickets.length ? tickets.map(ticketItem) : [el('li', { class: 'pad muted', text: t('no_open_tickets') })]));
}

render();

// Home: scan, today's daily checks (lab officers), my rounds (inspectors), the outbox with "sync now", my labs.
import { get } from './api.js';
import { getBundle, keepTicketsForOffline } from './bundle.js';
import { items, remove, update } from './outbox.js';
import { receipts, syncNow } from './sync.js';
import { $, el, fmtTime, localized, status, t, ticketItem } from './ui.js';

const userId = document.body.dataset.userId;

// What reached the server lately: when, and the tickets each inspection opened.
function renderSent() {
  const sent = receipts(userId);
  $('#sent-box').hidden = !sent.length;
  $('#sent-list').replaceChildren(...sent.map((r) => el('li', { class: 'pad', 'data-sent': r.id },
    el('strong', { text: `${t('kind_inspection')} · ${r.label || ''}` }),
    el('span', { class: 'muted', text: t('sent_at', { when: fmtTime(r.sent_at) }) }),
    (r.ticket_ids || []).length
      ? el('span', {}, `${t('tickets_opened', { n: r.ticket_ids.length })} `,
        ...r.ticket_ids.map((id) => el('a', { href: `/app/tickets/${id}`, class: 'ticket-link', text: t('ticket_n', { n: id }) })))
      : el('span', { class: 'muted', text: t('no_tickets_opened') }))));
}

async function renderOutbox() {
  renderSent();
  const mine = (await items()).filter((i) => String(i.user_id) === String(userId));
  const others = (await items()).filter((i) => String(i.user_id) !== String(userId));
  $('#outbox-total').textContent = String(mine.length);
  const list = $('#outbox-list');
  if (!mine.length && !others.length) {
    list.replaceChildren(el('li', { class: 'pad muted', text: t('outbox_empty') }));
    return;
  }
  list.replaceChildren(...mine.map((item) => {
    const row = el('li', { class: `pad outbox-item ${item.status}`, 'data-id': item.id, 'data-status': item.status },
      el('strong', { text: `${t(`kind_${item.kind}`)} · ${item.label || ''}` }),
      el('span', { class: 'muted', text: fmtTime(item.created_at) }));
    // A camera original goes only on Wi-Fi or while charging (sync.js): say why it is still here.
    if (item.kind === 'camera_original' && item.status === 'pending') row.append(el('span', { class: 'muted', text: t('waits_for_wifi') }));
    if (item.status !== 'pending') {
      row.append(el('p', { class: 'error', text: `${item.status === 'conflict' ? t('item_conflict') : t('item_failed')}: ${item.error || ''}` }));
      const retry = el('button', { type: 'button', text: t('retry') });
      retry.addEventListener('click', async () => { item.status = 'pending'; item.error = null; await update(item); syncNow(); });
      const discard = el('button', { type: 'button', class: 'danger', text: t('discard') });
      discard.addEventListener('click', async () => { if (window.confirm(t('confirm_discard'))) await remove(item.id); });
      row.append(el('div', { class: 'actions' }, retry, discard));
    }
    return row;
  }), ...others.map((item) => el('li', { class: 'pad muted' },
    `${t(`kind_${item.kind}`)} · ${item.label || ''} — ${t('waiting_other_user')}`)));
}

function renderLabs(bundle) {
  const list = $('#lab-list');
  const labs = bundle ? bundle.labs || [] : [];
  status($('#bundle-status'), bundle ? t('bundle_saved', { n: labs.length, when: fmtTime(bundle.generated_at) }) : t('bundle_none'));
  list.replaceChildren(...(labs.length ? labs.map((lab) => el('li', {},
    el('a', { href: `/app/labs/${lab.id}` },
      el('strong', { text: localized(lab, 'name') }),
      el('span', { class: 'muted', text: `${lab.code} · ${lab.college_name || ''} · ${[lab.building, lab.room].filter(Boolean).join(' ')}` }),
      lab.open_tickets && lab.open_tickets.length ? el('span', { class: 'tag', text: `${t('open_tickets')}: ${lab.open_tickets.length}` }) : null)))
    : [el('li', { class: 'pad muted', text: t('no_labs') })]));
  const daily = labs.filter((l) => (l.checklists || []).some((c) => (c.levels || []).includes('daily')));
  $('#daily-section').hidden = !daily.length;
  $('#daily-list').replaceChildren(...daily.map((lab) => {
    const c = lab.checklists.find((x) => (x.levels || []).includes('daily'));
    return el('li', { class: lab.daily_done_today ? 'done' : 'todo' },
      el('a', { href: lab.daily_done_today ? `/app/labs/${lab.id}` : `/app/labs/${lab.id}/inspect/${encodeURIComponent(c.key)}?level=daily`, 'data-daily-lab': lab.id },
        el('strong', { text: localized(lab, 'name') }),
        el('span', { class: lab.daily_done_today ? 'ok' : 'warn', text: lab.daily_done_today ? t('daily_done') : t('daily_not_done') })));
  }));
}

// My rounds: each round's window and progress, then my labs still to do (by building and floor), each
// opening the round's checklist with ?round= so the submit carries it (inspect.js).
function renderRounds(bundle) {
  const rounds = bundle ? bundle.rounds || [] : [];
  $('#rounds-section').hidden = !rounds.length;
  $('#round-list').replaceChildren(...rounds.map((r) => el('li', { class: 'pad', 'data-round': r.id },
    el('strong', { text: r.title }),
    el('span', { class: 'muted', text: `${t('round_window', { from: r.window_from, to: r.window_to })} · ${t('round_progress', { done: r.done, planned: r.planned })}` }),
    r.labs.length
      ? el('ul', { class: 'list' }, ...r.labs.map((lab) => el('li', {},
        el('a', { href: `/app/labs/${lab.lab_id}/inspect/${encodeURIComponent(r.checklist_key)}?level=${r.level}&round=${r.id}`, 'data-round-lab': lab.lab_id },
          el('strong', { text: localized(lab, 'name') }),
          el('span', { class: lab.state === 'late' ? 'warn' : 'muted', text: `${[lab.building, lab.floor && t('floor_n', { n: lab.floor }), lab.room].filter(Boolean).join(' · ')}${lab.state === 'late' ? ` · ${t('round_late')}` : ''}` })))))
      : el('span', { class: 'ok', text: t('round_all_done') }))));
}

function renderBundle(bundle) {
  renderLabs(bundle);
  renderRounds(bundle);
}

window.addEventListener('labsafe:outbox', renderOutbox);
window.addEventListener('labsafe:sync', (ev) => {
  const s = ev.detail.state;
  status($('#sync-status'), s === 'running' ? t('syncing') : s === 'network' ? t('sync_failed_network') : s === 'auth' ? t('login_again') : s === 'done' ? t('synced') : '');
  if (s === 'done' && ev.detail.confirmed && ev.detail.confirmed.length) getBundle({ refresh: true }).then(renderBundle);
});
$('#sync-now').addEventListener('click', () => syncNow());

// Lab officers: what to fix; reviewers (college leaders, departments): fixes waiting for a check.
async function renderMyTickets() {
  const box = $('#my-tickets');
  if (!box || navigator.onLine === false) return;
  const seen = new Set();
  const found = [];
  try {
    for (const state of box.dataset.states.split(',').filter(Boolean)) {
      const r = await get(`/api/tickets?state=${state}&limit=20`);
      if (!r.ok) continue;
      for (const ticket of r.data.items || r.data) if (!seen.has(ticket.id)) { seen.add(ticket.id); found.push(ticket); }
    }
  } catch (e) { return; }
  box.hidden = !found.length;
  $('#my-ticket-list').replaceChildren(...found.map(ticketItem));
  // The work waiting for this person opens offline too (tickets.js falls back to these copies).
  keepTicketsForOffline(found, async (id) => {
    const r = await get(`/api/tickets/${id}`);
    return r.ok ? r.data : null;
  }).catch(() => { /* the signal went: the next visit goes on */ });
}

renderOutbox();
renderMyTickets();
getBundle().then((cached) => {
  if (cached) renderBundle(cached);
  return getBundle({ refresh: true });
}).then((fresh) => { if (fresh) renderBundle(fresh); else getBundle().then(renderBundle); });

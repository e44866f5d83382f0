// Small DOM helpers and the page's translated strings (rendered by the server as JSON).
let strings = null;

export function t(key, vars = {}) {
  if (!strings) {
    const node = document.getElementById('i18n');
    strings = node ? JSON.parse(node.textContent) : {};
  }
  let s = strings[key] || key;
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

export const isEnglish = () => document.body.dataset.lang === 'en';

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function show(node, on = true) {
  if (node) node.hidden = !on;
}

export function status(node, text) {
  if (node) { node.textContent = text || ''; node.hidden = !text; }
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(/Z|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(isEnglish() ? 'en-GB' : 'zh-CN', { timeZone: 'Asia/Shanghai', dateStyle: 'short', timeStyle: 'short' });
}

// A deadline as the pages print it (tickets.views.deadline_time): school time, and one at midnight is
// the end of the day before ("2026-10-17 24:00", not "2026-10-18 00:00").
export function fmtDeadline(iso) {
  if (!iso) return '';
  const d = new Date(/Z|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = (when) => Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(when).map((p) => [p.type, p.value]));
  let p = parts(d);
  let hhmm = `${p.hour}:${p.minute}`;
  if (hhmm === '00:00') {
    p = parts(new Date(d.getTime() - 1));
    hhmm = '24:00';
  }
  return `${p.year}-${p.month}-${p.day} ${hhmm}`;
}

export const levelLabel = (level) => t(`level_${level}`);
export const ticketLevelLabel = (level) => t(`tlevel_${level}`);
export const stateLabel = (state) => t(`state_${state}`);
export const hazardLabel = (tag) => t(`hz_${tag}`);
export const localized = (obj, field) => (isEnglish() && obj[`${field}_en`]) || obj[field] || '';

export function isOverdue(ticket) {
  if (ticket.overdue !== undefined) return Boolean(ticket.overdue);
  if (!ticket.deadline || ticket.state === 'closed') return false;
  const d = new Date(/Z|[+-]\d\d:?\d\d$/.test(ticket.deadline) ? ticket.deadline : `${ticket.deadline}Z`);
  return d.getTime() < Date.now();
}

export function ticketItem(ticket) {
  const overdue = isOverdue(ticket);
  return el('li', { class: 'ticket' },
    el('a', { href: `/app/tickets/${ticket.id}` },
      el('strong', { text: ticket.title }),
      el('span', { class: 'muted' },
        ticket.article ? `${t('article')} ${ticket.article} · ` : '',
        stateLabel(ticket.state), ' · ', ticketLevelLabel(ticket.level),
        ticket.lab_name ? ` · ${ticket.lab_name}` : '',
        ticket.deadline ? ` · ${t('deadline')} ${fmtDeadline(ticket.deadline)}` : ''),
      ticket.severity === 'major' ? el('span', { class: 'tag major', text: t('major') }) : null,
      overdue ? el('span', { class: 'tag bad', text: t('overdue') }) : null));
}

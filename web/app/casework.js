// How casework reads on a page: an SR with its activity plan and notes, a casegroup with its
// parents, money and letters, a status as a tag. Shared by the work item and casegroup pages.
import { dateTime, h, humanise, longDate, pounds, summaryList, table, tag } from './dom.js';

const STATUS_COLOURS = { open: 'blue', completed: 'green', cancelled: 'grey', closed: 'green', pending: 'grey', done: 'green', skipped: 'grey' };

export function statusTag(status) {
  return tag(humanise(status), STATUS_COLOURS[String(status).toLowerCase()] ?? 'grey');
}

export function srSection(sr) {
  const fields = Object.entries(sr.fields ?? {});
  return h('section', { id: 'sr', 'aria-labelledby': 'sr-title' },
    h('h2', { class: 'govuk-heading-m', id: 'sr-title' }, `SR ${sr.id}: ${sr.sub_area ?? sr.area ?? ''}`),
    summaryList([
      ['Status', [statusTag(sr.status), sr.sub_status ? ` ${sr.sub_status}` : '']],
      ['Reason', sr.reason ?? ''],
      ['Owner team', sr.owner_team ?? ''],
      ['Opened', dateTime(sr.created_at)],
      ...fields.map(([name, value]) => [humanise(name), /amount/.test(name) && Number.isInteger(Number(value)) ? pounds(Number(value)) : String(value)]),
    ]),
    h('h3', { class: 'govuk-heading-s' }, 'Activity plan'),
    sr.steps.length === 0 ? h('p', { class: 'govuk-body' }, 'No steps.')
      : h('ol', { class: 'govuk-list govuk-list--number', id: 'steps' },
        sr.steps.map((s) => h('li', {}, `${s.name} `, statusTag(s.status)))),
    h('h3', { class: 'govuk-heading-s' }, 'Notes'),
    sr.notes.length === 0 ? h('p', { class: 'govuk-body' }, 'No notes.')
      : h('ul', { class: 'govuk-list', id: 'notes' },
        sr.notes.map((n) => h('li', {}, h('span', { class: 'govuk-caption-s' }, `${dateTime(n.created_at)}, ${n.author}`), h('br'), n.text))));
}

function personRows(label, person) {
  if (!person) return [];
  const a = person.address;
  const address = a ? [[a.line1, a.line2, a.town, a.postcode].filter(Boolean).join(', '), ' ', statusTag(a.status ?? 'unknown')]
    : 'No address held';
  return [[label, [person.name ?? '', person.nino ? ` (${person.nino})` : '']], [`${label}: address`, address]];
}

// The ledger's categories (engine/domain/ledger.cpp, money_summary) as a reader says them.
const CATEGORIES = {
  RP: 'Owed to the receiving parent',
  SOS_GB: 'Owed to the Secretary of State (GB)',
  SOS_NI: 'Owed to the Department for Communities (NI)',
};

function schedule(s) {
  if (!s) return 'None in place';
  return `${s.periods} ${s.frequency} collections of ${pounds(s.amount_per_period)} from ${longDate(s.first_collection_date)}`
    + (s.lump_sum ? `, after a lump sum of ${pounds(s.lump_sum)}` : '');
}

export function casegroupSection(cg) {
  const money = (cg.money ?? []).map((m) => [CATEGORIES[m.category] ?? humanise(m.category),
    pounds(m.owed), pounds(m.paid), pounds(m.written_off), pounds(m.outstanding)]);
  return h('section', { id: 'casegroup', 'aria-labelledby': 'casegroup-title' },
    h('h2', { class: 'govuk-heading-m', id: 'casegroup-title' }, `Casegroup ${cg.id}${cg.csa_ref ? ` (${cg.csa_ref})` : ''}`),
    summaryList([
      ['Segment', humanise(cg.segment ?? '')],
      ...personRows('Paying parent', cg.paying_parent),
      ...(cg.cases ?? []).flatMap((c) => [[`Case ${c.id}`, [statusTag(c.status ?? 'unknown'), c.csa_case_ref ? ` ${c.csa_case_ref}` : '']],
        ...personRows(`Receiving parent, case ${c.id}`, c.receiving_parent)]),
      ['Method of payment', cg.account ? `${cg.account.method_of_payment} (${cg.account.method_of_payment_status})` : 'No account'],
      ['Schedule', schedule(cg.schedule)],
    ]),
    money.length ? table('Money by category', ['Category', 'Owed', 'Paid', 'Written off', 'Outstanding'], money) : null,
    (cg.payments ?? []).length ? table('Payments', ['Received', 'Amount', 'Method'],
      cg.payments.map((p) => [longDate(p.received_on), pounds(p.amount), p.method ?? '']))
      : [h('h2', { class: 'govuk-heading-m' }, 'Payments'), h('p', { class: 'govuk-body' }, 'No payments received.')],
    (cg.letters ?? []).length ? table('Letters', ['Template', 'Status', 'Created'],
      cg.letters.map((l) => [l.template, humanise(l.status), dateTime(l.created_at)])) : null);
}


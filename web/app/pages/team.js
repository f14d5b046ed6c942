// A team leader's page: approvals waiting (their own submissions marked as not theirs to
// approve), the day's transition exceptions with allocation to a caseworker, the team's
// workload, and reassigning items in bulk with each item's result.
import { api, ApiError } from '../api.js';
import { h, humanise, longDate, table, tag } from '../dom.js';
import { signedInPage } from '../layout.js';

function select(id, label, names) {
  return [h('label', { class: 'govuk-label', for: id }, label),
    h('select', { class: 'govuk-select', id, name: id },
      names.map((name) => h('option', { value: name }, name)))];
}

function approvals(items) {
  if (items.length === 0) return h('p', { class: 'govuk-body', id: 'no-approvals' }, 'No approvals are waiting.');
  return h('div', { id: 'approvals' }, table(null, ['Due', 'Approval', 'Submitted by', 'Yours to decide'],
    items.map((item) => [
      item.due ? [longDate(item.due), item.overdue ? [' ', tag('Overdue', 'red')] : null] : '',
      h('a', { class: 'govuk-link', href: `/work-items/${item.id}` }, item.title),
      item.submitted_by ?? '',
      item.may_complete ? tag('Yes', 'green') : [tag('Not yours to approve', 'grey'),
        h('br'), h('span', { class: 'govuk-hint govuk-!-font-size-16' }, item.why_not)],
    ])));
}

function exceptions(report, caseworkers) {
  if (report.exceptions.length === 0) {
    return h('p', { class: 'govuk-body', id: 'no-exceptions' }, `No transition exceptions on ${longDate(report.date)}.`);
  }
  return h('div', { id: 'exceptions' }, table(null, ['CSA reference', 'Reason', 'Allocated to'],
    report.exceptions.map((e) => {
      if (e.allocated_to) return [e.csa_ref, e.reason, [e.allocated_to, ' ', tag(humanise(e.item_status ?? 'open'), 'blue')]];
      const form = h('form', { class: 'casekit-inline-form', 'data-exception': e.id },
        select(`allocate-${e.id}`, `Allocate ${e.csa_ref} to`, caseworkers),
        h('button', { type: 'submit', class: 'govuk-button govuk-button--secondary', 'data-module': 'govuk-button' }, 'Allocate'));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          await api('POST', `/exceptions/${e.id}/allocate`, { to: form.elements[`allocate-${e.id}`].value });
          window.location.reload();
        } catch (error) {
          form.append(h('p', { class: 'govuk-error-message' }, error.message));
        }
      });
      return [e.csa_ref, e.reason, caseworkers.length ? form : 'No caseworker in your team'];
    })));
}

function workload(load) {
  return h('div', { id: 'workload' }, table(null, ['Caseworker', 'Open', 'Overdue', 'Completed today'],
    load.caseworkers.map((c) => [c.user, String(c.open), String(c.overdue), String(c.completed_today)]), { sortable: true }));
}

function resultTag(result) {
  return tag(humanise(result), { done: 'green', conflict: 'orange', refused: 'red', not_found: 'grey' }[result] ?? 'grey');
}

function reassign(items, caseworkers) {
  if (items.length === 0) return h('p', { class: 'govuk-body' }, 'Your team has no open items.');
  const results = h('div', { id: 'reassign-results', 'aria-live': 'polite' });
  const rows = items.map((item) => [
    h('div', { class: 'govuk-checkboxes govuk-checkboxes--small' },
      h('div', { class: 'govuk-checkboxes__item' },
        h('input', { class: 'govuk-checkboxes__input', type: 'checkbox', id: `pick-${item.id}`, name: 'pick', value: item.id,
          'data-assignee': item.assignee ?? '' }),
        h('label', { class: 'govuk-label govuk-checkboxes__label', for: `pick-${item.id}` },
          h('span', { class: 'govuk-visually-hidden' }, `Choose item ${item.id}`)))),
    h('a', { class: 'govuk-link', href: `/work-items/${item.id}` }, item.title),
    item.assignee ?? 'Not claimed',
  ]);
  const form = h('form', { id: 'reassign-form' },
    table(null, [h('span', { class: 'govuk-visually-hidden' }, 'Choose'), 'Item', 'Claimed by'], rows),
    h('div', { class: 'govuk-form-group' }, select('reassign-to', 'Give the chosen items to', caseworkers)),
    h('button', { type: 'submit', class: 'govuk-button', 'data-module': 'govuk-button' }, 'Reassign'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const to = form.elements['reassign-to'].value;
    const chosen = [...form.querySelectorAll('input[name="pick"]:checked')].map((box) => ({
      id: Number(box.value), to, if_assignee: box.dataset.assignee || null }));
    if (chosen.length === 0) {
      results.replaceChildren(h('p', { class: 'govuk-error-message' }, 'Choose at least one item'));
      return;
    }
    try {
      const answer = await api('POST', '/work-items/assign', { items: chosen });
      results.replaceChildren(h('h3', { class: 'govuk-heading-s' }, 'Results'),
        table(null, ['Item', 'Result', 'Why'], answer.results.map((r) => [String(r.id), resultTag(r.result), r.message ?? ''])));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      results.replaceChildren(h('p', { class: 'govuk-error-message' }, error.message));
    }
  });
  return h('div', {}, form, results);
}

signedInPage('team', async (main, user) => {
  if (user.role !== 'team_leader') {
    main.replaceChildren(h('p', { class: 'govuk-body' }, 'This page is for team leaders.'));
    return;
  }
  const [waiting, report, load, open] = await Promise.all([
    api('GET', '/work-items', undefined, { inbox: 'team_leader', kind: 'approval', limit: 100 }),
    api('GET', '/exceptions'),
    api('GET', '/team/workload'),
    api('GET', '/work-items', undefined, { inbox: 'caseworker', limit: 100 }),
  ]);
  const caseworkers = load.caseworkers.map((c) => c.user);
  document.getElementById('page-title').textContent = `${load.team} team`;
  main.replaceChildren(
    h('h2', { class: 'govuk-heading-m' }, 'Approvals'), approvals(waiting.items),
    h('h2', { class: 'govuk-heading-m' }, 'Transition exceptions today'), exceptions(report, caseworkers),
    h('h2', { class: 'govuk-heading-m' }, 'Workload'), workload(load),
    h('h2', { class: 'govuk-heading-m' }, 'Reassign work'), reassign(open.items, caseworkers));
});

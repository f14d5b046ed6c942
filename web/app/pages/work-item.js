// A work item: what it asks, the SR and casegroup it is about, and its outcomes as radios
// with the fields each one needs. Completing it resumes the procedure; the page then says
// what the procedure did next. The API decides everything: a refusal comes back with the
// field it is about, and is shown there and in the error summary.
import { api, ApiError } from '../api.js';
import { casegroupSection, srSection, statusTag } from '../casework.js';
import { dateTime, errorSummary, h, humanise, longDate, pathId, summaryList, tag } from '../dom.js';
import { postButton, signedInPage } from '../layout.js';

// How a field is asked for: money in pence and dates as the API takes them.
function fieldHint(name) {
  if (/amount|lump_sum|ogm|fee|ndr|income|arrears/.test(name)) return 'In pence: for example, 12550 for £125.50';
  if (/date/.test(name)) return 'As YYYY-MM-DD: for example, 2027-01-31';
  return null;
}

function fieldInput(outcome, name, required) {
  const id = `f-${outcome.replace(/[^a-z0-9]+/gi, '-')}-${name}`;
  const hint = fieldHint(name);
  const long = /note|reason|evidence|text|welfare|explanation/.test(name);
  const attributes = { id, name, 'data-field': name, 'aria-describedby': hint ? `${id}-hint` : null };
  return h('div', { class: 'govuk-form-group', id: `${id}-group` },
    h('label', { class: 'govuk-label', for: id }, humanise(name), required ? null : ' (optional)'),
    hint ? h('div', { class: 'govuk-hint', id: `${id}-hint` }, hint) : null,
    long ? h('textarea', { class: 'govuk-textarea', rows: 3, ...attributes })
      : h('input', { class: 'govuk-input govuk-!-width-two-thirds', type: 'text', ...attributes }));
}

function requiredFields(item, outcome) {
  return [...(item.requires?.[outcome] ?? [])];
}

// Marks the form group holding `input` as in error, with the message above the input.
function showAtField(input, message) {
  const group = input.closest('.govuk-form-group');
  group.classList.add('govuk-form-group--error');
  const error = h('p', { class: 'govuk-error-message', id: `${input.id}-error` },
    h('span', { class: 'govuk-visually-hidden' }, 'Error: '), message);
  input.before(error);
  input.classList.add(input.tagName === 'TEXTAREA' ? 'govuk-textarea--error' : 'govuk-input--error');
  input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), error.id].filter(Boolean).join(' '));
}

function clearErrors(form, errors) {
  errors.replaceChildren();
  form.querySelectorAll('.govuk-error-message').forEach((e) => e.remove());
  form.querySelectorAll('.govuk-form-group--error').forEach((g) => g.classList.remove('govuk-form-group--error'));
  form.querySelectorAll('.govuk-input--error, .govuk-textarea--error').forEach((i) => i.classList.remove('govuk-input--error', 'govuk-textarea--error'));
}

// Shows the fields of the chosen outcome, and hides the others'.
function revealChosen(event) {
  for (const radio of event.currentTarget.querySelectorAll('input[type="radio"]')) {
    const fields = radio.dataset.reveals && document.getElementById(radio.dataset.reveals);
    if (fields) fields.classList.toggle('govuk-radios__conditional--hidden', !radio.checked);
  }
}

function outcomeForm(item, errors, onDone) {
  const radios = item.outcomes.map((outcome, index) => {
    const id = index === 0 ? 'outcome' : `outcome-${index}`;
    const required = requiredFields(item, outcome);
    const inputs = item.fields.map((name) => fieldInput(outcome, name, required.includes(name)));
    const reveal = inputs.length > 0 ? `conditional-${id}` : null;
    return [
      h('div', { class: 'govuk-radios__item' },
        h('input', { class: 'govuk-radios__input', id, name: 'outcome', type: 'radio', value: outcome, 'data-reveals': reveal }),
        h('label', { class: 'govuk-label govuk-radios__label', for: id }, humanise(outcome))),
      reveal ? h('div', { class: 'govuk-radios__conditional govuk-radios__conditional--hidden', id: reveal }, inputs) : null,
    ];
  });
  const form = h('form', { id: 'complete-form', novalidate: true },
    h('div', { class: 'govuk-form-group', id: 'outcome-group' },
      h('fieldset', { class: 'govuk-fieldset', 'aria-describedby': 'outcome-hint' },
        h('legend', { class: 'govuk-fieldset__legend govuk-fieldset__legend--m' },
          h('h2', { class: 'govuk-fieldset__heading' }, 'Outcome')),
        h('div', { class: 'govuk-hint', id: 'outcome-hint' }, 'Choose what happened, and give what it needs.'),
        // GOV.UK's conditional reveal, shown and hidden here rather than by its Radios
        // module, which marks each radio aria-expanded: not an attribute a radio may have.
        h('div', { class: 'govuk-radios', onchange: revealChosen }, radios))),
    h('button', { type: 'submit', class: 'govuk-button', 'data-module': 'govuk-button', id: 'complete' }, 'Complete item'));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form, errors);
    const chosen = form.querySelector('input[name="outcome"]:checked');
    if (!chosen) {
      showAtField(form.querySelector('#outcome'), 'Select an outcome');
      errors.replaceChildren(errorSummary([['#outcome', 'Select an outcome']]));
      errors.querySelector('#error-summary').focus();
      return;
    }
    const fields = {};
    const reveal = chosen.dataset.reveals;
    if (reveal) {
      for (const input of document.getElementById(reveal).querySelectorAll('[data-field]')) {
        if (input.value.trim()) fields[input.dataset.field] = input.value.trim();
      }
    }
    const button = form.querySelector('#complete');
    button.disabled = true;
    try {
      onDone(await api('POST', `/work-items/${item.id}/complete`, { outcome: chosen.value, fields }));
    } catch (error) {
      button.disabled = false;
      if (!(error instanceof ApiError) || error.status >= 500 || error.status === 401) throw error;
      const input = error.field && reveal ? document.getElementById(reveal).querySelector(`[data-field="${error.field}"]`) : null;
      const target = input ?? chosen;
      showAtField(target, error.message);
      errors.replaceChildren(errorSummary([[`#${target.id}`, error.message]]));
      errors.querySelector('#error-summary').focus();
    }
  });
  return form;
}

function claimControls(item, user) {
  if (item.status !== 'open') return null;
  const mine = item.assignee && item.assignee.toLowerCase() === user.name.toLowerCase();
  if (item.assignee && !mine && user.role !== 'team_leader') return null;
  const action = item.assignee ? 'release' : 'claim';
  return h('div', { class: 'govuk-button-group' },
    postButton(action === 'claim' ? 'Claim this item' : 'Release this item', `/work-items/${item.id}/${action}`));
}

function whatNext(answer) {
  const { item, next } = answer;
  const rows = [['Outcome', humanise(item.outcome)]];
  if (next.sr) rows.push(['SR status', [statusTag(next.sr.status), next.sr.sub_status ? ` ${next.sr.sub_status}` : '']]);
  if (next.instance) rows.push(['Procedure', humanise(next.instance.status)]);
  const items = next.work_items ?? [];
  return h('div', { id: 'what-next' },
    h('div', { class: 'govuk-notification-banner govuk-notification-banner--success', role: 'alert',
      'aria-labelledby': 'done-title', 'data-module': 'govuk-notification-banner', tabindex: '-1', id: 'done-banner' },
    h('div', { class: 'govuk-notification-banner__header' },
      h('h2', { class: 'govuk-notification-banner__title', id: 'done-title' }, 'Success')),
    h('div', { class: 'govuk-notification-banner__content' },
      h('p', { class: 'govuk-notification-banner__heading' }, `Item ${item.id} completed`))),
    h('h2', { class: 'govuk-heading-m' }, 'What happened next'),
    summaryList(rows),
    items.length === 0 ? h('p', { class: 'govuk-body', id: 'no-next' }, 'The procedure opened no item for you.')
      : h('ul', { class: 'govuk-list', id: 'next-items' },
        items.map((n) => h('li', {}, h('a', { class: 'govuk-link', href: `/work-items/${n.id}` }, n.title)))),
    h('p', { class: 'govuk-body' }, h('a', { class: 'govuk-link', href: '/inbox' }, 'Back to my work')));
}

function completedSummary(item) {
  const rows = [['Outcome', humanise(item.outcome ?? '')], ['Completed by', item.completed_by ?? ''],
    ['Completed', dateTime(item.completed_at)]];
  for (const [name, value] of Object.entries(item.field_values ?? {})) rows.push([humanise(name), String(value)]);
  return h('div', { id: 'completed' }, h('h2', { class: 'govuk-heading-m' }, 'Completed'), summaryList(rows));
}

// Reads the item, its SR and casegroup, and draws them; after a completion, what the
// procedure did next comes first.
async function draw(main, user, id, answer) {
  const item = await api('GET', `/work-items/${encodeURIComponent(id)}`);
  const [sr, cg] = await Promise.all([
    item.sr ? api('GET', `/srs/${item.sr}`) : null,
    item.casegroup ? api('GET', `/casegroups/${item.casegroup}`) : null,
  ]);
  document.title = `${item.title} – casekit`;
  document.getElementById('page-title').replaceChildren(
    h('span', { class: 'govuk-caption-l' }, `${humanise(item.kind)}, item ${item.id}`), item.title);
  const errors = h('div', { id: 'errors' });
  let work;
  if (item.status !== 'open') {
    work = completedSummary(item);
  } else if (item.may_complete) {
    work = outcomeForm(item, errors, async (done) => {
      await draw(main, user, id, done);
      document.getElementById('done-banner').focus();
    });
  } else {
    // The engine says this reader may not complete it (someone else's claim, segregation
    // of duties): say why, and offer no form.
    work = h('div', { class: 'govuk-inset-text', id: 'not-yours' },
      h('p', { class: 'govuk-body govuk-!-font-weight-bold' }, 'You cannot complete this item'),
      h('p', { class: 'govuk-body' }, item.why_not));
  }
  main.replaceChildren(errors, h('div', { class: 'govuk-grid-row' },
    h('div', { class: 'govuk-grid-column-two-thirds' },
      answer ? whatNext(answer) : null,
      summaryList([
        ['Status', statusTag(item.status)],
        ['Due', item.due ? [longDate(item.due), item.overdue ? [' ', tag('Overdue', 'red')] : null] : 'No due date'],
        ['Claimed by', item.assignee ?? 'Not claimed'],
        ['Inbox', humanise(item.inbox)],
        ['Submitted by', item.submitted_by ?? 'Nobody'],
      ]),
      claimControls(item, user),
      item.details?.free_text ? h('div', { class: 'govuk-inset-text', id: 'details' }, item.details.free_text) : null,
      work,
      sr ? srSection(sr) : null,
      cg ? casegroupSection(cg) : null)));
}

signedInPage('inbox', (main, user) => draw(main, user, pathId(), null));

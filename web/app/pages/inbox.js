// My work: the open items the signed-in user may see (theirs, their team's, and those
// unclaimed in their inboxes), soonest due first, overdue marked; filters that are the
// listing's own query parameters, saved views kept by the API, claim and release.
import { api } from '../api.js';
import { h, humanise, longDate, tag, table } from '../dom.js';
import { postButton, signedInPage } from '../layout.js';

// The listing's filters this page offers, as GET /api/v1/work-items names them.
const FILTERS = ['assignee', 'kind', 'procedure', 'inbox', 'casegroup', 'overdue', 'sort'];

function currentFilter() {
  const params = new URLSearchParams(window.location.search);
  const filter = {};
  for (const name of FILTERS) {
    if (params.get(name)) filter[name] = params.get(name);
  }
  return filter;
}

function goTo(filter, cursor) {
  const params = new URLSearchParams(filter);
  if (cursor) params.set('cursor', cursor);
  window.location.assign(`/inbox${params.size ? `?${params}` : ''}`);
}

function radios(name, legend, options, chosen) {
  return h('div', { class: 'govuk-form-group' },
    h('fieldset', { class: 'govuk-fieldset' },
      h('legend', { class: 'govuk-fieldset__legend govuk-fieldset__legend--s' }, legend),
      h('div', { class: 'govuk-radios govuk-radios--small', 'data-module': 'govuk-radios' },
        options.map(([value, label]) => h('div', { class: 'govuk-radios__item' },
          h('input', { class: 'govuk-radios__input', id: `${name}-${value || 'any'}`, name, type: 'radio',
            value, checked: (chosen ?? '') === value }),
          h('label', { class: 'govuk-label govuk-radios__label', for: `${name}-${value || 'any'}` }, label))))));
}

function textInput(name, label, value, width, hint) {
  return h('div', { class: 'govuk-form-group' },
    h('label', { class: 'govuk-label govuk-label--s', for: name }, label),
    hint ? h('div', { class: 'govuk-hint', id: `${name}-hint` }, hint) : null,
    h('input', { class: `govuk-input govuk-input--width-${width}`, id: name, name, type: 'text', value: value ?? '',
      'aria-describedby': hint ? `${name}-hint` : null }));
}

function filterForm(filter) {
  const form = h('form', { id: 'filters', class: 'casekit-filters' },
    radios('assignee', 'Whose', [['', 'Mine and my team\'s'], ['me', 'Claimed by me'], ['none', 'Not claimed']],
      filter.assignee),
    textInput('kind', 'Kind of item', filter.kind, 20, 'For example, negotiate_schedule'),
    textInput('procedure', 'Procedure', filter.procedure, 20, 'For example, arrears_negotiation'),
    textInput('casegroup', 'Casegroup', filter.casegroup, 5),
    h('div', { class: 'govuk-form-group' },
      h('div', { class: 'govuk-checkboxes govuk-checkboxes--small', 'data-module': 'govuk-checkboxes' },
        h('div', { class: 'govuk-checkboxes__item' },
          h('input', { class: 'govuk-checkboxes__input', id: 'overdue', name: 'overdue', type: 'checkbox',
            value: 'true', checked: filter.overdue === 'true' }),
          h('label', { class: 'govuk-label govuk-checkboxes__label', for: 'overdue' }, 'Overdue only')))),
    h('button', { type: 'submit', class: 'govuk-button govuk-button--secondary', 'data-module': 'govuk-button' },
      'Apply filters'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = {};
    for (const [name, value] of new FormData(form)) {
      if (value.trim()) chosen[name] = value.trim();
    }
    goTo(chosen);
  });
  return form;
}

function savedViews(views, filter) {
  const list = views.length === 0 ? h('p', { class: 'govuk-body' }, 'You have no saved views.')
    : h('ul', { class: 'govuk-list', id: 'saved-views' },
      views.map((v) => h('li', {}, h('a', { class: 'govuk-link', href: `/inbox?${new URLSearchParams(v.filter)}` }, v.name))));
  const save = h('form', { id: 'save-view' },
    h('div', { class: 'govuk-form-group' },
      h('label', { class: 'govuk-label govuk-label--s', for: 'view-name' }, 'Save these filters as'),
      h('input', { class: 'govuk-input govuk-input--width-20', id: 'view-name', name: 'view-name', type: 'text' })),
    h('button', { type: 'submit', class: 'govuk-button govuk-button--secondary', 'data-module': 'govuk-button' }, 'Save view'));
  save.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = save.elements['view-name'].value.trim();
    if (!name) return;
    await api('PUT', `/views/${encodeURIComponent(name)}`, { filter });
    window.location.reload();
  });
  return h('div', {}, h('h2', { class: 'govuk-heading-s' }, 'Saved views'), list, save);
}

function claimButton(item, user) {
  const mine = item.assignee && item.assignee.toLowerCase() === user.name.toLowerCase();
  if (item.assignee && !mine) return null;
  const action = mine ? 'release' : 'claim';
  return postButton(mine ? 'Release' : 'Claim', `/work-items/${item.id}/${action}`, `item ${item.id}`);
}

function due(item) {
  if (!item.due) return 'No due date';
  return [longDate(item.due), item.overdue ? [' ', tag('Overdue', 'red')] : null];
}

function itemsTable(items, user) {
  return table(null, ['Due', 'Item', 'Casegroup', 'Claimed by', h('span', { class: 'govuk-visually-hidden' }, 'Actions')],
    items.map((item) => [
      due(item),
      [h('a', { class: 'govuk-link', href: `/work-items/${item.id}` }, item.title),
        item.may_complete || item.assignee ? null : [' ', tag('Not yours to complete', 'grey')],
        h('br'), h('span', { class: 'govuk-hint govuk-!-font-size-16' }, `${humanise(item.kind)} · ${humanise(item.inbox)} inbox`)],
      item.casegroup ? h('a', { class: 'govuk-link', href: `/casegroups/${item.casegroup}` },
        h('span', { class: 'govuk-visually-hidden' }, 'Casegroup '), String(item.casegroup)) : '',
      item.assignee ?? 'Not claimed',
      claimButton(item, user),
    ]));
}

signedInPage('inbox', async (main, user) => {
  const filter = currentFilter();
  const cursor = new URLSearchParams(window.location.search).get('cursor');
  const [listing, views] = await Promise.all([
    api('GET', '/work-items', undefined, { ...filter, cursor, limit: 25 }),
    api('GET', '/views').catch(() => ({ views: [] })),
  ]);
  const results = listing.items.length === 0
    ? h('p', { class: 'govuk-body', id: 'no-items' }, 'There is no open work here.')
    : itemsTable(listing.items, user);
  const next = listing.next_cursor ? h('nav', { class: 'govuk-pagination', 'aria-label': 'Pages' },
    h('div', { class: 'govuk-pagination__next' },
      h('a', { class: 'govuk-link govuk-pagination__link', href: `/inbox?${new URLSearchParams({ ...filter, cursor: listing.next_cursor })}`, rel: 'next' },
        h('span', { class: 'govuk-pagination__link-title' }, 'Next page')))) : null;
  main.replaceChildren(h('div', { class: 'govuk-grid-row' },
    h('div', { class: 'govuk-grid-column-one-quarter' }, filterForm(filter), savedViews(views.views, filter)),
    h('div', { class: 'govuk-grid-column-three-quarters' },
      h('p', { class: 'govuk-body', id: 'total' }, `${listing.total} open ${listing.total === 1 ? 'item' : 'items'}`),
      results, next)));
});

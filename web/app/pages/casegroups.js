// Casegroup search: by CSA reference, NINO (of any parent) or the start of a parent's name.
// Every search is recorded by the API as a read of personal data, and limited per person.
import { api, ApiError } from '../api.js';
import { errorSummary, h, pounds, table } from '../dom.js';
import { signedInPage } from '../layout.js';

const CRITERIA = [
  ['csa_ref', 'CSA reference', 'For example, CSA-9000001', 10],
  ['nino', 'National Insurance number', 'Of the paying parent or a receiving parent', 10],
  ['name', 'Name', 'The start of a parent\'s name, or of any word of it', 20],
];

function searchForm(query) {
  const form = h('form', { id: 'search', role: 'search' },
    CRITERIA.map(([name, label, hint, width]) => h('div', { class: 'govuk-form-group' },
      h('label', { class: 'govuk-label govuk-label--s', for: name }, label),
      h('div', { class: 'govuk-hint', id: `${name}-hint` }, hint),
      h('input', { class: `govuk-input govuk-input--width-${width}`, id: name, name, type: 'text',
        spellcheck: 'false', 'aria-describedby': `${name}-hint`, value: query.get(name) ?? '' }))),
    h('button', { type: 'submit', class: 'govuk-button', 'data-module': 'govuk-button' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name] of CRITERIA) {
      const value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    window.location.assign(`/casegroups?${params}`);
  });
  return form;
}

async function results(query) {
  const criteria = Object.fromEntries(CRITERIA.map(([name]) => [name, query.get(name)]).filter(([, v]) => v));
  if (Object.keys(criteria).length === 0) return null;
  let found;
  try {
    found = await api('GET', '/casegroups', undefined, { ...criteria, cursor: query.get('cursor'), limit: 20 });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500 || error.status === 401) throw error;
    return errorSummary([[null, error.message]]);
  }
  if (found.casegroups.length === 0) return h('p', { class: 'govuk-body', id: 'no-results' }, 'No casegroup matches.');
  const next = new URLSearchParams(query);
  next.set('cursor', found.next_cursor ?? '');
  return h('div', { id: 'results' },
    table('Casegroups found', ['CSA reference', 'Paying parent', 'Segment', 'Balance'],
      found.casegroups.map((g) => [
        h('a', { class: 'govuk-link', href: `/casegroups/${g.id}` }, g.csa_ref ?? `Casegroup ${g.id}`),
        g.paying_parent, g.segment, pounds(g.balance)])),
    found.next_cursor ? h('nav', { class: 'govuk-pagination', 'aria-label': 'Pages' },
      h('div', { class: 'govuk-pagination__next' },
        h('a', { class: 'govuk-link govuk-pagination__link', href: `/casegroups?${next}`, rel: 'next' },
          h('span', { class: 'govuk-pagination__link-title' }, 'Next page')))) : null);
}

signedInPage('casegroups', async (main) => {
  const query = new URLSearchParams(window.location.search);
  main.replaceChildren(searchForm(query), await results(query) ?? '');
});

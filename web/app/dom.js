// Building pages from what the API answers. Every value goes in as text (a DOM text node),
// never as HTML, so nothing a record holds can become markup or script.

// h('a', { href: '/inbox', class: 'govuk-link' }, 'My work'): an element with its attributes
// and children. An attribute of null, undefined or false is left out; `on<event>` attributes
// add listeners; children may be nodes, text, numbers or nested arrays of them.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// Integer pence as pounds and pence: 123456 -> "£1,234.56", -500 -> "-£5.00".
export function pounds(pence) {
  const sign = pence < 0 ? '-' : '';
  const abs = Math.abs(pence);
  const whole = Math.trunc(abs / 100).toLocaleString('en-GB');
  return `${sign}£${whole}.${String(abs % 100).padStart(2, '0')}`;
}

// "2026-11-22" or an instant -> "22 November 2026", as GOV.UK writes dates.
export function longDate(text) {
  if (!text) return '';
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
    'September', 'October', 'November', 'December'];
  return `${d} ${months[m - 1]} ${y}`;
}

// An instant -> "22 November 2026, 09:05" (UTC, as the engine keeps it).
export function dateTime(text) {
  if (!text) return '';
  return `${longDate(text)}, ${text.slice(11, 16)}`;
}

// "missed_payment_call" -> "Missed payment call".
export function humanise(name) {
  const words = String(name ?? '').replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// A GOV.UK tag: tag('Overdue', 'red').
export function tag(text, colour) {
  return h('strong', { class: colour ? `govuk-tag govuk-tag--${colour}` : 'govuk-tag' }, text);
}

// A GOV.UK summary list from [label, value] rows; a value may be a node.
export function summaryList(rows) {
  return h('dl', { class: 'govuk-summary-list' },
    rows.map(([key, value]) => h('div', { class: 'govuk-summary-list__row' },
      h('dt', { class: 'govuk-summary-list__key' }, key),
      h('dd', { class: 'govuk-summary-list__value' }, value ?? ''))));
}

// A GOV.UK table: headings, then rows of cells (text or nodes). A sortable one lets the
// reader sort its rows by any column (MoJ Frontend's sortable table): only for a table that
// holds all its rows, never one page of a longer listing.
export function table(caption, headings, rows, { sortable = false } = {}) {
  return h('table', { class: 'govuk-table', 'data-module': sortable ? 'moj-sortable-table' : null },
    caption ? h('caption', { class: 'govuk-table__caption govuk-table__caption--m' }, caption) : null,
    h('thead', { class: 'govuk-table__head' },
      h('tr', { class: 'govuk-table__row' },
        headings.map((text) => h('th', { scope: 'col', class: 'govuk-table__header', 'aria-sort': sortable ? 'none' : null }, text)))),
    h('tbody', { class: 'govuk-table__body' },
      rows.map((cells) => h('tr', { class: 'govuk-table__row' },
        cells.map((cell) => h('td', { class: 'govuk-table__cell' }, cell))))));
}

// Who a listing or page is about, in the path: /work-items/12 -> "12".
export function pathId() {
  return decodeURIComponent(window.location.pathname.split('/').filter(Boolean).pop() ?? '');
}

// A GOV.UK error summary: `problems` are [href, text] pairs, the href ('#field') leading to
// the input the problem is about, or null for one about no field. It takes focus when asked.
export function errorSummary(problems) {
  return h('div', { class: 'govuk-error-summary', 'data-module': 'govuk-error-summary', id: 'error-summary', tabindex: '-1' },
    h('div', { role: 'alert' },
      h('h2', { class: 'govuk-error-summary__title' }, 'There is a problem'),
      h('div', { class: 'govuk-error-summary__body' },
        h('ul', { class: 'govuk-list govuk-error-summary__list' },
          problems.map(([href, text]) => h('li', {}, href ? h('a', { href }, text) : text))))));
}

// What every signed-in page shares: who is signed in, the service navigation (with the
// count of open work on "My work"), sign-out, the place for errors, and GOV.UK Frontend's
// behaviour started once the page is drawn.
import { initAll } from '/assets/govuk/govuk-frontend.min.js';
import { initAll as initMoj } from '/assets/moj/moj-frontend.min.js';
import { api, ApiError, forgetSignIn, signInUrl } from './api.js';
import { errorSummary, h } from './dom.js';

// The pages each role works in, as the navigation lists them.
const NAVIGATION = [
  { id: 'inbox', text: 'My work', href: '/inbox', roles: null },
  { id: 'team', text: 'Team', href: '/team', roles: ['team_leader'] },
  { id: 'console', text: 'Console', href: '/console', roles: ['operator'] },
  { id: 'casegroups', text: 'Casegroups', href: '/casegroups', roles: ['caseworker', 'team_leader', 'senior_manager', 'operator'] },
];

// The service's header (GOV.UK's generic header: an internal service has no crown), and
// with a signed-in user the service navigation to the pages they may open.
export function navigation(user, active, openItems) {
  const items = user ? NAVIGATION.filter((n) => !n.roles || n.roles.includes(user.role)) : [];
  const header = h('div', { class: 'govuk-generic-header' },
    h('div', { class: 'govuk-generic-header__container govuk-width-container' },
      h('div', { class: 'govuk-generic-header__logo' },
        h('a', { href: '/inbox', class: 'govuk-generic-header__homepage-link' }, 'casekit'))));
  if (items.length === 0) return header;
  return [header, h('section', { 'aria-label': 'Service information', class: 'govuk-service-navigation',
    'data-module': 'govuk-service-navigation' },
  h('div', { class: 'govuk-width-container' },
    h('div', { class: 'govuk-service-navigation__container' },
      h('nav', { 'aria-label': 'Menu', class: 'govuk-service-navigation__wrapper' },
        h('button', { type: 'button', hidden: true, 'aria-hidden': 'true', 'aria-controls': 'navigation',
          class: 'govuk-service-navigation__toggle govuk-js-service-navigation-toggle' }, 'Menu'),
        h('ul', { class: 'govuk-service-navigation__list', id: 'navigation' },
          items.map((n) => {
            const current = n.id === active;
            const label = n.id === 'inbox' && openItems !== null ? [n.text, ' ',
              h('span', { class: 'casekit-count', id: 'nav-count' }, String(openItems.open),
                h('span', { class: 'govuk-visually-hidden' }, ' open')),
              openItems.overdue ? [' ', h('span', { class: 'casekit-count casekit-count--overdue', id: 'nav-overdue' },
                `${openItems.overdue} overdue`)] : null] : n.text;
            return h('li', { class: `govuk-service-navigation__item${current ? ' govuk-service-navigation__item--active' : ''}` },
              h('a', { class: 'govuk-service-navigation__link', href: n.href, 'aria-current': current ? 'page' : null },
                current ? h('strong', { class: 'govuk-service-navigation__active-fallback' }, label) : label));
          }))))))];
}

function whoBar(user) {
  const signOut = h('button', { type: 'button', class: 'govuk-button govuk-button--secondary casekit-sign-out',
    'data-module': 'govuk-button', id: 'sign-out' }, 'Sign out');
  signOut.addEventListener('click', async () => {
    try {
      await api('POST', '/logout', {});
    } finally {
      forgetSignIn();
      window.location.assign('/sign-in');
    }
  });
  return h('div', { class: 'govuk-width-container casekit-who' },
    h('p', { class: 'govuk-body-s casekit-who__name', id: 'signed-in-as' },
      'Signed in as ', h('strong', {}, user.name), ` (${user.role.replace('_', ' ')}${user.team ? `, ${user.team}` : ''})`),
    signOut);
}

// A button that POSTs to the API's `path` and then redraws the page; a refusal is shown
// beside it. `hidden` is said to screen readers after the label ("Claim" item 3).
export function postButton(label, path, hidden) {
  const button = h('button', { type: 'button', class: 'govuk-button govuk-button--secondary govuk-!-margin-bottom-0',
    'data-module': 'govuk-button' }, label, hidden ? h('span', { class: 'govuk-visually-hidden' }, ` ${hidden}`) : null);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await api('POST', path, {});
      window.location.reload();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      button.disabled = false;
      button.after(h('p', { class: 'govuk-error-message' }, error.message));
    }
  });
  return button;
}

// A failure the page cannot recover from, shown where its content would be.
export function showFailure(main, error) {
  main.replaceChildren(errorSummary([[null, error instanceof ApiError ? error.message : 'The page could not be shown. Try again.']]));
}

// Starts a signed-in page: `render(main, user)` fills #content. A visitor with no session
// goes to sign in, and comes back here after.
export async function signedInPage(active, render) {
  document.body.classList.add('js-enabled', 'govuk-frontend-supported');
  const main = document.getElementById('content');
  let user;
  try {
    user = (await api('GET', '/me')).user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      window.location.replace(signInUrl());
      return;
    }
    showFailure(main, error);
    return;
  }
  const counts = await api('GET', '/work-items/counts').catch(() => null);
  const openCounts = counts ? counts.counts.filter((c) => c.status === 'open') : null;
  const open = openCounts ? { open: openCounts.reduce((n, c) => n + c.n, 0), overdue: openCounts.reduce((n, c) => n + c.overdue, 0) } : null;
  document.getElementById('header').replaceChildren(...[navigation(user, active, open)].flat(), whoBar(user));
  try {
    await render(main, user);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      window.location.replace(signInUrl());
      return;
    }
    showFailure(main, error);
  }
  initAll();
  initMoj();
  document.body.dataset.ready = 'true';
}

// Sign in: a name and password, POST /api/v1/login; then back to the page that sent the
// visitor here (only a path on this site), else My work.
import { initAll } from '/assets/govuk/govuk-frontend.min.js';
import { api, ApiError, rememberSignIn } from '../api.js';
import { errorSummary, h } from '../dom.js';
import { navigation } from '../layout.js';

function nextPage() {
  const next = new URLSearchParams(window.location.search).get('next') ?? '';
  // Only a path here: "//elsewhere" or "https://..." would send the user off the site.
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/inbox';
}

function field(id, label, type, autocomplete) {
  return h('div', { class: 'govuk-form-group', id: `${id}-group` },
    h('label', { class: 'govuk-label', for: id }, label),
    h('input', { class: 'govuk-input govuk-!-width-one-half', id, name: id, type, autocomplete,
      spellcheck: 'false', required: true }));
}

function render() {
  const main = document.getElementById('content');
  const errors = h('div', {});
  const form = h('form', { novalidate: true, id: 'sign-in-form' },
    field('name', 'User name', 'text', 'username'),
    field('password', 'Password', 'password', 'current-password'),
    h('button', { type: 'submit', class: 'govuk-button', 'data-module': 'govuk-button' }, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = form.elements.name.value.trim();
    const password = form.elements.password.value;
    if (!name || !password) {
      errors.replaceChildren(errorSummary([['#name', 'Enter your user name and password']]));
      document.getElementById('error-summary').focus();
      return;
    }
    try {
      const answer = await api('POST', '/login', { name, password });
      rememberSignIn(answer.csrf_token);
      window.location.assign(nextPage());
    } catch (error) {
      const message = error instanceof ApiError && error.status !== 500
        ? error.message : 'Signing in failed. Try again.';
      errors.replaceChildren(errorSummary([['#name', message]]));
      form.elements.password.value = '';
      document.getElementById('error-summary').focus();
    }
  });
  main.replaceChildren(errors, form);
}

document.body.classList.add('js-enabled', 'govuk-frontend-supported');
document.getElementById('header').replaceChildren(...[navigation(null, null, null)].flat());
render();
initAll();
document.body.dataset.ready = 'true';

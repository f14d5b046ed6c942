// The one way pages talk to the server: the JSON API on this origin. The browser sends the
// session cookie itself; a change also carries the session's CSRF token, which the API gave
// at sign-in and which this page keeps for the tabs of this origin.
const CSRF_KEY = 'casekit.csrf';

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    super(error.message ?? `the server answered ${status}`);
    this.status = status;
    this.code = error.code ?? `HTTP_${status}`;
    this.field = error.field ?? null;
  }
}

export function rememberSignIn(csrfToken) {
  localStorage.setItem(CSRF_KEY, csrfToken);
}

export function forgetSignIn() {
  localStorage.removeItem(CSRF_KEY);
}

// The sign-in page, coming back here afterwards.
export function signInUrl() {
  const here = window.location.pathname + window.location.search;
  return `/sign-in?next=${encodeURIComponent(here)}`;
}

// api('GET', '/work-items', { kind: 'approval' }) or api('POST', '/work-items/3/claim', {}).
// Answers the JSON body (null for 204); throws ApiError with the API's code and message.
export async function api(method, path, body, query) {
  const url = new URL(`/api/v1${path}`, window.location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = localStorage.getItem(CSRF_KEY) ?? '';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

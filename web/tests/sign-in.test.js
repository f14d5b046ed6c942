// Signing in and out, who is signed in, and the pages a visitor without a session is sent
// away from.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessible, extractRow, open, ready, screenshot, World, PASSWORD } from './support.js';

const world = new World('sign-in');
before(async () => {
  world.user('carl', 'caseworker', 'Arrears');
  world.importRows([extractRow(1)]);
  await world.serve();
});
after(() => world.stop());

test('a wrong password is refused on the page, and the right one signs in', async () => {
  const context = await world.browser.newContext({ baseURL: world.base });
  const page = await context.newPage();
  // A page that needs a session sends the visitor to sign in, and back afterwards.
  await page.goto('/inbox?assignee=none');
  await page.waitForURL('**/sign-in?next=*');
  await ready(page);
  await accessible(page, assert);
  await screenshot(page, 'sign-in');

  await page.getByLabel('User name').fill('carl');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const summary = page.locator('#error-summary');
  await summary.waitFor();
  assert.match(await summary.innerText(), /wrong user name or password/);
  await accessible(page, assert);

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/inbox?assignee=none');
  await ready(page);
  assert.match(await page.locator('#signed-in-as').innerText(), /Signed in as carl \(caseworker, Arrears\)/);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/sign-in');
  // The session is over on the server, not only forgotten by the page.
  await page.goto('/inbox');
  await page.waitForURL('**/sign-in?next=*');
  await context.close();
});

test('sign-in sends nobody to another site afterwards', async () => {
  const context = await world.browser.newContext({ baseURL: world.base });
  const page = await context.newPage();
  await page.goto('/sign-in?next=//example.com/');
  await ready(page);
  await page.getByLabel('User name').fill('carl');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/inbox');
  assert.equal(new URL(page.url()).host, new URL(world.base).host);
  await context.close();
});

test('the pages are served with a policy that allows no inline script', async () => {
  const response = await fetch(`${world.base}/inbox`);
  const policy = response.headers.get('content-security-policy');
  assert.match(policy, /script-src 'self'/);
  assert.doesNotMatch(policy, /unsafe-inline/);
  assert.match(policy, /frame-ancestors 'none'/);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
});

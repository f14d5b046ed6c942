// Finding a casegroup by CSA reference, NINO or name, and reading it with its audit trail
// as a timeline.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessible, clickAndReload, extractRow, open, screenshot, World } from './support.js';

const world = new World('casegroups');
before(async () => {
  world.user('carl', 'caseworker', 'Arrears');
  world.user('ada', 'admin');
  world.importRows([extractRow(1), extractRow(2), extractRow(3)]);
  await world.serve();
});
after(() => world.stop());

test('a caseworker finds a casegroup and reads its trail', async () => {
  const page = await world.signIn('carl');
  await open(page, '/casegroups');
  await accessible(page, assert);
  await page.getByLabel('Name').fill('jord');
  await clickAndReload(page, page.getByRole('button', { name: 'Search' }));
  assert.equal(await page.locator('#results tbody tr').count(), 3);
  await page.getByLabel('Name').fill('');
  await page.getByLabel('National Insurance number').fill('ZX910002A');
  await clickAndReload(page, page.getByRole('button', { name: 'Search' }));
  const rows = page.locator('#results tbody tr');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.innerText(), /CSA-9000002\s+Jordan Price 2\s+Arrears\s+£2,400\.00/);
  await accessible(page, assert);
  await screenshot(page, 'casegroup-search');

  await clickAndReload(page, rows.getByRole('link'));
  assert.match(await page.locator('#page-title').innerText(), /CSA-9000002/);
  assert.match(await page.locator('#casegroup').innerText(), /Casey Price 2/);
  // The trail says who changed what and why: the import's procedure, at its script line.
  const trail = page.locator('#audit');
  assert.ok(await trail.locator('.moj-timeline__item').count() > 5);
  assert.match(await trail.innerText(), /by phase2_transition \(instance \d+\)/);
  assert.match(await trail.innerText(), /procedures\/phase2_transition\.lua:\d+/);
  await accessible(page, assert);
  await screenshot(page, 'casegroup');

  // Nothing found is said so; a bad reference is the API's refusal, shown as such.
  await open(page, '/casegroups?csa_ref=CSA-0000000');
  assert.equal(await page.locator('#no-results').count(), 1);
});

test('an admin may not read casegroups, and the page says why', async () => {
  const page = await world.signIn('ada');
  assert.equal(await page.getByRole('link', { name: 'Casegroups' }).count(), 0);
  await open(page, '/casegroups?name=jordan');
  assert.match(await page.locator('#error-summary').innerText(), /admin/);
});

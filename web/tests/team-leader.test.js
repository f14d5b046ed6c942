// A team leader's page beyond approvals: the day's transition exceptions allocated to a
// caseworker (source 002), the team's workload, and bulk reassignment in which one item
// changed hands after the page was read.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessible, clickAndReload, extractRow, open, World } from './support.js';

const world = new World('team-leader');
before(async () => {
  world.user('carl', 'caseworker', 'Arrears');
  world.user('dave', 'caseworker', 'Arrears');
  world.user('tina', 'team_leader', 'Arrears');
  // Two casegroups transition; a row without its parents is an exception.
  world.importRows([extractRow(1), extractRow(2), JSON.stringify({ csa_ref: 'CSA-9000099', extract_date: '2026-11-21' })]);
  await world.serve();
});
after(() => world.stop());

test('a team leader allocates the day\'s exception and reassigns work, each item with its result', async () => {
  const tina = await world.signIn('tina');
  await open(tina, '/team');
  const exception = tina.locator('#exceptions tbody tr').filter({ hasText: 'CSA-9000099' });
  assert.equal(await exception.count(), 1);
  await exception.getByLabel('Allocate CSA-9000099 to').selectOption('dave');
  await clickAndReload(tina, exception.getByRole('button', { name: 'Allocate' }));
  assert.match(await tina.locator('#exceptions').innerText(), /CSA-9000099.*dave/s);
  assert.match(await tina.locator('#workload').innerText(), /dave\s+1\s+0\s+0/);

  // Both negotiation items, to carl; meanwhile dave claims one of them.
  const rows = tina.locator('#reassign-form tbody tr').filter({ hasText: 'Before negotiating' });
  assert.equal(await rows.count(), 2);
  for (const box of await rows.getByRole('checkbox').all()) await box.check();
  const first = Number(await rows.first().getByRole('checkbox').getAttribute('value'));
  const second = Number(await rows.nth(1).getByRole('checkbox').getAttribute('value'));
  const dave = await world.signIn('dave');
  const csrf = await dave.evaluate(() => localStorage.getItem('casekit.csrf'));
  assert.equal((await dave.request.post(`/api/v1/work-items/${second}/claim`, { headers: { 'X-CSRF-Token': csrf }, data: {} })).status(), 200);

  await tina.getByLabel('Give the chosen items to').selectOption('carl');
  await tina.getByRole('button', { name: 'Reassign' }).click();
  const results = tina.locator('#reassign-results tbody tr');
  await results.first().waitFor();
  assert.match(await results.filter({ hasText: String(first) }).first().innerText(), /Done/);
  assert.match(await results.filter({ hasText: String(second) }).first().innerText(), /Conflict/);
  await accessible(tina, assert);

  // The workload sorts by any column (MoJ's sortable table): carl has one open item, dave
  // two (the exception and the item he claimed).
  await open(tina, '/team');
  const byOpen = tina.locator('#workload').getByRole('button', { name: 'Open' });
  await byOpen.click();
  assert.equal(await tina.locator('#workload th').nth(1).getAttribute('aria-sort'), 'ascending');
  assert.match(await tina.locator('#workload tbody tr').first().innerText(), /^carl\s+1/);
  await byOpen.click();
  assert.equal(await tina.locator('#workload th').nth(1).getAttribute('aria-sort'), 'descending');
  assert.match(await tina.locator('#workload tbody tr').first().innerText(), /^dave\s+2/);
  await accessible(tina, assert);

  // Only the team leader's page: a caseworker is told so.
  await open(dave, '/team');
  assert.match(await dave.locator('#content').innerText(), /for team leaders/);
});

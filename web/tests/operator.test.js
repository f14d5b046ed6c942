// An operator's console: pausing and resuming a schedule, running one now, retrying and
// cancelling a failed instance's incident, sending the queued letters, and the day's chart.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessible, clickAndReload, extractRow, open, screenshot, World } from './support.js';

const world = new World('operator');
before(async () => {
  world.user('olive', 'operator');
  world.user('carl', 'caseworker', 'Arrears');
  world.importRows([extractRow(1)]);
  // Case routing needs a casegroup: started without one, it fails with an incident.
  try {
    world.casekit('start', 'case_routing', '--as', 'olive');
  } catch {
    // exits 1, as a failed start should
  }
  await world.serve();
});
after(() => world.stop());

test('an operator pauses and resumes a schedule, runs one, retries an incident and sends letters', async () => {
  const page = await world.signIn('olive');
  await open(page, '/console');
  await accessible(page, assert);
  await screenshot(page, 'console');

  const row = page.locator('#schedules tbody tr').filter({ hasText: 'missed-payment-monitor' });
  assert.match(await row.innerText(), /Active/);
  await clickAndReload(page, row.getByRole('button', { name: 'Pause missed-payment-monitor' }));
  assert.match(await row.innerText(), /Paused/);
  const paused = await page.request.get('/api/v1/schedules');
  assert.equal((await paused.json()).schedules.find((s) => s.name === 'missed-payment-monitor').paused, true);
  await clickAndReload(page, row.getByRole('button', { name: 'Resume missed-payment-monitor' }));
  assert.match(await row.innerText(), /Active/);

  await clickAndReload(page, page.getByRole('button', { name: 'Run now transition-exceptions' }));
  assert.match(await page.locator('#runs tbody tr').first().innerText(), /transition-exceptions \(manual\)/);

  // The incident: where it happened and why; a retry meets the same cause and opens a new
  // one; cancelling the instance closes it.
  const incident = page.locator('#incidents tbody tr');
  assert.equal(await incident.count(), 1);
  assert.match(await incident.innerText(), /procedures\/case_routing\.lua:\d+.*needs a casegroup/s);
  const first = await incident.locator('td').first().innerText();
  await clickAndReload(page, incident.getByRole('button', { name: /^Retry/ }));
  assert.equal(await incident.count(), 1);
  assert.notEqual(await incident.locator('td').first().innerText(), first, 'the retry failed again, with a new incident');
  await clickAndReload(page, incident.getByRole('button', { name: /^Cancel/ }));
  assert.equal(await page.locator('#no-incidents').count(), 1);
  assert.match(await page.locator('#chart-title').textContent(), /[1-9]\d* incidents? in the last 24 hours/);

  // The import's letters wait in the outbox until the operator sends them.
  assert.match(await page.locator('#outbox').innerText(), /letters are waiting/);
  await clickAndReload(page, page.getByRole('button', { name: 'Send the queued letters' }));
  assert.match(await page.locator('#outbox').innerText(), /No letters are waiting to be sent/);
  await accessible(page, assert);
});

test('the console is an operator\'s: a caseworker is told so, and the API refuses them', async () => {
  const page = await world.signIn('carl');
  assert.equal(await page.getByRole('link', { name: 'Console' }).count(), 0);
  await open(page, '/console');
  assert.match(await page.locator('#content').innerText(), /for operators/);
  assert.equal((await page.request.get('/api/v1/activity')).status(), 403);
});

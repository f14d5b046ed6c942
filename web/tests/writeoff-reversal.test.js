// A write-off reversal (source 004) through the pages: a caseworker enters the details and
// cannot approve them; a team leader who entered details of their own is shown those as not
// theirs to approve; another team leader approves, and the BaNCS result shows on the SR.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { accessible, clickAndReload, open, screenshot, World } from './support.js';

const world = new World('writeoff');
before(async () => {
  world.user('carl', 'caseworker', 'Arrears');
  world.user('tina', 'team_leader', 'Arrears');
  world.user('tom', 'team_leader', 'Arrears');
  world.casekit('exec', path.join('web', 'tests', 'fixtures', 'writeoff.lua'));
  world.casekit('start', 'writeoff_reversal', '--casegroup', '1', '--as', 'carl');
  world.casekit('start', 'writeoff_reversal', '--casegroup', '1', '--as', 'tom');
  await world.serve();
});
after(() => world.stop());

// The fields of the outcome chosen on a work item page.
function chosenFields(page) {
  return page.locator('.govuk-radios__conditional:not(.govuk-radios__conditional--hidden)');
}

// Opens, from the team page, the approval `submitter` submitted.
async function openApproval(page, submitter) {
  await open(page, '/team');
  const row = page.locator('#approvals tbody tr').filter({ hasText: submitter });
  await clickAndReload(page, row.getByRole('link'));
}

// Enters the reversal details on the open reversal_details item `id`, as the signed-in user.
async function enterDetails(page, id) {
  await open(page, `/work-items/${id}`);
  await page.getByLabel('CMG error').check();
  const fields = chosenFields(page);
  await fields.getByLabel('Journal number').fill('JN-1');
  await fields.getByLabel('Write off date').fill('2026-06-01');
  await page.getByRole('button', { name: 'Complete item' }).click();
  await page.locator('#what-next').waitFor();
}

test('a reversal is approved by a team leader who did not enter it, and BaNCS answers on the SR', async () => {
  const carl = await world.signIn('carl');
  await enterDetails(carl, 1);
  // The approval is a team leader's: nothing opens for carl, and he cannot open it.
  assert.equal(await carl.locator('#no-next').count(), 1);
  const approval = JSON.parse(world.casekit('task', 'list', '--json')).find((i) => i.kind === 'approval' && i.status === 'open');
  await open(carl, `/work-items/${approval.id}`);
  assert.match(await carl.locator('.govuk-error-summary').innerText(), /no work item/);

  // tom enters the second reversal's details himself: that approval is not his to decide.
  const tom = await world.signIn('tom');
  await enterDetails(tom, 2);
  await open(tom, '/team');
  const rows = tom.locator('#approvals tbody tr');
  assert.equal(await rows.count(), 2);
  const own = rows.filter({ hasText: 'Not yours to approve' });
  assert.equal(await own.count(), 1);
  assert.match(await own.innerText(), /tom submitted this request and cannot approve it/);
  await accessible(tom, assert);
  await screenshot(tom, 'team');
  await clickAndReload(tom, own.getByRole('link'));
  assert.match(await tom.locator('#not-yours').innerText(), /segregation of duties/);
  assert.equal(await tom.locator('#complete-form').count(), 0);

  // tina approves carl's: the reversal reaches BaNCS, and the SR says what it answered.
  const tina = await world.signIn('tina');
  await openApproval(tina, 'carl');
  await tina.getByLabel('Approved').check();
  await tina.getByRole('button', { name: 'Complete item' }).click();
  await tina.locator('#what-next').waitFor();
  const sr = await tina.locator('#sr').innerText();
  assert.match(sr, /Bancs status\s+ok/);
  assert.match(sr, /Bancs message\s+written off arrears reversed in BaNCS/);
  assert.match(sr, /Team leader approval\s+Done/);
  await accessible(tina, assert);
});

test('a rejection needs its reasons, shown at the field', async () => {
  const tina = await world.signIn('tina');
  await openApproval(tina, 'tom');
  await tina.getByLabel('Rejected').check();
  await tina.getByRole('button', { name: 'Complete item' }).click();
  await tina.locator('#error-summary').waitFor();
  assert.match(await tina.locator('.govuk-form-group--error').innerText(), /Reasons/);
  await chosenFields(tina).getByLabel('Reasons').fill('the journal number does not match the write-off');
  await tina.getByRole('button', { name: 'Complete item' }).click();
  await tina.locator('#what-next').waitFor();
  assert.match(await tina.locator('#notes').innerText(), /Rejected by the team leader: the journal number does not match/);
});

// A caseworker's day on one arrears negotiation (source 000, on a casegroup the phase-2
// import took in): the inbox, the receiving parent's payment details, a schedule agreed
// after one refusal shown at its field, a failed call to the receiving parent, and the SR
// closing once its letters have gone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessible, clickAndReload, extractRow, open, ready, screenshot, World } from './support.js';

const world = new World('caseworker');
before(async () => {
  world.user('carl', 'caseworker', 'Arrears');
  world.user('olive', 'operator');
  world.importRows([extractRow(1), extractRow(2)]);
  await world.serve();
});
after(() => world.stop());

// The one open item of `kind` in carl's inbox, opened from the inbox's link.
async function openItem(page, kind) {
  await open(page, `/inbox?kind=${kind}`);
  const link = page.locator('table.govuk-table a').first();
  const href = await link.getAttribute('href');
  await link.click();
  await page.waitForURL(`**${href}`);
  await ready(page);
  return href;
}

test('a caseworker negotiates a schedule through the pages, and sees the SR close', async () => {
  const page = await world.signIn('carl');

  // The inbox: both items, soonest due first, with the count on the navigation.
  assert.equal(await page.locator('#total').innerText(), '2 open items');
  assert.equal((await page.locator('#nav-count').textContent()).trim(), '2 open');
  assert.equal(await page.locator('#nav-overdue').count(), 0, 'nothing is overdue yet');
  assert.equal(await page.locator('table.govuk-table tbody tr').count(), 2);
  await accessible(page, assert);
  await screenshot(page, 'inbox');

  // Claim the first, then release it: the row says who has it.
  await clickAndReload(page, page.getByRole('button', { name: /Claim item/ }).first());
  assert.equal(await page.locator('table.govuk-table tbody tr').first().locator('td').nth(3).innerText(), 'carl');
  await clickAndReload(page, page.getByRole('button', { name: /Release item/ }).first());
  assert.equal(await page.getByRole('button', { name: /Release item/ }).count(), 0);

  // Step 1 for an arrears-only casegroup: the receiving parent's payment details.
  await openItem(page, 'receiving_parent_payment_details');
  assert.match(await page.locator('#page-title').innerText(), /Before negotiating/);
  assert.match(await page.locator('#casegroup').innerText(), /Jordan Price/);
  await accessible(page, assert);
  await page.getByLabel('Obtained').check();
  await page.locator('#conditional-outcome-1 textarea').fill('bank details taken on the call');
  await page.getByRole('button', { name: 'Complete item' }).click();
  await page.locator('#what-next').waitFor();
  const next = page.locator('#next-items a');
  assert.match(await next.first().innerText(), /Negotiate an arrears payment schedule/);

  // Agreed, but without the instalment: refused at that field, with the summary at the top.
  await Promise.all([page.waitForEvent('load'), next.first().click()]);
  await ready(page);
  await page.getByLabel('Agreed').check();
  const agreed = page.locator('#conditional-outcome');
  await agreed.getByLabel('First collection date').fill(new Date(Date.now() + 7 * 86400_000).toISOString().slice(0, 10));
  await agreed.getByLabel('Schedule acceptable').fill('yes');
  await page.getByRole('button', { name: 'Complete item' }).click();
  const summary = page.locator('#error-summary');
  await summary.waitFor();
  assert.match(await summary.innerText(), /needs field 'amount_per_period'/);
  const group = agreed.locator('.govuk-form-group--error');
  assert.equal(await group.count(), 1);
  assert.match(await group.innerText(), /Amount per period/);
  assert.match(await group.locator('.govuk-error-message').innerText(), /amount_per_period/);
  await accessible(page, assert);
  await screenshot(page, 'work-item-refused');
  // The summary's link takes the caseworker to the field.
  await summary.getByRole('link').click();
  assert.equal(await page.evaluate(() => document.activeElement.dataset.field), 'amount_per_period');

  await agreed.getByLabel('Amount per period').fill('20000');
  await page.getByRole('button', { name: 'Complete item' }).click();
  await page.locator('#what-next').waitFor();
  assert.match(await page.locator('#what-next').innerText(), /Item \d+ completed/);
  await screenshot(page, 'work-item-done');

  // An arrears-only casegroup's first schedule needs the Employer Interface issued by hand.
  await Promise.all([page.waitForEvent('load'), page.locator('#next-items a').first().click()]);
  await ready(page);
  assert.match(await page.locator('#page-title').innerText(), /Employer Interface/);
  await page.getByLabel('Issued').check();
  await page.getByRole('button', { name: 'Complete item' }).click();
  await page.locator('#what-next').waitFor();
  assert.match(await page.locator('#casegroup').innerText(), /12 monthly collections of £200\.00/);

  // Step 26: the call to the receiving parent, which fails.
  await openItem(page, 'call_receiving_parent');
  await page.getByLabel('Not reached').check();
  await page.getByRole('button', { name: 'Complete item' }).click();
  await page.locator('#what-next').waitFor();

  // The letters go (an operator's job), and the SR closes (step 28).
  const olive = await world.signIn('olive');
  const csrf = await olive.evaluate(() => localStorage.getItem('casekit.csrf'));
  const fulfil = await olive.request.post('/api/v1/letters/fulfil', { headers: { 'X-CSRF-Token': csrf }, data: {} });
  assert.equal(fulfil.status(), 200);
  const sr = page.locator('#sr');
  for (let i = 0; i < 20 && !/Closed/.test(await sr.innerText()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    await page.reload();
    await ready(page);
  }
  assert.match(await sr.innerText(), /Status\s+Closed/);
});

test('a work item can be completed by keyboard alone', async () => {
  const page = await world.signIn('carl');
  await open(page, '/inbox?kind=receiving_parent_payment_details');
  const href = await page.locator('table.govuk-table a').first().getAttribute('href');
  await open(page, href);
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return { tag: e.tagName, id: e.id, type: e.type ?? '', text: e.textContent.trim() };
  });
  // Tab to the first outcome (a bounded walk through the page's controls).
  let at = await focused();
  for (let i = 0; i < 40 && !(at.type === 'radio'); i++) {
    await page.keyboard.press('Tab');
    at = await focused();
  }
  assert.equal(at.type, 'radio', 'the outcomes are reachable by Tab');
  // Arrow keys move between radios and choose: the second outcome shows its fields.
  await page.keyboard.press('ArrowDown');
  at = await focused();
  assert.equal(at.id, 'outcome-1');
  await page.keyboard.press('Tab');
  at = await focused();
  assert.equal(at.tag, 'TEXTAREA', 'the chosen outcome\'s field is next');
  await page.keyboard.type('details confirmed on the phone');
  for (let i = 0; i < 10 && at.text !== 'Complete item'; i++) {
    await page.keyboard.press('Tab');
    at = await focused();
  }
  assert.equal(at.text, 'Complete item');
  await page.keyboard.press('Enter');
  await page.locator('#what-next').waitFor();
  // Focus moves to the confirmation, so a screen reader says what happened.
  assert.equal((await focused()).id, 'done-banner');
  assert.match(await page.locator('#completed, #what-next').first().innerText(), /Obtained/);
});

test('a caseworker saves a view of the inbox and opens it again', async () => {
  const page = await world.signIn('carl');
  await open(page, '/inbox');
  await page.getByLabel('Procedure').fill('arrears_negotiation');
  await page.getByLabel('Overdue only').check();
  await clickAndReload(page, page.getByRole('button', { name: 'Apply filters' }));
  assert.match(page.url(), /procedure=arrears_negotiation/);
  assert.equal(await page.locator('#no-items').count(), 1, 'nothing is overdue yet');
  await page.getByLabel('Save these filters as').fill('My overdue negotiations');
  await clickAndReload(page, page.getByRole('button', { name: 'Save view' }));
  await open(page, '/inbox');
  await clickAndReload(page, page.locator('#saved-views').getByRole('link', { name: 'My overdue negotiations' }));
  assert.match(page.url(), /overdue=true/);
  assert.equal(await page.getByLabel('Procedure').inputValue(), 'arrears_negotiation');
  // The view is kept by the API, for this user only.
  const views = await (await page.request.get('/api/v1/views')).json();
  assert.deepEqual(views.views.map((v) => v.name), ['My overdue negotiations']);
});

// What every browser test needs: a fresh casekit database with people and casework in it,
// `casekit serve --http` on a loopback port of its own, and Debian's Chromium driven by
// playwright-core (never a browser download). Everything started here is stopped by stop(),
// and every wait is bounded.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE = path.resolve(here, '..', '..');
const CASEKIT = process.env.CASEKIT_BIN ?? path.join(SOURCE, 'build', 'casekit');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const PASSWORD = 'a long passphrase for tests';

// One row of the Data Warehouse extract: an arrears-only casegroup whose negotiation starts
// when it is imported (as the README's tour and `make demo` have it).
export function extractRow(n) {
  return JSON.stringify({
    csa_ref: `CSA-90000${String(n).padStart(2, '0')}`, extract_date: '2026-11-21', region: 'E&W',
    paying_parent: { nino: `ZX9000${String(n).padStart(2, '0')}A`, name: `Jordan Price ${n}`, dob: '1984-05-06',
      address: { line1: '14 Canal Street', town: 'Leeds', postcode: 'LS1 4AB', status: 'confirmed' },
      employment_status: 'employed', benefit: null },
    method_of_payment: 'SO', enforcement_ongoing: false, csa_case_active: true,
    receiving_parents: [{ nino: `ZX9100${String(n).padStart(2, '0')}A`, name: `Casey Price ${n}`,
      address: { line1: '3 Park View', town: 'Leeds', postcode: 'LS6 2QT', status: 'confirmed' },
      writeoff_requested: false, arrears: { active: 240000, suspended: 0, deferred: 0 } }],
    sos: { jurisdiction: 'GB', active: 0, suspended: 0, deferred: 0 },
  });
}

export class World {
  constructor(name) {
    this.dir = mkdtempSync(path.join(tmpdir(), `casekit-web-${name}-`));
    this.db = path.join(this.dir, 'casekit.db');
    this.casekit('init');
  }

  // Runs a casekit command on this world's database; its standard output.
  casekit(...args) {
    const input = typeof args.at(-1) === 'object' ? args.pop().input : undefined;
    return execFileSync(CASEKIT, ['--db', this.db, ...args], {
      cwd: SOURCE, input, encoding: 'utf8', timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  user(name, role, team) {
    this.casekit('user', 'add', name, '--role', role, ...(team ? ['--team', team] : []), '--password-stdin',
      { input: `${PASSWORD}\n` });
  }

  importRows(rows) {
    const file = path.join(this.dir, `extract-${Date.now()}.jsonl`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    this.casekit('import', 'dw', file);
  }

  // `casekit serve --http` on a free loopback port; resolves once it listens.
  async serve() {
    this.outbox = path.join(this.dir, 'outbox');
    mkdirSync(this.outbox, { recursive: true });
    this.server = spawn('timeout', ['300', CASEKIT, '--db', this.db, 'serve', '--http', '127.0.0.1:0', '--poll', '1',
      '--outbox', this.outbox], { cwd: SOURCE, stdio: ['ignore', 'pipe', 'pipe'] });
    this.serverLog = '';
    this.server.stderr.on('data', (d) => { this.serverLog += d; });
    this.base = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`casekit serve did not start: ${this.serverLog}`)), 20_000);
      let out = '';
      this.server.stdout.on('data', (d) => {
        out += d;
        const m = /serve: http on (127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(`http://${m[1]}`);
        }
      });
      this.server.on('exit', (code) => reject(new Error(`casekit serve exited ${code}: ${this.serverLog}`)));
    });
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    return this.base;
  }

  // A browser context of its own (cookies and storage), signed in as `name`.
  async signIn(name) {
    const context = await this.browser.newContext({ baseURL: this.base });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    page.on('pageerror', (e) => { throw new Error(`script error on ${page.url()}: ${e.message}`); });
    await page.goto('/sign-in');
    await page.getByLabel('User name').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/inbox');
    await ready(page);
    return page;
  }

  async stop() {
    await this.browser?.close().catch(() => {});
    if (this.server && this.server.exitCode === null) {
      let timer;
      const exited = new Promise((resolve) => this.server.on('exit', resolve));
      this.server.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, 15_000); })]);
      clearTimeout(timer);
      if (this.server.exitCode === null) this.server.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// A page has drawn what the API gave it.
export async function ready(page) {
  await page.locator('body[data-ready="true"]').waitFor();
}

// Clicks something that reloads the page, and waits for the new page to be drawn.
export async function clickAndReload(page, locator) {
  await Promise.all([page.waitForEvent('load'), locator.click()]);
  await ready(page);
}

// Opens `url` in `page` and waits for it to be drawn.
export async function open(page, url) {
  await page.goto(url);
  await ready(page);
}

// No serious or critical accessibility failure on the page as it is now (axe-core, WCAG 2.2 AA).
export async function accessible(page, assert) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [],
    `accessibility failures on ${page.url()}`);
}

// With CASEKIT_SCREENSHOTS=1, the page as it is now goes to docs/screenshots/NAME.png.
export async function screenshot(page, name) {
  if (process.env.CASEKIT_SCREENSHOTS !== '1') return;
  const folder = path.join(SOURCE, 'docs', 'screenshots');
  mkdirSync(folder, { recursive: true });
  // The whole page, down to 2,400 pixels: a long trail would make a picture no one reads.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true,
    clip: { x: 0, y: 0, width: page.viewportSize().width, height: Math.min(height, 2400) } });
}

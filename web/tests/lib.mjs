// Shared by the console's browser scenarios: Chromium driven by playwright-core, screenshots of
// every page visited, and the checks every page must pass (no script error, no request
// beyond Flotilla and the test's OpenID provider).
//
// A scenario is run by the Rust test suite (services/server/tests/server/console/), which
// starts Postgres, the oidc-provider fixture and Flotilla, and passes:
//   FLOTILLA_URL  Flotilla's public URL (http://127.0.0.1:<port>)
//   CHROMIUM      the browser binary (default /usr/bin/chromium)
//   SCREENSHOTS   the directory for this scenario's screenshots
//   FIXTURES      JSON with what the scenario needs (identity CAs, agent assertions, ...)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const url = process.env.FLOTILLA_URL;
export const fixtures = JSON.parse(process.env.FIXTURES || '{}');
const shots = process.env.SCREENSHOTS;
assert.ok(url && shots, 'FLOTILLA_URL and SCREENSHOTS must be set');
mkdirSync(shots, { recursive: true });
let shot = 0;

/** Starts Chromium with no network but loopback (no CDN, font or update can be fetched). */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
}

/**
 * A browser context (one person) with a page whose script errors and foreign requests are
 * collected; `check()` fails on any. `viewport` defaults to a laptop's.
 */
export async function person(browser, options = {}) {
  const context = await browser.newContext({
    baseURL: url,
    viewport: options.viewport || { width: 1280, height: 800 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    // The provider's pages are not ours (they ask for a favicon it lacks).
    if (m.type() === 'error' && page.url().startsWith(url)) problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  context.on('request', (r) => {
    const origin = new URL(r.url()).origin;
    if (!origin.startsWith('http://127.0.0.1:') && origin !== 'null' && !r.url().startsWith('data:')) {
      problems.push(`request beyond Flotilla and the provider: ${r.url()}`);
    }
  });
  return {
    context,
    page,
    /** Fails if anything went wrong so far; `expected` drops problems matching it. */
    check(expected) {
      const left = problems.filter((p) => !(expected && expected.test(p)));
      problems.length = 0;
      assert.deepEqual(left, [], 'the pages had problems');
    },
  };
}

/** Waits for the page to be complete (a console page: its content loaded) and screenshots it. */
export async function settle(page, name) {
  await page.waitForLoadState('load');
  if (await page.locator('body.console').count()) {
    await page.locator('#content[aria-busy=false]').waitFor();
  }
  shot += 1;
  await page.screenshot({ path: join(shots, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** Goes to `path` and settles there. */
export async function visit(page, path, name) {
  const response = await page.goto(path);
  await settle(page, name);
  return response;
}

/** Logs in through the OpenID provider as `login` (the fixture accepts any), consenting. */
export async function logIn(page, login) {
  await page.goto('/login');
  await page.locator('input[name=login]').fill(login);
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((u) => u.href.startsWith(url));
  await settle(page, `logged-in-${login}`);
}

/** Creates account `name` on the sign-up page (where a first log-in lands). */
export async function signUp(page, name) {
  assert.equal(new URL(page.url()).pathname, '/signup');
  await page.getByLabel('Account name').fill(name);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${url}/console/${name}`);
  await settle(page, `overview-${name}`);
}

/** A JSON API call from Node (an agent, a script), with `token` as the bearer. */
export async function api(method, path, token, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** The text of table `caption`'s row whose first cell is `first`, cell by cell. */
export async function row(page, caption, first) {
  const table = page.locator('table', { has: page.locator('caption', { hasText: caption }) });
  const found = table.locator('tbody tr', { has: page.locator('td:first-child', { hasText: first }) });
  await found.first().waitFor();
  return found.first().locator('td').allInnerTexts();
}

/** What the copy button of block `title` put on the clipboard. */
export async function copy(page, title) {
  const block = page.locator('section', { has: page.getByRole('heading', { name: title, exact: true }) });
  await block.getByRole('button', { name: 'Copy' }).click();
  await block.getByRole('button', { name: 'Copied' }).waitFor();
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Follows the console's navigation to section `name`. */
export async function section(page, name) {
  await page.getByRole('navigation', { name: 'Account sections' }).getByRole('link', { name, exact: true }).click();
  await page.waitForLoadState('load');
}

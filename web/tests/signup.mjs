// A newcomer: logs in with the company's provider, signs up (the name checked as it is
// typed), lands on an empty overview that is small, stable, keyboard-usable, readable on a
// phone and locked down by its headers; then approves a device and the CLI in the same look.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { launch, person, logIn, settle, visit, url } from './lib.mjs';

const browser = await launch();
try {
  const alice = await person(browser);
  const { page } = alice;

  // Log-in page with one provider goes straight to it; a first log-in lands on sign-up.
  await logIn(page, 'alice');
  assert.equal(new URL(page.url()).pathname, '/signup');
  const name = page.getByLabel('Account name');
  const status = page.locator('#name-status');
  await name.fill('Acme_Corp');
  await assert.doesNotReject(status.getByText('Not available').waitFor());
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  await settle(page, 'signup-invalid-name');
  await name.fill('acme');
  await status.getByText('acme.flotilla.localhost').waitFor();
  assert.equal(await status.innerText(), "Your account's DNS zone: acme.flotilla.localhost");
  await settle(page, 'signup-valid-name');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${url}/console/acme`);
  await settle(page, 'overview-empty');
  await page.getByText('No cluster is registered yet').waitFor();
  assert.ok(await page.getByRole('link', { name: 'Create a registration token' }).isVisible());

  // One look everywhere: the same stylesheet and header on the console and the server's pages.
  const stylesheet = async (p) => `${await p.locator('link[rel=stylesheet]').getAttribute('href')} ${await p.locator('header .brand').innerText()}`;
  const look = await stylesheet(page);

  // The page's headers: a strict policy, never framed, not cached.
  const response = await page.goto('/console/acme');
  const csp = response.headers()['content-security-policy'];
  for (const part of ["script-src 'self'", "frame-ancestors 'none'", "default-src 'none'", "connect-src 'self'"]) {
    assert.ok(csp.includes(part), `CSP lacks ${part}: ${csp}`);
  }
  assert.ok(!csp.includes('unsafe'), csp);
  assert.equal(response.headers()['cache-control'], 'no-store');
  assert.equal(await page.locator('script:not([src])').count(), 0, 'no inline script');

  // First page, cold: under 100 KiB on the wire, every asset cached for a year, nothing moves.
  const cdp = await alice.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  const assets = [];
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  cdp.on('Network.responseReceived', (e) => {
    if (e.response.url.includes('/assets/')) assets.push([e.response.url, e.response.headers['cache-control'] || e.response.headers['Cache-Control']]);
  });
  await page.goto('/console/acme');
  await settle(page, 'overview-cold');
  await page.waitForTimeout(300);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  console.log(`first page: ${bytes} bytes transferred in ${assets.length + 1} responses`);
  assert.ok(bytes > 0 && bytes < 100 * 1024, `first page transferred ${bytes} bytes`);
  assert.ok(assets.length >= 3, `assets: ${JSON.stringify(assets)}`);
  for (const [asset, cache] of assets) {
    assert.match(asset, /\/assets\/[0-9a-f]{12}\//, 'content-hashed path');
    assert.equal(cache, 'public, max-age=31536000, immutable', asset);
  }
  const shift = await page.evaluate(() => new Promise((resolve) => {
    let total = 0;
    const moved = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.hadRecentInput) continue;
        total += entry.value;
        moved.push(...entry.sources.map((x) => x.node?.outerHTML?.slice(0, 80)));
      }
    }).observe({ type: 'layout-shift', buffered: true });
    setTimeout(() => resolve({ total, moved }), 300);
  }));
  console.log(`cumulative layout shift: ${shift.total}`);
  assert.equal(shift.total, 0, `no layout shift; moved: ${JSON.stringify(shift.moved)}`);

  // Keyboard: the first Tab reaches "Skip to content", shown while focused, with a visible ring.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  assert.ok(await skip.evaluate((e) => e === document.activeElement));
  const box = await skip.boundingBox();
  assert.ok(box && box.x >= 0 && box.y >= 0, 'the skip link is on screen when focused');
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(outline, 'solid', 'focus is visible');
  await page.getByRole('link', { name: 'Settings' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(`${url}/console/acme/settings`);
  await settle(page, 'settings-by-keyboard');

  // Every control of every console page has a label.
  for (const section of ['', '/dns', '/registration', '/tokens', '/members', '/audit', '/settings']) {
    await visit(page, `/console/acme${section}`, `page${section.replace('/', '-') || '-overview'}`);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
      .filter((e) => e.type !== 'hidden' && !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
      .map((e) => e.outerHTML));
    assert.deepEqual(unlabelled, [], `unlabelled controls on ${section || 'overview'}`);
  }

  // A phone: nothing wider than the screen.
  const phone = await person(browser, { viewport: { width: 375, height: 740 } });
  await phone.context.addCookies(await alice.context.cookies());
  for (const section of ['', '/registration', '/members']) {
    await visit(phone.page, `/console/acme${section}`, `phone${section.replace('/', '-') || '-overview'}`);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${section || 'overview'} is ${overflow}px wider than a phone`);
  }
  phone.check();

  // The device page: the code shown by a CLI is approved, and the CLI gets its tokens.
  const form = (fields) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  const device = await (await fetch(`${url}/oauth/device_authorization`, form({ client_id: 'flotilla-cli', scope: 'openid offline_access' }))).json();
  await visit(page, device.verification_uri_complete, 'device');
  assert.equal(await stylesheet(page), look, 'the device page has the console\'s look');
  assert.equal(await page.locator('input[name=user_code]').inputValue(), device.user_code);
  await page.getByRole('button', { name: 'Approve' }).click();
  await settle(page, 'device-approved');
  const polled = await fetch(`${url}/oauth/token`, form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: 'flotilla-cli' }));
  assert.equal(polled.status, 200, await polled.clone().text());

  // The consent page: "Allow" sends the CLI's loopback listener a code.
  const got = [];
  const loopback = createServer((req, res) => { got.push(req.url); res.end('the CLI got it'); });
  await new Promise((resolve) => loopback.listen(0, '127.0.0.1', resolve));
  const redirect = `http://127.0.0.1:${loopback.address().port}/callback`;
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = new URLSearchParams({
    client_id: 'flotilla-cli', redirect_uri: redirect, response_type: 'code', scope: 'openid offline_access',
    state: 'st4te', code_challenge: challenge, code_challenge_method: 'S256',
  });
  await visit(page, `/oauth/authorize?${authorize}`, 'consent');
  assert.equal(await stylesheet(page), look, 'the consent page has the console\'s look');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.getByText('the CLI got it').waitFor();
  loopback.close();
  assert.match(got[0], /^\/callback\?code=[^&]+&state=st4te/);

  alice.check();
} finally {
  await browser.close();
}

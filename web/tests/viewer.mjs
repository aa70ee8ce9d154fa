// A viewer: sees the fleet, and no action they may not take: no admin sections in the
// navigation, no deregister, member or settings controls; admin pages refused by URL, and the
// API refuses them too.
import assert from 'node:assert/strict';
import { launch, person, logIn, signUp, settle, visit, api, row, section, fixtures, url } from './lib.mjs';

const { eu1 } = fixtures;
const browser = await launch();
try {
  // The owner signs up, registers eu-1 with a token from the console, and invites bob.
  const alice = await person(browser);
  await logIn(alice.page, 'alice');
  await signUp(alice.page, 'acme');
  await visit(alice.page, '/console/acme/registration', 'owner-registration');
  await alice.page.getByLabel('Description').fill('eu-1');
  await alice.page.getByLabel('Region').fill('eu-west-1');
  await alice.page.getByRole('button', { name: 'Create registration token' }).click();
  const token = await alice.page.locator('#new-token-secret').innerText();
  const registered = await api('PUT', '/api/v1/accounts/acme/clusters/eu-1', token,
    { identity_ca: eu1.identity_ca, server: 'https://203.0.113.10:6443' });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  await section(alice.page, 'Members');
  await alice.page.getByLabel('Email').fill('bob@example.com');
  await alice.page.getByRole('button', { name: 'Add member' }).click();
  await alice.page.getByRole('cell', { name: 'bob@example.com', exact: true }).waitFor();
  alice.check();

  // Bob logs in and lands on acme's overview as a viewer.
  const bob = await person(browser);
  const { page } = bob;
  await logIn(page, 'bob');
  assert.equal(page.url(), `${url}/console/acme`);
  assert.match(await page.locator('.accounts summary').innerText(), /acme \(viewer\)/);
  assert.equal((await row(page, 'Clusters', 'eu-1'))[2], 'eu-west-1');
  const nav = await page.getByRole('navigation', { name: 'Account sections' }).innerText();
  assert.deepEqual(nav.split('\n').map((s) => s.trim()).filter(Boolean), ['Overview', 'DNS', 'Members', 'Settings']);

  // No admin action anywhere a viewer goes.
  for (const [path, name] of [['/console/acme/clusters/eu-1', 'viewer-cluster'], ['/console/acme/dns', 'viewer-dns'],
    ['/console/acme/members', 'viewer-members'], ['/console/acme/settings', 'viewer-settings']]) {
    await visit(page, path, name);
    // Copy buttons change nothing; anything else would.
    const actions = await page.locator('main button, main form, main input, main select').filter({ hasNotText: /^Copy$/ }).count();
    assert.equal(actions, 0, `${path} offers a viewer ${actions} controls`);
  }
  await visit(page, '/console/acme/clusters/eu-1', 'viewer-cluster-yaml');
  assert.ok(await page.getByRole('heading', { name: 'Admiralty resources (apply in the other clusters)' }).isVisible());
  await visit(page, '/console/acme/members', 'viewer-members-list');
  await page.getByText("The account's owners add and remove members.").waitFor();
  await visit(page, '/console/acme/settings', 'viewer-settings-read');
  await page.getByText("The account's admins and owners change these.").waitFor();

  // Admin pages by URL: a page saying why, not the page.
  for (const path of ['registration', 'tokens', 'audit']) {
    const response = await visit(page, `/console/acme/${path}`, `viewer-refused-${path}`);
    assert.equal(response.status(), 404);
    await page.getByText('This page is for the account\'s admins and owners; you are a viewer of acme.').waitFor();
  }
  // A path that cannot name a cluster: not found, saying why.
  assert.equal((await visit(page, '/console/acme/clusters/Not_A_Name', 'viewer-bad-cluster-name')).status(), 404);
  await page.getByText('No cluster can be named "Not_A_Name"').waitFor();
  // Another account's console: not found.
  assert.equal((await visit(page, '/console/other', 'viewer-other-account')).status(), 404);

  // And the API refuses what the page does not offer, with the session cookie and its Origin.
  const refused = await page.evaluate(async () => {
    const r = await fetch('/api/v1/accounts/acme/registration-tokens', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ description: 'sneaky' }),
    });
    return r.status;
  });
  assert.equal(refused, 403);
  // Without its Origin (a cross-site form would carry another), the cookie alone does nothing.
  const cookie = (await bob.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const forged = await fetch(`${url}/api/v1/accounts/acme/members`, {
    method: 'POST', headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'mallory@example.com', role: 'owner' }),
  });
  assert.equal(forged.status, 403);
  assert.match((await forged.json()).detail, /Cross-site request refused/);

  bob.check(/status of (403|404)/);
} finally {
  await browser.close();
}

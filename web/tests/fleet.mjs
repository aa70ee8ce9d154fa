// An owner's day: creates a registration token in the console (shown with the commands that
// use it), registers a cluster with it through the API (as `flotilla register-cluster` would),
// sees it ready on the overview, opens its page and copies its YAML, sees its host served by
// PowerDNS, revokes tokens, changes a setting and adds a member.
import assert from 'node:assert/strict';
import { launch, person, logIn, signUp, settle, visit, api, row, copy, section, fixtures, url } from './lib.mjs';

const { eu1, us1 } = fixtures;
const host = 'hello.acme.flotilla.localhost';
const browser = await launch();
try {
  const alice = await person(browser);
  const { page } = alice;
  await logIn(page, 'alice');
  await signUp(page, 'acme');

  // Registration: a token for two clusters in eu-west-1, shown once with its commands.
  await section(page, 'Registration');
  await settle(page, 'registration');
  await page.getByLabel('Description').fill('eu clusters');
  await page.getByLabel('Region').fill('eu-west-1');
  await page.getByLabel('Other labels').fill('tier=prod');
  await page.getByLabel('Clusters it may register').fill('2');
  await page.getByRole('button', { name: 'Create registration token' }).click();
  await page.getByText('Copy it now: it is shown only this once.').waitFor();
  await settle(page, 'registration-token-created');
  const token = await copy(page, 'Registration token');
  assert.match(token, /^flreg_/);
  const command = await copy(page, 'Register a cluster with it (kubectl pointing at the cluster)');
  assert.equal(command, `flotilla register-cluster --server ${url} --account acme \\\n  --registration-token ${token} --name <cluster> --generate-identity-ca`);
  // Or the agent, which registers the cluster with it: the same commands as the CLI prints.
  const install = await copy(page, 'Or install the agent in the cluster, which registers it with this token');
  assert.equal(install, [
    'kubectl create namespace admiralty',
    `kubectl -n admiralty create secret generic flotilla-registration-token --from-literal=token=${token}`,
    "cat > deploy/agent/agent.env <<'EOF'",
    `FLOTILLA_URL=${url}`,
    'FLOTILLA_ACCOUNT=acme',
    'FLOTILLA_CLUSTER=<cluster>',
    'EOF',
    'kubectl apply -k deploy/agent',
  ].join('\n'));
  assert.deepEqual((await row(page, 'Registration tokens', 'eu clusters')).slice(2, 5),
    ['region=eu-west-1, tier=prod', '0 of 2', 'active']);

  // The cluster registers with it and its agent beats and reports a host.
  const registered = await api('PUT', '/api/v1/accounts/acme/clusters/eu-1', token,
    { identity_ca: eu1.identity_ca, server: 'https://203.0.113.10:6443' });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const beat = await api('POST', '/api/v1/accounts/acme/clusters/eu-1/heartbeat', eu1.assertion, { agent_version: '0.17.2' });
  assert.equal(beat.status, 200, JSON.stringify(beat.body));
  const reported = await api('PUT', `/api/v1/accounts/acme/clusters/eu-1/endpoints/${host}`, eu1.assertion,
    { targets: ['192.0.2.10'], weight: 3 });
  assert.equal(reported.status, 201, JSON.stringify(reported.body));

  // The overview shows it ready in its region, and the host.
  await section(page, 'Overview');
  await settle(page, 'overview-one-cluster');
  const [name, status, region, heartbeat, agent] = await row(page, 'Clusters', 'eu-1');
  assert.deepEqual([name, status, region, agent], ['eu-1', 'ready', 'eu-west-1', '0.17.2']);
  assert.match(heartbeat, /s ago$/);
  await page.getByText('1 cluster: 1 ready.').waitFor();
  // PowerDNS applies the host's records within seconds; the overview follows on its own.
  await page.locator('table', { hasText: host }).getByText('applied', { exact: true }).waitFor({ timeout: 30000 });
  await settle(page, 'overview-host-applied');

  // The cluster's page: identity, and the YAML other clusters need.
  await page.getByRole('link', { name: 'eu-1' }).click();
  await page.waitForURL(`${url}/console/acme/clusters/eu-1`);
  await settle(page, 'cluster');
  const [fingerprint, subject, , from, until, which] = await row(page, 'Identity CAs', eu1.sha256);
  assert.deepEqual([fingerprint, which], [eu1.sha256, 'current']);
  assert.match(subject, /eu-1 identity CA/);
  assert.ok(from && until, 'validity shown');
  assert.ok(await page.getByText('spiffe://eu-1/', { exact: true }).count() > 0, 'SPIFFE prefix shown');
  const yaml = await copy(page, 'Admiralty resources (apply in the other clusters)');
  for (const line of ['kind: Kubeconfig', 'kind: TrustedIdentityProvider', '      clusterName: eu-1', '  prefix: "spiffe://eu-1/"', '  secretName: eu-1']) {
    assert.ok(yaml.split('\n').includes(line), `YAML lacks ${JSON.stringify(line)}:\n${yaml}`);
  }
  assert.equal(await copy(page, 'A kubeconfig for kubectl'), 'flotilla get-cluster-kubeconfig --cluster eu-1 > eu-1.kubeconfig');
  const events = await page.locator('table', { has: page.locator('caption', { hasText: 'Events' }) }).innerText();
  assert.match(events, /registered/i);
  assert.ok(await page.getByRole('button', { name: 'Deregister eu-1' }).isVisible());

  // DNS: the host with its cluster, health and weight, its record applied, the change history.
  await visit(page, '/console/acme/dns', 'dns');
  assert.deepEqual((await row(page, `Clusters serving ${host}`, 'eu-1')).slice(0, 5),
    ['eu-1', 'eu-west-1', '192.0.2.10', 'healthy', '3']);
  const records = await page.locator('table', { has: page.locator('caption', { hasText: `Record sets of ${host}` }) }).innerText();
  assert.match(records, /hello\.acme\.flotilla\.localhost\.\s+A\s+simple\s+192\.0\.2\.10\s+1 s\s+applied/);
  assert.match(await page.locator('table', { has: page.locator('caption', { hasText: 'Changes' }) }).innerText(), /applied/);

  // Revoke the registration token: it says so, and a second cluster cannot use it.
  await visit(page, '/console/acme/registration', 'registration-used');
  assert.equal((await row(page, 'Registration tokens', 'eu clusters'))[3], '1 of 2');
  await page.getByRole('button', { name: 'Revoke eu clusters' }).click();
  await page.locator('table').getByText('revoked', { exact: true }).waitFor();
  await settle(page, 'registration-token-revoked');
  const refused = await api('PUT', '/api/v1/accounts/acme/clusters/us-1', token,
    { identity_ca: us1.identity_ca, server: 'https://203.0.113.11:6443' });
  assert.equal(refused.status, 401, JSON.stringify(refused.body));

  // An API token: created, copied, working; revoked, refused.
  await visit(page, '/console/acme/tokens', 'tokens');
  await page.getByLabel('Name').fill('ci-reader');
  await page.getByRole('button', { name: 'Create API token' }).click();
  await page.getByText('Copy it now: it is shown only this once.').waitFor();
  await settle(page, 'api-token-created');
  const apiToken = await copy(page, 'API token');
  assert.equal((await api('GET', '/api/v1/accounts/acme/clusters', apiToken)).status, 200);
  await page.getByRole('button', { name: 'Revoke ci-reader' }).click();
  await page.locator('table').getByText('revoked', { exact: true }).waitFor();
  await settle(page, 'api-token-revoked');
  assert.equal((await api('GET', '/api/v1/accounts/acme/clusters', apiToken)).status, 401);

  // A refused form says why, next to the form.
  await page.getByLabel('Name').fill('x'.repeat(100));
  await page.getByLabel('Name').evaluate((e) => { e.value += 'y'; e.removeAttribute('maxlength'); });
  await page.getByRole('button', { name: 'Create API token' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /name/);
  await settle(page, 'api-token-refused');

  // Settings: the TTL changes.
  await visit(page, '/console/acme/settings', 'settings');
  await page.getByLabel('DNS TTL (seconds)').fill('30');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Saved: TTL 30 s').waitFor();
  await settle(page, 'settings-saved');
  assert.equal((await visit(page, '/console/acme/settings', 'settings-again')).status(), 200);
  assert.equal(await page.getByLabel('DNS TTL (seconds)').inputValue(), '30');

  // Members: a viewer is added, and the audit log shows who did all this.
  await visit(page, '/console/acme/members', 'members');
  await page.getByLabel('Email').fill('bob@example.com');
  await page.getByLabel('Role').selectOption('viewer');
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByRole('cell', { name: 'bob@example.com', exact: true }).waitFor();
  await page.getByRole('cell', { name: 'invited, not yet logged in' }).waitFor();
  await settle(page, 'members-added');
  await visit(page, '/console/acme/audit', 'audit');
  const audit = await page.locator('table').innerText();
  for (const action of ['account.created', 'registration-token.created', 'registration-token.revoked', 'cluster.registered', 'api-token.revoked', 'account.settings-changed', 'member.invited']) {
    assert.ok(audit.includes(action), `audit log lacks ${action}:\n${audit}`);
  }

  // The API refused the oversized name with a 422: the only console error expected.
  alice.check(/status of 422/);
} finally {
  await browser.close();
}

// A cluster: its identity, the YAML other clusters need to reach and trust it, its events.
import { call, get, accountPath, segment } from './api.js';
import { h, table, badge, state, when, facts, copyBlock, empty } from './dom.js';

export const refreshSeconds = 15;

export async function render(ctx) {
  const path = `/clusters/${segment(ctx.cluster)}`;
  const [cluster, events] = await Promise.all([get(path), get(`${path}/events`, { limit: 50 })]);
  return [
    facts([
      ['Status', [state(cluster.status), ' since ', when(cluster.status_changed_at)]],
      ['Region', cluster.labels.region || 'none'],
      ['Labels', Object.entries(cluster.labels).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'],
      ['Last heartbeat', when(cluster.last_heartbeat_at)],
      ['Agent version', cluster.agent_version || 'not reported'],
      ['SPIFFE prefix', h('code', {}, cluster.spiffe_prefix)],
      ['API server', h('code', {}, cluster.server)],
      ['API server CA (SHA-256)', h('code', {}, cluster.server_ca.sha256)],
      ['Registered', when(cluster.registered_at)],
    ]),
    h('h2', {}, 'Identity CAs'),
    h('p', { class: 'muted' }, `Other clusters of ${ctx.account} trust workloads under ${cluster.spiffe_prefix} issued by these.`),
    table('Identity CAs', ['SHA-256 fingerprint', 'Subject', 'Key', 'Valid from', 'Valid until', ''],
      cluster.identity_cas.map((ca) => [
        h('code', {}, ca.sha256), ca.subject, ca.key,
        ca.not_before.slice(0, 10), validUntil(ca.not_after),
        ca.current ? 'current' : 'older, still trusted',
      ])),
    h('h2', {}, 'Use it from other clusters'),
    copyBlock('Admiralty resources (apply in the other clusters)', resources(cluster), 'yaml-resources'),
    copyBlock('A kubeconfig for kubectl', `flotilla get-cluster-kubeconfig --cluster ${cluster.name} > ${cluster.name}.kubeconfig`, 'kubeconfig-command'),
    h('h2', {}, 'Events'),
    events.events.length
      ? table('Events', ['When', 'Event', 'Detail'], events.events.map((e) => [when(e.at), e.kind, e.detail]))
      : empty('No events yet.'),
    ctx.can('admin') ? deregister(ctx, cluster.name) : null,
  ];
}

function validUntil(iso) {
  const days = Math.floor((new Date(iso) - Date.now()) / 86400000);
  const date = iso.slice(0, 10);
  if (days < 0) return [state('expired'), ' ', date];
  if (days < 30) return [badge(`${days} days left`, 'warn'), ' ', date];
  return date;
}

/** Admiralty's Kubeconfig and TrustedIdentityProvider, resolved through Flotilla. */
export function resources(cluster) {
  const name = cluster.name;
  return `apiVersion: multicluster.admiralty.io/v1alpha1
kind: Kubeconfig
metadata:
  name: ${name}
spec:
  secretName: ${name}
  cluster:
    admiraltyReference:
      clusterName: ${name}
---
apiVersion: multicluster.admiralty.io/v1alpha1
kind: TrustedIdentityProvider
metadata:
  name: ${name}
spec:
  prefix: "${cluster.spiffe_prefix}"
  admiraltyReference:
    clusterName: ${name}
`;
}

function deregister(ctx, name) {
  const button = h('button', { type: 'button', class: 'danger' }, `Deregister ${name}`);
  const status = h('div', { class: 'status', role: 'status' });
  button.addEventListener('click', async () => {
    if (!confirm(`Deregister ${name}? Other clusters stop trusting it and its DNS endpoints are removed.`)) return;
    try {
      await call('DELETE', accountPath(`/clusters/${segment(name)}`));
      location.assign(`/console/${segment(ctx.account)}`);
    } catch (error) {
      status.textContent = error.message;
      status.className = 'status bad';
    }
  });
  return h('section', {}, h('h2', {}, 'Deregister'), h('p', { class: 'muted' },
    'Removes the cluster from the account: its identity CAs, its DNS endpoints and its agent\'s access.'), button, status);
}

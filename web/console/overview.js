// Overview: the account's clusters with their status, and the hosts its DNS serves.
import { get, segment } from './api.js';
import { h, table, state, when, empty } from './dom.js';

export const refreshSeconds = 10;

export async function render(ctx) {
  const [clusters, dns] = await Promise.all([get('/clusters'), get('/dns/records')]);
  return [clusterSection(ctx, clusters), hostSection(ctx, dns.records)];
}

function clusterSection(ctx, clusters) {
  const counts = ['ready', 'stale', 'offline']
    .map((s) => [s, clusters.filter((c) => c.status === s).length])
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const heading = h('h2', {}, 'Clusters');
  if (clusters.length === 0) {
    return h('section', { 'aria-labelledby': 'clusters' }, h('h2', { id: 'clusters' }, 'Clusters'),
      empty('No cluster is registered yet. ',
        ctx.can('admin')
          ? [h('a', { href: `/console/${segment(ctx.account)}/registration` }, 'Create a registration token'),
            ' and run the command it shows, or register from a machine where ',
            h('code', {}, 'flotilla configure'), ' ran: ',
            h('code', {}, 'flotilla register-cluster --name eu-1 --region eu-west-1 --generate-identity-ca')]
          : 'An admin of the account registers clusters.'));
  }
  heading.id = 'clusters';
  return h('section', { 'aria-labelledby': 'clusters' }, heading,
    h('p', { class: 'muted' }, `${clusters.length} cluster${clusters.length === 1 ? '' : 's'}: ${counts.join(', ')}.`),
    table('Clusters', ['Cluster', 'Status', 'Region', 'Last heartbeat', 'Agent'],
      clusters.map((c) => [
        h('a', { href: `/console/${segment(ctx.account)}/clusters/${segment(c.name)}` }, c.name),
        state(c.status),
        c.labels.region || h('span', { class: 'muted' }, 'none'),
        when(c.last_heartbeat_at),
        c.agent_version || h('span', { class: 'muted' }, 'not reported'),
      ])));
}

/** One line per host: how many record sets, and whether the provider holds them all. */
function hostSummaries(records) {
  const hosts = new Map();
  for (const r of records) {
    const host = hosts.get(r.host) || { host: r.host, sets: 0, applied: 0, quarantined: 0 };
    host.sets += 1;
    if (r.status === 'applied') host.applied += 1;
    if (r.status === 'quarantined') host.quarantined += 1;
    hosts.set(r.host, host);
  }
  return [...hosts.values()].map((x) => ({
    ...x,
    status: x.quarantined ? 'quarantined' : x.applied === x.sets ? 'applied' : 'pending',
  }));
}

function hostSection(ctx, records) {
  const heading = h('h2', { id: 'hosts' }, 'Hosts');
  const hosts = hostSummaries(records);
  const dnsPage = `/console/${segment(ctx.account)}/dns`;
  if (hosts.length === 0) {
    return h('section', { 'aria-labelledby': 'hosts' }, heading,
      empty(`No host is served yet: agents report endpoints for names under ${ctx.domain}, and Flotilla's DNS sends clients to the nearest healthy cluster.`));
  }
  return h('section', { 'aria-labelledby': 'hosts' }, heading,
    table('Hosts', ['Host', 'Record sets', 'DNS'],
      hosts.map((x) => [
        h('a', { href: `${dnsPage}#${x.host}` }, x.host),
        `${x.applied} of ${x.sets} applied`,
        state(x.status),
      ])));
}

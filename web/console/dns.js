// DNS: each host with the clusters serving it (targets, health, weight) and its record sets
// (planned, applied or quarantined with the provider's reason); then the change history.
import { get, segment } from './api.js';
import { h, table, state, when, empty } from './dom.js';

export const refreshSeconds = 10;

export async function render(ctx) {
  const [endpoints, records, changes] = await Promise.all([
    get('/dns/endpoints'), get('/dns/records'), get('/dns/changes', { limit: 50 }),
  ]);
  const hosts = [...new Set([...endpoints.endpoints.map((e) => e.host), ...records.records.map((r) => r.host)])].sort();
  const intro = h('p', { class: 'muted' }, 'Zone ', h('code', {}, records.zone),
    `: names under ${ctx.domain} follow the clusters that serve them, nearest healthy region first.`);
  if (hosts.length === 0) {
    return [intro, empty('No host yet: agents report endpoints for the hosts their clusters serve.')];
  }
  return [
    intro,
    hosts.map((host) => hostSection(ctx, host,
      endpoints.endpoints.filter((e) => e.host === host), records.records.filter((r) => r.host === host))),
    h('h2', { id: 'changes' }, 'Change history'),
    changes.changes.length
      ? table('Changes', ['Learned', 'Host', 'Status', 'What', 'Attempts', 'Took', 'Error'], changes.changes.map((c) => [
        when(c.learned_at), c.host, state(c.status),
        [c.failover ? h('strong', {}, 'failover: ') : '', c.actions.map((a) => `${a.action} ${a.type} ${a.set_identifier || a.name}`).join(', ')],
        String(c.attempts),
        c.completed_at ? `${new Date(c.completed_at) - new Date(c.learned_at)} ms` : '',
        c.error || '',
      ]))
      : empty('No change sent yet.'),
  ];
}

function hostSection(ctx, host, endpoints, records) {
  const id = host;
  return h('section', { 'aria-labelledby': `host-${id}` },
    h('h2', { id: `host-${id}` }, h('a', { id, href: `#${id}` }, host)),
    endpoints.length
      ? table(`Clusters serving ${host}`, ['Cluster', 'Region', 'Targets', 'Health', 'Weight', 'Reported'], endpoints.map((e) => [
        h('a', { href: `/console/${segment(ctx.account)}/clusters/${segment(e.cluster)}` }, e.cluster),
        e.region || h('span', { class: 'muted' }, 'none'),
        h('code', {}, e.targets.join(', ')),
        state(e.healthy ? 'healthy' : 'unhealthy'),
        String(e.weight),
        when(e.updated_at),
      ]))
      : empty('No cluster serves it any more; its records are being removed.'),
    records.length
      ? table(`Record sets of ${host}`, ['Name', 'Type', 'Routing', 'Values', 'TTL', 'Status'], records.map((r) => [
        h('code', {}, r.name), r.type,
        routing(r),
        r.planned ? h('code', {}, r.planned.values.join(', ')) : h('span', { class: 'muted' }, 'being removed'),
        r.planned ? `${r.planned.ttl} s` : '',
        [state(r.status === 'pending' ? 'planned' : r.status), r.error ? h('p', { class: 'hint' }, r.error) : null],
      ]))
      : empty('No record planned.'));
}

function routing(r) {
  if (!r.planned) return r.set_identifier || '';
  if (r.planned.region) return `latency: ${r.planned.region}`;
  if (r.planned.weight !== null && r.planned.weight !== undefined) return `weight ${r.planned.weight}: ${r.set_identifier}`;
  return r.set_identifier || 'simple';
}

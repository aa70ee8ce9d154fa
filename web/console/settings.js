// The account's settings: DNS TTL and public SPIFFE bundles (admins change them).
import { call, get, accountPath } from './api.js';
import { h, facts, when, onSubmit } from './dom.js';

export async function render(ctx) {
  const account = await get('');
  const summary = facts([
    ['Account', account.name],
    ['DNS zone', h('code', {}, account.domain)],
    ['Your role', account.role],
    ['Created', when(account.created_at)],
  ]);
  if (!ctx.can('admin')) {
    return [summary, h('h2', {}, 'Settings'), facts([
      ['DNS TTL', `${account.dns_ttl} s`],
      ['Public SPIFFE bundles', account.publish_spiffe_bundles ? 'published' : 'not published'],
    ]), h('p', { class: 'muted' }, 'The account\'s admins and owners change these.')];
  }
  const saved = h('p', { class: 'status good', role: 'status' });
  const form = onSubmit(h('form', { class: 'panel', 'aria-labelledby': 'settings' },
    h('h2', { id: 'settings' }, 'Settings'),
    h('label', { for: 'f-dns_ttl' }, 'DNS TTL (seconds)'),
    h('input', { type: 'number', id: 'f-dns_ttl', name: 'dns_ttl', min: 1, max: 86400, value: account.dns_ttl, required: true, 'aria-describedby': 'ttl-hint' }),
    h('p', { class: 'hint', id: 'ttl-hint' }, 'How long resolvers keep each record: lower fails over sooner, higher costs fewer queries.'),
    h('label', { class: 'inline' },
      h('input', { type: 'checkbox', name: 'publish', checked: account.publish_spiffe_bundles }),
      'Publish the clusters\' SPIFFE bundles'),
    h('p', { class: 'hint' }, `Anyone may then read them at ${ctx.issuer}/spiffe/${ctx.account}/<cluster>/bundle, for SPIFFE federation.`),
    h('button', { type: 'submit' }, 'Save settings'), saved), async (fields) => {
    saved.textContent = '';
    const answer = await call('PATCH', accountPath(''), {
      dns_ttl: Number(fields.dns_ttl), publish_spiffe_bundles: fields.publish === 'on',
    });
    saved.textContent = `Saved: TTL ${answer.dns_ttl} s, bundles ${answer.publish_spiffe_bundles ? 'published' : 'not published'}.`;
  });
  return [summary, form];
}

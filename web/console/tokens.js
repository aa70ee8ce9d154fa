// API tokens: create one (shown once), list them, revoke one.
import { call, get, accountPath, segment } from './api.js';
import { h, table, state, when, copyBlock, empty, field, onSubmit, rowAction } from './dom.js';

const ROLES = ['viewer', 'admin', 'owner'];
const LIFETIMES = [['30', '30 days'], ['90', '90 days'], ['365', '1 year']];

export async function render(ctx) {
  const created = h('div', { id: 'created' });
  const list = h('section', { 'aria-labelledby': 'api-tokens' });
  const roles = ROLES.filter((r) => ctx.can(r)).map((r) => [r, r]);
  const form = onSubmit(h('form', { class: 'panel', 'aria-labelledby': 'new-api-token' },
    h('h2', { id: 'new-api-token' }, 'New API token'),
    h('p', { class: 'hint' }, 'For scripts and CI: send it as Authorization: Bearer <token>. Its role is at most yours.'),
    field('Name', { name: 'name', required: true, maxlength: 100, placeholder: 'ci-deployer' }),
    field('Role', { name: 'role', options: roles, value: 'viewer' }),
    field('Expires in', { name: 'days', options: LIFETIMES, value: '90' }),
    h('button', { type: 'submit' }, 'Create API token')), async (fields) => {
    const expires = new Date(Date.now() + Number(fields.days) * 86400000);
    const answer = await call('POST', accountPath('/tokens'), {
      name: fields.name.trim(), role: fields.role, expires_at: expires.toISOString(),
    });
    created.replaceChildren(h('div', { class: 'notice', role: 'status' },
      h('h2', {}, `API token "${answer.name}" created`),
      h('p', {}, h('strong', {}, 'Copy it now: it is shown only this once.'), ` Role ${answer.role}, expires ${new Date(answer.expires_at).toLocaleDateString()}.`),
      copyBlock('API token', answer.token, 'new-api-token-secret')));
    created.querySelector('button')?.focus();
    list.replaceChildren(...await tokens(list));
  });
  list.replaceChildren(...await tokens(list));
  return [created, form, list];
}

async function tokens(list) {
  const all = await get('/tokens');
  const heading = h('h2', { id: 'api-tokens' }, 'API tokens');
  if (all.length === 0) return [heading, empty('No API token yet.')];
  return [heading, table('API tokens', ['Name', 'Token', 'Role', 'State', 'Expires', 'Last used', ''],
    all.map((t) => {
      const word = t.revoked_at ? 'revoked' : new Date(t.expires_at) <= new Date() ? 'expired' : 'active';
      return [t.name, h('code', {}, `${t.prefix}…`), t.role, state(word), when(t.expires_at), when(t.last_used_at),
        word === 'active' ? rowAction('Revoke', `Revoke ${t.name}`, async () => {
          await call('DELETE', accountPath(`/tokens/${segment(t.id)}`));
          list.replaceChildren(...await tokens(list));
        }) : ''];
    }))];
}

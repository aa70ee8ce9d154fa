// Members and their roles; owners add (by log-in email) and remove them.
import { call, get, accountPath, segment } from './api.js';
import { h, table, when, field, onSubmit, rowAction } from './dom.js';

const ROLES = [['viewer', 'viewer: reads everything'], ['admin', 'admin: also registers clusters and creates tokens'], ['owner', 'owner: also manages members and settings']];

export async function render(ctx) {
  const list = h('section', { 'aria-labelledby': 'members' });
  list.replaceChildren(...await members(ctx, list));
  if (!ctx.can('owner')) {
    return [h('p', { class: 'muted' }, 'The account\'s owners add and remove members.'), list];
  }
  const form = onSubmit(h('form', { class: 'panel', 'aria-labelledby': 'add-member' },
    h('h2', { id: 'add-member' }, 'Add a member'),
    h('p', { class: 'hint' }, 'They join when they log in with this email (verified by their OpenID provider).'),
    field('Email', { name: 'email', type: 'email', required: true, autocomplete: 'off' }),
    field('Role', { name: 'role', options: ROLES, value: 'viewer' }),
    h('button', { type: 'submit' }, 'Add member')), async (fields) => {
    await call('POST', accountPath('/members'), { email: fields.email.trim(), role: fields.role });
    list.replaceChildren(...await members(ctx, list));
  });
  return [list, form];
}

async function members(ctx, list) {
  const all = await get('/members');
  const owner = ctx.can('owner');
  return [h('h2', { id: 'members' }, 'Members'), table('Members',
    ['Name', 'Email', 'Role', 'Since', ...(owner ? [''] : [])],
    all.map((m) => [
      m.name || h('span', { class: 'muted' }, m.invited ? 'invited, not yet logged in' : 'unknown'),
      m.email || '',
      m.role,
      when(m.since),
      ...(owner && m.email ? [rowAction('Remove', `Remove ${m.email}`, async () => {
        await call('DELETE', accountPath(`/members/${segment(m.email)}`));
        list.replaceChildren(...await members(ctx, list));
      }, `Remove ${m.email} from ${ctx.account}?`)] : owner ? [''] : []),
    ]))];
}

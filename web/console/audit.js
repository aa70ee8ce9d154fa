// The audit log: who did what in the account, newest first, a page at a time.
import { get } from './api.js';
import { h, table, when, empty } from './dom.js';

export async function render() {
  const rows = h('div');
  const more = h('button', { type: 'button', class: 'secondary' }, 'Older events');
  let before;
  async function page() {
    const answer = await get('/audit', before ? { limit: 50, before } : { limit: 50 });
    rows.append(answer.events.length || before
      ? table('Audit events', ['When', 'Who', 'Action', 'Target', 'From'], answer.events.map((e) => [
        when(e.at), `${e.actor} (${e.actor_kind})`, h('code', {}, e.action), e.target, e.source || '',
      ]))
      : empty('Nothing has happened in this account yet.'));
    before = answer.next_before;
    more.hidden = !before;
  }
  more.addEventListener('click', () => page());
  await page();
  return [rows, more];
}

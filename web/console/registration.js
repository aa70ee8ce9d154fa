// Registration tokens: create one (its secret shown once, with the commands that use it:
// `flotilla register-cluster`, or the agent's installation), list them, revoke one.
import { call, get, accountPath, segment } from './api.js';
import { h, table, state, when, copyBlock, empty, field, onSubmit, rowAction } from './dom.js';

const VALIDITY = [['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days']];

export async function render(ctx) {
  const created = h('div', { id: 'created' });
  const list = h('section', { 'aria-labelledby': 'tokens' });
  const form = onSubmit(h('form', { class: 'panel', 'aria-labelledby': 'new-token' },
    h('h2', { id: 'new-token' }, 'New registration token'),
    h('p', { class: 'hint' }, 'A registration token lets a cluster register itself without anyone\'s log-in. It works for a limited time and number of clusters.'),
    field('Description', { name: 'description', required: true, maxlength: 100, placeholder: 'eu-1 by the platform team' }),
    field('Region', { name: 'region', placeholder: 'eu-west-1' }, 'Given to every cluster it registers as the region label (optional).'),
    field('Other labels', { name: 'labels', placeholder: 'tier=prod, team=platform' }, 'key=value pairs, separated by commas (optional).'),
    field('Clusters it may register', { name: 'max_uses', type: 'number', min: 1, max: 10000, value: 1, required: true }),
    field('Valid for', { name: 'ttl_seconds', options: VALIDITY, value: '3600' }),
    h('button', { type: 'submit' }, 'Create registration token')), async (fields) => {
    const answer = await call('POST', accountPath('/registration-tokens'), {
      description: fields.description.trim(),
      max_uses: Number(fields.max_uses),
      ttl_seconds: Number(fields.ttl_seconds),
      labels: labels(fields),
    });
    showCreated(ctx, created, answer);
    list.replaceChildren(...await tokens(ctx, list));
  });
  list.replaceChildren(...await tokens(ctx, list));
  return [created, form, list];
}

/** The labels of the form: the region and `key=value` pairs; a malformed pair is refused. */
function labels(fields) {
  const out = {};
  if (fields.region.trim()) out.region = fields.region.trim();
  for (const pair of fields.labels.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`"${pair}" is not a label: write key=value.`);
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

/**
 * The commands that install the agent in a cluster, which registers it with `token`: the token
 * in the Secret the agent waits for (its namespace first), `deploy/agent/agent.env`, and the
 * kustomization. The same as `flotilla registration-tokens create` prints.
 */
function agentCommands(ctx, token) {
  return [
    'kubectl create namespace admiralty',
    `kubectl -n admiralty create secret generic flotilla-registration-token --from-literal=token=${token}`,
    "cat > deploy/agent/agent.env <<'EOF'",
    `FLOTILLA_URL=${ctx.issuer}`,
    `FLOTILLA_ACCOUNT=${ctx.account}`,
    'FLOTILLA_CLUSTER=<cluster>',
    'EOF',
    'kubectl apply -k deploy/agent',
  ].join('\n');
}

function showCreated(ctx, created, answer) {
  const command = `flotilla register-cluster --server ${ctx.issuer} --account ${ctx.account} \\
  --registration-token ${answer.token} --name <cluster> --generate-identity-ca`;
  created.replaceChildren(h('div', { class: 'notice', role: 'status' },
    h('h2', {}, `Token "${answer.description}" created`),
    h('p', {}, h('strong', {}, 'Copy it now: it is shown only this once.'),
      ` It expires ${new Date(answer.expires_at).toLocaleString()} and may register ${answer.max_uses} cluster${answer.max_uses === 1 ? '' : 's'}.`),
    copyBlock('Registration token', answer.token, 'new-token-secret'),
    copyBlock('Register a cluster with it (kubectl pointing at the cluster)', command, 'new-token-command'),
    copyBlock('Or install the agent in the cluster, which registers it with this token', agentCommands(ctx, answer.token), 'new-token-agent'),
    h('p', { class: 'hint' }, 'Run the agent\'s commands from a clone of Flotilla, with kubectl pointing at the cluster, after putting its name in place of <cluster>.')));
  created.querySelector('button')?.focus();
}

async function tokens(ctx, list) {
  const all = await get('/registration-tokens');
  const heading = h('h2', { id: 'tokens' }, 'Registration tokens');
  if (all.length === 0) return [heading, empty('No registration token yet.')];
  return [heading, table('Registration tokens', ['Description', 'Token', 'Labels', 'Used', 'State', 'Expires', 'Last used', ''],
    all.map((t) => [
      t.description,
      h('code', {}, `${t.prefix}…`),
      Object.entries(t.labels).map(([k, v]) => `${k}=${v}`).join(', ') || h('span', { class: 'muted' }, 'none'),
      `${t.uses} of ${t.max_uses}`,
      state(t.state),
      when(t.expires_at),
      when(t.last_used_at),
      t.state === 'active' ? revoke(ctx, t, list) : '',
    ]))];
}

function revoke(ctx, token, list) {
  return rowAction('Revoke', `Revoke ${token.description}`, async () => {
    await call('DELETE', accountPath(`/registration-tokens/${segment(token.id)}`));
    list.replaceChildren(...await tokens(ctx, list));
  });
}

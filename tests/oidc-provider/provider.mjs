// Test fixture: the certified `oidc-provider` package (panva/node-oidc-provider), run offline
// as "the company's OpenID provider" for Flotilla's integration tests.
//
// Run: `node tests/oidc-provider/provider.mjs` after `npm ci` in this directory
// (scripts/install-test-deps.sh does that).
//
// ENVIRONMENT
//   PORT           TCP port on 127.0.0.1; 0 or unset = pick a free one.
//   CLIENT_ID      (required) the one registered client.
//   CLIENT_SECRET  (required) its secret; the client authenticates with client_secret_basic.
//   REDIRECT_URIS  (required) comma-separated exact redirect URIs,
//                  e.g. http://127.0.0.1:43123/auth/callback
//   EXIT_WITH_STDIN (optional) "1": also exit 0 when stdin reaches EOF (so the fixture dies
//                  with a parent that holds the write end of a pipe and is killed hard).
//
// The issuer is `http://127.0.0.1:<port>` (no trailing slash; the `iss` claim, the discovery
// document's `issuer` and the `iss` authorization response parameter are exactly that string).
// The client: confidential web client, client_secret_basic, grant_types [authorization_code],
// response_types [code], PKCE with S256 required, ID tokens signed RS256. Scopes: openid,
// email, profile (plus the built-in offline_access, which this client cannot use: no
// refresh_token grant).
//
// STDOUT PROTOCOL
//   Exactly one line, once the socket listens and the provider is mounted:
//     ready http://127.0.0.1:<port>
//   Nothing else is ever written to stdout (the library's notices and warnings, and anything
//   logged with console.log/info, go to stderr). SIGTERM or SIGINT: exit status 0.
//   Bad configuration: a message on stderr, exit status 2, no ready line.
//
// ACCOUNTS
//   Any login is accepted (the password is ignored). For the account id <id> typed at login:
//     sub = <id>; email = <id> if it contains '@', else <id>@example.com; email_verified = true;
//     name = the part of the email before '@', split on . _ - + and each word capitalised
//            ("jane.doe@corp.example" -> "Jane Doe", "alice" -> "Alice").
//   With scope "openid email profile" the ID token itself carries email, email_verified and
//   name (conformIdTokenClaims is off). Observed ID token payload keys: sub, email,
//   email_verified, name, nonce, aud (= CLIENT_ID), exp (iat + 3600), iat, iss; header
//   {alg: RS256, kid} (no typ, no at_hash/auth_time/sid). The token response also has an
//   opaque access_token (for GET /me, the userinfo endpoint), expires_in, scope, token_type.
//
// INTERACTION PAGES (plain HTML, no JavaScript; every action URL is absolute)
//   GET /auth?... answers 303 with Location: http://127.0.0.1:<port>/interaction/<uid>
//   (<uid> is [A-Za-z0-9_-]+), and sets cookies `_interaction` (path /interaction/<uid>) and
//   `_interaction_resume` (path /auth/<uid>); a cookie jar is required for the whole flow.
//   GET /interaction/<uid> answers 200 text/html with one of these pages:
//
//   Login (first interaction of a browser session; <title>Sign-in</title>):
//     <form method="post" action="http://127.0.0.1:<port>/interaction/<uid>/login" data-prompt="login">
//       <input type="text" name="login" ...>       any non-empty value = the account id
//       <input type="password" name="password" ...> ignored, may be empty or omitted
//     POST application/x-www-form-urlencoded `login=<id>[&password=...]`
//       -> 303 Location: http://127.0.0.1:<port>/auth/<uid> (follow it with the cookie jar);
//       an empty login -> 400 and the same page again.
//
//   Consent (<title>Authorize</title>), two forms, the confirm form FIRST in the page:
//     <form method="post" action="http://127.0.0.1:<port>/interaction/<uid>/confirm" data-prompt="consent">
//       <input type="hidden" name="confirm" value="yes">
//     <form method="post" action="http://127.0.0.1:<port>/interaction/<uid>/abort" data-prompt="abort">
//       <input type="hidden" name="abort" value="yes">
//     POST .../confirm (any body, including none) -> 303 to /auth/<uid>, which answers 303 to
//       <redirect_uri>?code=...&state=...&iss=http%3A%2F%2F127.0.0.1%3A<port>
//     POST .../abort -> 303 to /auth/<uid>, which answers 303 to
//       <redirect_uri>?error=access_denied&error_description=...&state=...&iss=...
//   So `action="([^"]+)"` (first match) yields the login URL on the login page and the
//   confirm URL on the consent page. The login and consent steps each get their own <uid>.
//   Both steps appear on a fresh cookie jar. With a jar that already holds the `_session`
//   cookie of an earlier flow for the same client and scopes, /auth skips both and redirects
//   straight to the redirect_uri (add prompt=login or prompt=consent to force them).
//
// MISCHIEF (negative tests; the provider itself is well behaved, this fixture tampers)
//   POST /__mischief  with a JSON body {"id_token": {"<claim>": <value>, ...}}
//     The next successful token-endpoint response that carries an id_token gets its payload
//     changed (a null value deletes the claim, e.g. {"id_token": {"nonce": null}}) and is
//     re-signed with the provider's own key: same header (alg RS256, same kid as in /jwks),
//     so the signature stays valid. One-shot: later responses are untouched. Posting again
//     replaces a pending mischief. Answers 204; 400 on a malformed body.
//   DELETE /__mischief  clears a pending mischief. Answers 204.
//   GET /__mischief     the pending mischief as JSON, or null.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import { CompactSign, calculateJwkThumbprint, importJWK } from 'jose';
import Provider from 'oidc-provider';

// stdout carries the ready line only: route every console sink that writes to stdout (the
// library prints NOTICE lines with console.info) to stderr.
for (const name of ['log', 'info', 'debug']) {
  console[name] = (...args) => console.error(...args);
}

function fail(message) {
  process.stderr.write(`oidc-provider fixture: ${message}\n`);
  process.exit(2);
}

const env = process.env;
const port = env.PORT === undefined || env.PORT === '' ? 0 : Number(env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be 0..65535, got ${env.PORT}`);
const clientId = env.CLIENT_ID;
const clientSecret = env.CLIENT_SECRET;
const redirectUris = (env.REDIRECT_URIS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
if (!clientId) fail('CLIENT_ID is required');
if (!clientSecret) fail('CLIENT_SECRET is required');
if (redirectUris.length === 0) fail('REDIRECT_URIS is required (comma-separated)');

// ---------------------------------------------------------------------------------- keys
async function signingKey(type, options) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.use = 'sig';
  return jwk;
}
const privateJwks = [
  await signingKey('rsa', { modulusLength: 2048 }), // first = used for RS256
  await signingKey('ec', { namedCurve: 'P-256' }),
];
const jwkByKid = new Map(privateJwks.map((jwk) => [jwk.kid, jwk]));

// --------------------------------------------------------------------------------- helpers
const htmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function displayName(id) {
  const local = id.includes('@') ? id.slice(0, id.indexOf('@')) : id;
  const words = local.split(/[._+\-\s]+/).filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return words.length ? words.join(' ') : id;
}

async function readBody(ctx, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function page(title, body) {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>${htmlEscape(title)}</title></head>
<body>
<h1>${htmlEscape(title)}</h1>
${body}
</body>
</html>
`;
}

// -------------------------------------------------------------------------- the provider
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => {
    server.off('error', reject);
    resolve();
  });
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    application_type: 'web',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: privateJwks },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: id.includes('@') ? id : `${id}@example.com`,
          email_verified: true,
          name: displayName(id),
        };
      },
    };
  },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    // Plain http on 127.0.0.1: the library only marks cookies Secure on https requests.
  },
  features: {
    devInteractions: { enabled: false },
  },
  interactions: {
    url: (ctx, interaction) => `${issuer}/interaction/${interaction.uid}`,
  },
});

// ------------------------------------------------------------------------- interactions
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/;

function loginPage(uid, client, error) {
  return page('Sign-in', `${error ? `<p class="error">${htmlEscape(error)}</p>\n` : ''}<p>Sign in to continue to <code>${htmlEscape(client)}</code>. Any login works; the password is ignored.</p>
<form method="post" action="${htmlEscape(`${issuer}/interaction/${uid}/login`)}" data-prompt="login">
  <input type="text" name="login" placeholder="login" required autofocus>
  <input type="password" name="password" placeholder="password (ignored)">
  <button type="submit">Sign-in</button>
</form>`);
}

function consentPage(uid, client, details) {
  const items = [];
  if (details.missingOIDCScope?.length) items.push(`<li>scopes: ${htmlEscape(details.missingOIDCScope.join(' '))}</li>`);
  if (details.missingOIDCClaims?.length) items.push(`<li>claims: ${htmlEscape(details.missingOIDCClaims.join(' '))}</li>`);
  if (!items.length) items.push('<li>confirm a previously given authorization</li>');
  return page('Authorize', `<p><code>${htmlEscape(client)}</code> asks for:</p>
<ul>
${items.join('\n')}
</ul>
<form method="post" action="${htmlEscape(`${issuer}/interaction/${uid}/confirm`)}" data-prompt="consent">
  <input type="hidden" name="confirm" value="yes">
  <button type="submit">Continue</button>
</form>
<form method="post" action="${htmlEscape(`${issuer}/interaction/${uid}/abort`)}" data-prompt="abort">
  <input type="hidden" name="abort" value="yes">
  <button type="submit">Cancel</button>
</form>`);
}

async function interactionRoute(ctx, uid, action) {
  ctx.set('cache-control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    ctx.status = err.status || err.statusCode || 400;
    ctx.type = 'text';
    ctx.body = `${err.error || err.name}: ${err.error_description || err.message}\n`;
    return;
  }
  if (details.uid !== uid) {
    ctx.status = 400;
    ctx.type = 'text';
    ctx.body = 'interaction cookie does not match the URL\n';
    return;
  }
  const { prompt, params, grantId, session } = details;

  if (ctx.method === 'GET' && !action) {
    ctx.type = 'html';
    if (prompt.name === 'login') ctx.body = loginPage(uid, params.client_id);
    else if (prompt.name === 'consent') ctx.body = consentPage(uid, params.client_id, prompt.details);
    else ctx.throw(501, `prompt ${prompt.name} not implemented`);
    return;
  }
  if (ctx.method !== 'POST' || !action) {
    ctx.status = 405;
    return;
  }

  const form = new URLSearchParams(await readBody(ctx));
  if (action === 'abort') {
    await provider.interactionFinished(ctx.req, ctx.res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    ctx.respond = false;
    return;
  }
  if (action === 'login') {
    if (prompt.name !== 'login') ctx.throw(400, `this interaction expects ${prompt.name}, not login`);
    const login = (form.get('login') ?? '').trim();
    if (!login) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = loginPage(uid, params.client_id, 'login must not be empty');
      return;
    }
    await provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: login },
    }, { mergeWithLastSubmission: false });
    ctx.respond = false;
    return;
  }
  // action === 'confirm'
  if (prompt.name !== 'consent') ctx.throw(400, `this interaction expects ${prompt.name}, not consent`);
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  if (missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  await provider.interactionFinished(ctx.req, ctx.res, {
    consent: { grantId: await grant.save() },
  }, { mergeWithLastSubmission: true });
  ctx.respond = false;
}

// ------------------------------------------------------------------------------ mischief
let mischief = null; // { id_token: { claim: value | null } }

function isPlainObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function mischiefRoute(ctx) {
  ctx.set('cache-control', 'no-store');
  if (ctx.method === 'GET') {
    ctx.body = JSON.stringify(mischief);
    ctx.type = 'json';
    return;
  }
  if (ctx.method === 'DELETE') {
    mischief = null;
    ctx.status = 204;
    return;
  }
  if (ctx.method !== 'POST') {
    ctx.status = 405;
    return;
  }
  let parsed;
  try {
    parsed = JSON.parse(await readBody(ctx));
  } catch (err) {
    ctx.status = 400;
    ctx.type = 'text';
    ctx.body = `body is not JSON: ${err.message}\n`;
    return;
  }
  const unknown = isPlainObject(parsed) ? Object.keys(parsed).filter((k) => k !== 'id_token') : [];
  if (!isPlainObject(parsed) || !isPlainObject(parsed.id_token) || unknown.length) {
    ctx.status = 400;
    ctx.type = 'text';
    ctx.body = 'expected {"id_token": {"<claim>": <value or null>, ...}}\n';
    return;
  }
  mischief = { id_token: parsed.id_token };
  process.stderr.write(`oidc-provider fixture: mischief armed ${JSON.stringify(mischief)}\n`);
  ctx.status = 204;
}

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

async function tamper(jwt, overrides) {
  const [headerPart, payloadPart] = jwt.split('.');
  const header = b64json(headerPart);
  const payload = b64json(payloadPart);
  for (const [claim, value] of Object.entries(overrides)) {
    if (value === null) delete payload[claim];
    else payload[claim] = value;
  }
  const jwk = jwkByKid.get(header.kid);
  if (!jwk) throw new Error(`no private key for kid ${header.kid}`);
  const key = await importJWK(jwk, header.alg);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(key);
}

// ------------------------------------------------------------------------ the middleware
provider.use(async (ctx, next) => {
  if (ctx.path === '/__mischief') {
    await mischiefRoute(ctx);
    return;
  }
  const interaction = INTERACTION.exec(ctx.path);
  if (interaction) {
    await interactionRoute(ctx, interaction[1], interaction[2]);
    return;
  }
  await next();
  if (
    mischief
    && ctx.method === 'POST'
    && ctx.path === '/token'
    && ctx.status === 200
    && isPlainObject(ctx.body)
    && typeof ctx.body.id_token === 'string'
  ) {
    const overrides = mischief.id_token;
    mischief = null;
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, overrides) };
    process.stderr.write(`oidc-provider fixture: mischief applied ${JSON.stringify(overrides)}\n`);
  }
});

server.on('request', provider.callback());

// ----------------------------------------------------------------------------- lifecycle
function shutdown() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (env.EXIT_WITH_STDIN === '1') {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();
}

process.stdout.write(`ready ${issuer}\n`);

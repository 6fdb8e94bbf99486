// A real OpenID Connect provider for the test suite: the certified
// `oidc-provider` package (installed by scripts/setup.sh into
// $MEELOOP_TOOLS/oidc), configured for tests.
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG.json:
//   { "port": 0,                      // 0 = pick a free port
//     "clients": [{ "client_id": "...", "client_secret": "...",
//                   "redirect_uris": ["http://127.0.0.1:8080/auth/callback"] }],
//     "accounts": [{ "sub": "...", "email": "...", "email_verified": true, "name": "..." }],
//     "id_token_ttl": 3600,           // seconds, optional
//     "exit_on_stdin_close": true }   // optional; keep stdin piped and open!
//
// Listens on 127.0.0.1 only; the issuer is http://127.0.0.1:<port>. Prints one
// line `READY <issuer>` on stdout when it accepts requests, and nothing else
// there (diagnostics go to stderr, never tokens or secrets). Exits when its
// stdin reaches end of file (so a killed test leaves no orphan), on SIGTERM
// and on SIGINT.
//
// Authorization code flow, PKCE (S256) required, client_secret_basic or
// client_secret_post, scopes openid email profile, RS256 ID tokens that carry
// email, email_verified and name. The login page (/interaction/:uid) asks for
// an account's sub or email; consent is granted automatically.
//
// Test control endpoints:
//   POST /test/rotate[?drop=1]  new signing key (new kid) used from now on; the
//                               JWKS lists it first and keeps the old keys
//                               unless drop=1. Answers {"kid": "..."}.
//   POST /test/tamper           JSON {"claims": {...}, "header": {...},
//                               "unsigned_key": bool}: the next ID token from
//                               the token endpoint is re-signed with those
//                               claims overridden (null removes a claim), with
//                               the current key, or with unsigned_key a fresh
//                               unpublished key under the current kid (a bad
//                               signature). Once only. Answers 204.
//   GET  /test/health           200 {"status": "ok"}.

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// stdout carries only the READY line: route the library's notices to stderr,
// and drop its warning about Node 20 (it runs fine there).
const toStderr = (...args) => process.stderr.write(`${args.join(' ')}\n`);
console.log = toStderr;
console.info = toStderr;
console.warn = (...args) => {
  if (String(args[0]).includes('Unsupported runtime')) return;
  toStderr(...args);
};

function fail(message) {
  process.stderr.write(`oidc test provider: ${message}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- modules ---

const tools = process.env.MEELOOP_TOOLS || path.join(os.homedir(), '.cache', 'meeloop');
const requireFromTools = createRequire(path.join(tools, 'oidc', 'package.json'));
async function load(name) {
  let resolved;
  try {
    resolved = requireFromTools.resolve(name);
  } catch {
    fail(`cannot find ${name} under ${tools}/oidc/node_modules; run scripts/setup.sh`);
  }
  return import(pathToFileURL(resolved).href);
}
const { default: Provider } = await load('oidc-provider');
const jose = await load('jose');

// ----------------------------------------------------------------- config ---

const configPath = process.argv[2];
if (!configPath) fail('usage: node provider.mjs CONFIG.json');
let cfg;
try {
  cfg = JSON.parse(readFileSync(configPath, 'utf8'));
} catch (err) {
  fail(`cannot read ${configPath}: ${err.message}`);
}
const port = Number(cfg.port ?? 0);
const idTokenTtl = Number(cfg.id_token_ttl ?? 3600);
const clients = (cfg.clients ?? []).map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  redirect_uris: c.redirect_uris,
  post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
}));
const accounts = (cfg.accounts ?? []).map((a) => ({
  sub: String(a.sub),
  email: a.email,
  email_verified: a.email_verified ?? false,
  name: a.name,
}));
if (!clients.length) fail('config has no clients');

function findAccountByLogin(login) {
  const wanted = String(login ?? '').trim();
  if (!wanted) return undefined;
  return accounts.find((a) => a.sub === wanted)
    ?? accounts.find((a) => a.email && a.email.toLowerCase() === wanted.toLowerCase());
}

// ---------------------------------------------------------------- storage ---

// One in-memory store shared by every Provider instance (a key rotation builds
// a new instance), so sessions, interactions, codes and grants survive it.
const store = new Map();
const epoch = () => Math.floor(Date.now() / 1000);
function storeGet(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.exp !== undefined && entry.exp <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}
function storeSet(key, value, expiresIn) {
  const exp = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
  store.set(key, { value, exp });
}
const grantable = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    if (grantable.has(this.model) && payload.grantId) {
      const gkey = `grant:${payload.grantId}`;
      const members = storeGet(gkey) ?? new Set();
      members.add(key);
      storeSet(gkey, members);
    }
    storeSet(key, payload, expiresIn);
  }

  async find(id) {
    return storeGet(this.key(id));
  }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = epoch();
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const gkey = `grant:${grantId}`;
    for (const key of storeGet(gkey) ?? []) store.delete(key);
    store.delete(gkey);
  }
}

// ------------------------------------------------------------------- keys ---

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = crypto.randomBytes(12).toString('base64url');
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

let signingKeys = [newSigningKey()]; // newest first; the first one signs
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];
let pendingTamper = null;

// --------------------------------------------------------------- provider ---

const SCOPES = ['openid', 'email', 'profile'];
const CLAIMS = {
  acr: null,
  sid: null,
  auth_time: null,
  iss: null,
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name'],
};

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} – Test OpenID Provider</title>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function loginPage(uid, clientId, error, login) {
  const err = error ? `<p id="login-error" role="alert">${esc(error)}</p>\n` : '';
  const described = error ? ' aria-describedby="login-error" aria-invalid="true"' : '';
  return page('Sign in', `<h1>Sign in</h1>
<p>to continue to ${esc(clientId)}</p>
${err}<form id="login-form" method="post" action="/interaction/${esc(uid)}/login">
<label for="login">Email address or subject</label>
<input id="login" name="login" type="text" autocomplete="username" required autofocus value="${esc(login)}"${described}>
<button id="submit" type="submit">Sign in</button>
</form>`);
}

async function findAccount(ctx, sub) {
  const account = accounts.find((a) => a.sub === sub);
  if (!account) return undefined;
  return {
    accountId: account.sub,
    async claims() {
      const claims = { sub: account.sub };
      if (account.email !== undefined) claims.email = account.email;
      claims.email_verified = account.email_verified;
      if (account.name !== undefined) claims.name = account.name;
      return claims;
    },
  };
}

// Consent is implied: the grant always holds whatever was asked for.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant) {
    grant = new oidc.provider.Grant({
      clientId: oidc.client.clientId,
      accountId: oidc.session.accountId,
    });
  }
  const scopes = [...oidc.requestParamScopes].filter((s) => SCOPES.includes(s));
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  await grant.save();
  return grant;
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('Error', `<h1>Sign-in error</h1>
<p id="error">${esc(out.error)}</p>
<p id="error-description">${esc(out.error_description)}</p>`);
}

async function logoutSource(ctx, form) {
  ctx.type = 'html';
  ctx.body = page('Sign out', `<h1>Sign out?</h1>
${form}
<button id="logout" type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button>`);
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<h1>Signed out</h1>');
}

// Koa middleware: on the token endpoint, replace the ID token once as asked
// through POST /test/tamper.
async function tamperIdToken(ctx, next) {
  await next();
  if (!pendingTamper || ctx.method !== 'POST' || ctx.path !== '/token') return;
  if (ctx.status !== 200 || typeof ctx.body?.id_token !== 'string') return;
  const tamper = pendingTamper;
  pendingTamper = null;

  const header = { ...jose.decodeProtectedHeader(ctx.body.id_token), ...(tamper.header ?? {}) };
  const payload = { ...jose.decodeJwt(ctx.body.id_token) };
  for (const [name, value] of Object.entries(tamper.claims ?? {})) {
    if (value === null) delete payload[name];
    else payload[name] = value;
  }
  const jwk = tamper.unsigned_key ? newSigningKey() : signingKeys[0];
  if (!tamper.header?.kid) header.kid = signingKeys[0].kid;
  const key = await jose.importJWK(jwk, 'RS256');
  ctx.body = {
    ...ctx.body,
    id_token: await new jose.SignJWT(payload).setProtectedHeader(header).sign(key),
  };
}

function buildProvider(issuer) {
  const provider = new Provider(issuer, {
    adapter: SharedMemoryAdapter,
    clients,
    jwks: { keys: signingKeys.map((k) => ({ ...k })) },
    // Distinct names: browsers share cookies between ports of one host, and
    // the application under test runs on 127.0.0.1 too.
    cookies: {
      keys: cookieKeys,
      names: {
        session: 'oidc_session',
        interaction: 'oidc_interaction',
        resume: 'oidc_interaction_resume',
      },
    },
    claims: CLAIMS,
    scopes: SCOPES,
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount,
    loadExistingGrant,
    renderError,
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      Grant: 86400,
      IdToken: idTokenTtl,
      Interaction: 3600,
      RefreshToken: 86400,
      Session: 86400,
    },
  });
  provider.on('server_error', (ctx, err) => {
    process.stderr.write(`oidc test provider: server error on ${ctx.method} ${ctx.path}: ${err.message}\n`);
  });
  provider.use(tamperIdToken);
  return { provider, handler: provider.callback() };
}

// ------------------------------------------------------------ HTTP server ---

let current; // { provider, handler } — replaced on key rotation
let issuer;

function send(res, status, body, type = 'text/html; charset=utf-8') {
  const data = Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': data.length,
    'Cache-Control': 'no-store',
  });
  res.end(data);
}
const sendJson = (res, status, value) => send(res, status, JSON.stringify(value), 'application/json');

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1 << 20) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function handleTest(req, res, url) {
  const route = `${req.method} ${url.pathname}`;
  if (route === 'GET /test/health') return sendJson(res, 200, { status: 'ok' });
  if (route === 'POST /test/rotate') {
    const key = newSigningKey();
    const drop = ['1', 'true'].includes(url.searchParams.get('drop'));
    signingKeys = drop ? [key] : [key, ...signingKeys];
    current = buildProvider(issuer);
    return sendJson(res, 200, { kid: key.kid });
  }
  if (route === 'POST /test/tamper') {
    let body;
    try {
      body = JSON.parse((await readBody(req)) || '{}');
    } catch {
      return sendJson(res, 400, { error: 'body must be JSON' });
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return sendJson(res, 400, { error: 'body must be a JSON object' });
    }
    pendingTamper = {
      claims: body.claims ?? {},
      header: body.header,
      unsigned_key: body.unsigned_key === true,
    };
    res.writeHead(204);
    return res.end();
  }
  return sendJson(res, 404, { error: 'not found' });
}

async function handleInteraction(req, res, uid, action) {
  const { provider } = current;
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    details = undefined;
  }
  if (!details || details.uid !== uid) {
    return send(res, 400, page('Error', `<h1>Sign-in error</h1>
<p id="error">This sign-in request has expired or is unknown. Start again from the application.</p>`));
  }
  const { prompt, params } = details;

  if (prompt.name === 'consent') {
    // Not expected (loadExistingGrant grants everything), but never ask.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  if (action === undefined && req.method === 'GET') {
    return send(res, 200, loginPage(uid, params.client_id, null, params.login_hint));
  }
  if (action === 'login' && req.method === 'POST') {
    const login = new URLSearchParams(await readBody(req)).get('login');
    const account = findAccountByLogin(login);
    if (!account) {
      return send(res, 400, loginPage(uid, params.client_id, 'No account with that email address or subject.', login));
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub } },
      { mergeWithLastSubmission: false },
    );
  }
  res.setHeader('Allow', action ? 'POST' : 'GET');
  return send(res, 405, page('Error', '<h1>Method not allowed</h1>'));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, issuer);
  const done = (promise) => promise.catch((err) => {
    process.stderr.write(`oidc test provider: ${req.method} ${url.pathname}: ${err.message}\n`);
    if (!res.headersSent) send(res, 500, page('Error', '<h1>Internal error</h1>'));
    else res.end();
  });
  if (url.pathname.startsWith('/test/')) return done(handleTest(req, res, url));
  const m = /^\/interaction\/([^/]+)(?:\/(login))?$/.exec(url.pathname);
  if (m) return done(handleInteraction(req, res, m[1], m[2]));
  return current.handler(req, res);
});

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (cfg.exit_on_stdin_close !== false) {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

server.on('error', (err) => fail(`cannot listen: ${err.message}`));
server.listen(port, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  current = buildProvider(issuer);
  process.stdout.write(`READY ${issuer}\n`);
});

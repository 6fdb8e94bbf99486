// End-to-end check of tests/oidc/provider.mjs without a browser:
//
//   node tests/oidc/selfcheck.mjs
//
// Starts the provider (on a free port), walks the authorization code flow with
// PKCE through the login form with a cookie jar, exchanges the code, verifies
// the ID token against the JWKS, then exercises /test/rotate and /test/tamper.
// Prints one line per check and exits non-zero on the first failure.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tools = process.env.MEELOOP_TOOLS || path.join(os.homedir(), '.cache', 'meeloop');
const jose = await import(pathToFileURL(
  createRequire(path.join(tools, 'oidc', 'package.json')).resolve('jose'),
).href);

const CLIENT = {
  client_id: 'meeloop-test',
  client_secret: 'not-a-real-secret-0123456789',
  redirect_uris: ['http://127.0.0.1:9/auth/callback'],
};
const ACCOUNT = { sub: 'user-1', email: 'ada@example.org', email_verified: true, name: 'Ada Lovelace' };

let passed = 0;
function check(cond, what, detail) {
  if (!cond) {
    throw new Error(`FAILED: ${what}${detail === undefined ? '' : ` (${JSON.stringify(detail)})`}`);
  }
  passed += 1;
  process.stdout.write(`ok ${passed} - ${what}\n`);
}

// ------------------------------------------------------------- cookie jar ---

class Jar {
  cookies = new Map(); // "name;path" -> { name, value, path }

  store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cpath = '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v] = attr.split('=');
        if (k.toLowerCase() === 'path') cpath = v;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const key = `${name};${cpath}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path: cpath });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

async function request(jar, method, url, { form, headers = {} } = {}) {
  const h = { ...headers };
  const cookie = jar?.header(url);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
  jar?.store(res);
  return res;
}

// ---------------------------------------------------------------- helpers ---

let issuer;
let discovery;

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authUrl({ state, nonce, challenge, extra = {} }) {
  const u = new URL(discovery.authorization_endpoint);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT.client_id,
    redirect_uri: CLIENT.redirect_uris[0],
    scope: 'openid email profile',
    state,
    nonce,
    ...(challenge ? { code_challenge: challenge, code_challenge_method: 'S256' } : {}),
    ...extra,
  }).toString();
  return u.href;
}

// Follows redirects from `url` until the client's redirect_uri or a page.
async function follow(jar, url) {
  let current = url;
  for (let i = 0; i < 10; i += 1) {
    if (current.startsWith(CLIENT.redirect_uris[0])) return { callback: new URL(current) };
    const res = await request(jar, 'GET', current);
    if (res.status >= 300 && res.status < 400) {
      current = new URL(res.headers.get('location'), current).href;
      continue;
    }
    return { res, url: current, html: await res.text() };
  }
  throw new Error('too many redirects');
}

async function login(jar, formUrl, loginValue) {
  const res = await request(jar, 'POST', new URL(formUrl).href.replace(/\/?$/, '/login'), {
    form: { login: loginValue },
  });
  return res;
}

async function exchange(code, verifier, { post = false } = {}) {
  const form = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: CLIENT.redirect_uris[0],
    code_verifier: verifier,
  };
  const headers = {};
  if (post) {
    form.client_id = CLIENT.client_id;
    form.client_secret = CLIENT.client_secret;
  } else {
    const enc = (s) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(CLIENT.client_id)}:${enc(CLIENT.client_secret)}`).toString('base64')}`;
  }
  const res = await request(null, 'POST', discovery.token_endpoint, { form, headers });
  return { status: res.status, body: await res.json() };
}

async function jwks() {
  const res = await fetch(discovery.jwks_uri);
  return res.json();
}

async function verify(idToken) {
  const set = jose.createLocalJWKSet(await jwks());
  return jose.jwtVerify(idToken, set, { issuer, algorithms: ['RS256'] });
}

async function verifies(idToken) {
  try {
    await verify(idToken);
    return true;
  } catch {
    return false;
  }
}

// Full flow with a fresh or given jar; returns { idToken, callback }.
async function fullFlow(jar, { loginValue = ACCOUNT.email, post = false, beforeLogin } = {}) {
  const state = crypto.randomBytes(8).toString('hex');
  const nonce = crypto.randomBytes(8).toString('hex');
  const { verifier, challenge } = pkce();
  let step = await follow(jar, authUrl({ state, nonce, challenge }));
  if (!step.callback) {
    check(step.res.status === 200 && /\/interaction\/[^/]+$/.test(new URL(step.url).pathname),
      'authorization request leads to the login page', step.url);
    if (beforeLogin) await beforeLogin();
    const res = await login(jar, step.url, loginValue);
    check(res.status === 303, 'login answers 303', res.status);
    step = await follow(jar, new URL(res.headers.get('location'), step.url).href);
  }
  check(Boolean(step.callback), 'redirected to the redirect_uri');
  const cb = step.callback;
  check(cb.searchParams.get('state') === state, 'callback carries the state');
  check(Boolean(cb.searchParams.get('code')), 'callback carries a code');
  const tok = await exchange(cb.searchParams.get('code'), verifier, { post });
  check(tok.status === 200 && typeof tok.body.id_token === 'string',
    `token endpoint (${post ? 'client_secret_post' : 'client_secret_basic'}) returns an ID token`, tok.status);
  return { idToken: tok.body.id_token, nonce, callback: cb, verifier };
}

// ------------------------------------------------------------------- main ---

const dir = mkdtempSync(path.join(os.tmpdir(), 'meeloop-oidc-'));
const configPath = path.join(dir, 'config.json');
writeFileSync(configPath, JSON.stringify({
  port: 0, clients: [CLIENT], accounts: [ACCOUNT], id_token_ttl: 600,
}));
const child = spawn(process.execPath, [path.join(here, 'provider.mjs'), configPath], {
  stdio: ['pipe', 'pipe', 'inherit'],
});

try {
  issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('provider did not become ready')), 20000);
    child.on('exit', (code) => reject(new Error(`provider exited (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^READY (\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  check(/^http:\/\/127\.0\.0\.1:\d+$/.test(issuer), 'provider prints READY with its issuer', issuer);

  check((await fetch(`${issuer}/test/health`)).status === 200, 'GET /test/health answers 200');

  discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  check(discovery.issuer === issuer, 'discovery names the issuer');
  check(discovery.code_challenge_methods_supported?.includes('S256'), 'discovery offers S256 PKCE');

  // --- PKCE is required
  {
    const { callback } = await follow(new Jar(), authUrl({ state: 's', nonce: 'n' }));
    check(callback?.searchParams.get('error') === 'invalid_request', 'authorization without PKCE is refused',
      callback?.search);
  }

  // --- first login, with a wrong login first
  const jarA = new Jar();
  const state = 'state-a';
  const nonce = 'nonce-a';
  const { verifier, challenge } = pkce();
  const page = await follow(jarA, authUrl({ state, nonce, challenge }));
  check(page.res?.status === 200, 'login page answers 200', page.res?.status);
  check(/<html lang="en">/.test(page.html) && /<title>[^<]+<\/title>/.test(page.html), 'login page is html lang=en with a title');
  check(/<label for="login">/.test(page.html) && /<input id="login" name="login"/.test(page.html), 'login page labels its login field');
  const uid = new URL(page.url).pathname.split('/').pop();
  check(page.html.includes(`action="/interaction/${uid}/login"`), 'form posts to /interaction/:uid/login');
  let res = await login(jarA, page.url, 'nobody@example.org');
  const bad = await res.text();
  check(res.status === 400 && bad.includes('role="alert"') && bad.includes('<form'), 'unknown login shows the form again with an error', res.status);
  res = await login(jarA, page.url, ACCOUNT.email);
  check(res.status === 303, 'known login answers 303', res.status);
  const step = await follow(jarA, new URL(res.headers.get('location'), page.url).href);
  check(Boolean(step.callback), 'login goes straight back to the redirect_uri (no consent)');
  check(step.callback.searchParams.get('state') === state, 'callback state matches');
  check(step.callback.searchParams.get('iss') === issuer, 'callback carries iss (RFC 9207)');
  const code = step.callback.searchParams.get('code');
  const wrong = await exchange(code, pkce().verifier);
  check(wrong.status === 400 && wrong.body.error === 'invalid_grant', 'wrong code_verifier is refused', wrong.body);
  // a code is single use: the failed attempt above consumed it, start over
  const a = await fullFlow(jarA, {}); // same jar: the session means no login form
  const { payload: pa, protectedHeader: ha } = await verify(a.idToken);
  check(pa.iss === issuer && pa.aud === CLIENT.client_id, 'ID token iss and aud', { iss: pa.iss, aud: pa.aud });
  check(pa.nonce === a.nonce, 'ID token nonce');
  check(pa.sub === ACCOUNT.sub && pa.email === ACCOUNT.email && pa.email_verified === true && pa.name === ACCOUNT.name,
    'ID token carries sub, email, email_verified, name', pa);
  check(pa.exp - pa.iat === 600, 'ID token lifetime is id_token_ttl', pa.exp - pa.iat);
  check(ha.alg === 'RS256' && Boolean(ha.kid), 'ID token is RS256 with a kid', ha);

  // --- rotation in the middle of a login
  let newKid;
  const b = await fullFlow(new Jar(), {
    post: true,
    loginValue: ACCOUNT.sub,
    beforeLogin: async () => {
      const r = await fetch(`${issuer}/test/rotate`, { method: 'POST' });
      newKid = (await r.json()).kid;
      check(r.status === 200 && Boolean(newKid) && newKid !== ha.kid, 'POST /test/rotate answers a new kid');
    },
  });
  const { payload: pb, protectedHeader: hb } = await verify(b.idToken);
  check(hb.kid === newKid, 'after rotation the ID token has the new kid (login begun before it finished)');
  check(pb.nonce === b.nonce && pb.email === ACCOUNT.email, 'rotated ID token claims');
  const keys = (await jwks()).keys.map((k) => k.kid);
  check(keys[0] === newKid && keys.includes(ha.kid) && keys.length === 2, 'JWKS lists the new key first and keeps the old', keys);
  check(!(await jwks()).keys.some((k) => 'd' in k), 'JWKS holds public keys only');
  check(await verifies(a.idToken), 'token signed before the rotation still verifies');

  // --- tamper: aud, once
  const jarC = new Jar();
  let r = await fetch(`${issuer}/test/tamper`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ claims: { aud: 'someone-else' } }),
  });
  check(r.status === 204, 'POST /test/tamper answers 204');
  const c = await fullFlow(jarC);
  const { payload: pc, protectedHeader: hc } = await verify(c.idToken);
  check(pc.aud === 'someone-else' && hc.kid === newKid, 'tampered ID token has the new aud and verifies', pc.aud);
  check(pc.nonce === c.nonce && pc.email === ACCOUNT.email, 'tampered ID token keeps the other claims');
  const d = await fullFlow(jarC);
  check(jose.decodeJwt(d.idToken).aud === CLIENT.client_id, 'tamper applies once only');

  // --- tamper: nonce and a bad signature
  await fetch(`${issuer}/test/tamper`, { method: 'POST', body: JSON.stringify({ claims: { nonce: 'wrong' } }) });
  const e = await fullFlow(jarC);
  check(jose.decodeJwt(e.idToken).nonce === 'wrong' && await verifies(e.idToken), 'nonce tamper');
  await fetch(`${issuer}/test/tamper`, { method: 'POST', body: JSON.stringify({ unsigned_key: true }) });
  const f = await fullFlow(jarC);
  check(jose.decodeProtectedHeader(f.idToken).kid === newKid && !(await verifies(f.idToken)),
    'unsigned_key tamper: current kid, signature does not verify');

  // --- rotate with drop
  r = await fetch(`${issuer}/test/rotate?drop=1`, { method: 'POST' });
  const lastKid = (await r.json()).kid;
  const kidsAfterDrop = (await jwks()).keys.map((k) => k.kid);
  check(kidsAfterDrop.length === 1 && kidsAfterDrop[0] === lastKid, 'rotate?drop=1 publishes only the new key', kidsAfterDrop);
  check(!(await verifies(b.idToken)), 'tokens signed with dropped keys no longer verify');
  const g = await fullFlow(jarC);
  check(jose.decodeProtectedHeader(g.idToken).kid === lastKid && await verifies(g.idToken), 'session survives rotation; new token verifies');

  process.stdout.write(`${passed} passed, 0 failed\n`);
} catch (err) {
  process.stdout.write(`${err.message}\n${passed} passed, 1 failed\n`);
  process.exitCode = 1;
} finally {
  child.stdin.end(); // the provider exits when its stdin closes
  await new Promise((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.on('exit', resolve);
  });
  rmSync(dir, { recursive: true, force: true });
}

// The route steps on their own, each mounted on a bare Koa app over real HTTP with its real dependencies: reading a
// form, the CSRF check, the Identity Link's parameters, sign-in/sign-up, the session; and the API-key cache and the
// flash message under an injected clock.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import type { ExecutionContext } from 'ava';
import Koa, { type Middleware } from 'koa';
import { Accounts } from '../../src/accounts/accounts.js';
import { ActivationService } from '../../src/activation/service.js';
import { OffsetClock } from '../../src/clock.js';
import { DEFAULT_DURATIONS, DEFAULT_LIMITS, loadConfig } from '../../src/config.js';
import { ApiKeyCache } from '../../src/http/auth.js';
import { csrfToken } from '../../src/http/cookies.js';
import { handleErrors } from '../../src/http/error-handler.js';
import { FLASH_LIFE_MS, FlashMessages } from '../../src/http/flash.js';
import { requestId } from '../../src/http/middleware.js';
import { checkCsrf } from '../../src/http/steps/check-csrf.js';
import { readIdentityLink } from '../../src/http/steps/identity-link.js';
import { loadIdentity } from '../../src/http/steps/load-identity.js';
import { readForm } from '../../src/http/steps/read-form.js';
import { requireSession } from '../../src/http/steps/require-session.js';
import { signInOrUp } from '../../src/http/steps/sign-in-or-up.js';
import { createRenderer } from '../../src/http/views.js';
import type { IdentityState } from '../../src/http/state.js';
import { createLogger } from '../../src/log.js';
import { createTokenEndpoints } from '../../src/protocol/token-endpoints.js';
import { createTransport } from '../../src/protocol/transport.js';
import { Browser } from '../helpers/connector.js';
import { forEachBackend, freshStorage } from '../helpers/db.js';

const PASSWORD = 'correct horse battery';
const CSRF_KEY = Buffer.alloc(32, 7);
const config = loadConfig({ PORT: '0', PUBLIC_URL: 'http://127.0.0.1' }, {});

/** A bare app: the error handler, then `mount` adds routes. */
async function serve(t: ExecutionContext, mount: (router: Router) => void): Promise<string> {
  const koa = new Koa();
  koa.silent = true;
  koa.use(requestId);
  koa.use(handleErrors({ logger: createLogger('silent'), render: createRenderer() }));
  const router = new Router();
  mount(router);
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  const server = koa.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const echoState: Middleware = (ctx) => void (ctx.body = ctx.state);

forEachBackend((backend, test) => {
  test('readForm: fields as parsed once (a repeated one is a list), only url-encoded, within the limit', async (t) => {
    const url = await serve(t, (r) => r.post('/f', readForm(64), echoState));
    const browser = new Browser();
    const ok = await browser.request('POST', `${url}/f`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=x+y&a=2&c=' });
    t.deepEqual(JSON.parse(ok.text).form, { a: ['1', '2'], b: 'x y', c: '' });
    const json = await browser.request('POST', `${url}/f`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    t.is(json.status, 415);
    t.regex(json.text, /Send the form as application\/x-www-form-urlencoded/);
    const big = await browser.request('POST', `${url}/f`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `a=${'x'.repeat(100)}` });
    t.is(big.status, 413);
  });

  test('checkCsrf: the token of this browser\'s cookie passes; none, a changed one or another browser\'s do not', async (t) => {
    const url = await serve(t, (r) => {
      r.get('/token', (ctx) => void (ctx.body = csrfToken(ctx, config, CSRF_KEY)));
      r.post('/f', readForm(1024), checkCsrf(CSRF_KEY), (ctx) => void (ctx.body = 'passed'));
    });
    const browser = new Browser();
    const token = (await browser.get(`${url}/token`)).text;
    const other = (await new Browser().get(`${url}/token`)).text;
    t.is((await browser.post(`${url}/f`, { csrf: token })).text, 'passed');
    for (const [what, csrf] of [['none', undefined], ['changed', token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')], ['another browser', other]] as const) {
      const res = await browser.post(`${url}/f`, csrf === undefined ? {} : { csrf });
      t.is(res.status, 403, what);
      t.regex(res.text, /This form expired or was not sent from this page/, what);
    }
    const noCookie = new Browser();
    t.is((await noCookie.post(`${url}/f`, { csrf: token })).status, 403, 'without the cookie');
  });

  test('readIdentityLink: the consumer key lower-cased, success_call_back only when a web address', async (t) => {
    const url = await serve(t, (r) => {
      r.get('/identity', readIdentityLink('query'), echoState);
      r.post<IdentityState>('/identity', readForm(1024), readIdentityLink('form'), echoState);
    });
    const key = 'ABCDEF0123456789abcdef0123456789';
    const ok = await fetch(`${url}/identity?oauth_consumer_key=${key}&success_call_back=${encodeURIComponent('https://shop.example/back')}`);
    t.deepEqual((await ok.json()).link, { consumerKey: key.toLowerCase(), successCallBack: 'https://shop.example/back' });
    const posted = await new Browser().post(`${url}/identity`, { oauth_consumer_key: key, success_call_back: '' });
    t.deepEqual(JSON.parse(posted.text).link, { consumerKey: key.toLowerCase(), successCallBack: null });
    const missing = await fetch(`${url}/identity`);
    t.is(missing.status, 400);
    t.regex(await missing.text(), /<h1>This link is incomplete<\/h1>/);
    const garbled = await fetch(`${url}/identity?oauth_consumer_key=${key}&success_call_back=javascript%3Aalert(1)`);
    t.is(garbled.status, 400);
    t.regex(await garbled.text(), /<h1>This link is garbled<\/h1>/);
  });

  test('loadIdentity: the binding of the link\'s consumer key on ctx.state; an unknown one is a 404 page with the fix', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const consumerKey = 'abcdef0123456789abcdef0123456789';
    await storage.bindings.create({
      id: 'b-1',
      consumerKey,
      storeBaseUrl: 'https://shop.example/',
      state: 'request_token',
      consumerSecret: 'secret0123456789secret0123456789',
      verifier: null,
      callbackAt: new Date(),
    });
    // The real activation service over the test's storage; its token endpoints are never reached by this step.
    const transport = createTransport({ allowPrivate: true, connectTimeoutMs: 1_000, totalTimeoutMs: 2_000, maxResponseBytes: 65_536 });
    const activation = new ActivationService({
      storage,
      tokenEndpoints: createTokenEndpoints({ transport, timeoutMs: 2_000, clock: new OffsetClock() }),
      clock: new OffsetClock(),
      durations: DEFAULT_DURATIONS,
      limits: DEFAULT_LIMITS,
      logger: createLogger('silent'),
      allowPrivateStoreUrls: true,
    });
    t.teardown(() => transport.close());
    const url = await serve(t, (r) => {
      r.get<IdentityState>('/identity', readIdentityLink('query'), loadIdentity(activation), (ctx) => void (ctx.body = { id: ctx.state.binding.id }));
    });
    t.deepEqual(await (await fetch(`${url}/identity?oauth_consumer_key=${consumerKey.toUpperCase()}`)).json(), { id: 'b-1' });
    const unknown = await fetch(`${url}/identity?oauth_consumer_key=${'0'.repeat(32)}`);
    t.is(unknown.status, 404);
    const text = await unknown.text();
    t.regex(text, /<h1>We do not know this activation yet<\/h1>/);
    t.regex(text, /<p class="fix"><strong>What to do:<\/strong> In the Magento admin, open System &gt; Extensions &gt; Integrations and click Activate/);
  });

  test('signInOrUp and requireSession: a session for the right password; a refusal goes to the route\'s form with its status', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const accounts = new Accounts({ storage, clock, durations: DEFAULT_DURATIONS, limits: DEFAULT_LIMITS });
    await accounts.signUp('m@example.com', PASSWORD);
    const url = await serve(t, (r) => {
      for (const kind of ['login', 'signup'] as const) {
        r.post(
          `/${kind}`,
          readForm(1024),
          signInOrUp({ accounts, config }, kind, (ctx, refusal) => {
            ctx.status = refusal.status;
            ctx.body = refusal;
          }),
          (ctx) => void (ctx.body = { signedIn: ctx.state.account.email }),
        );
      }
      r.get('/me', requireSession(accounts), (ctx) => void (ctx.body = ctx.state.account.email));
      r.post('/me', requireSession(accounts), (ctx) => void (ctx.body = ctx.state.account.email));
    });
    const browser = new Browser();
    const anonymous = await browser.get(`${url}/me`);
    t.is(anonymous.status, 302);
    t.is(anonymous.location, '/account/login');
    const anonymousPost = await browser.post(`${url}/me`, {});
    t.is(anonymousPost.status, 401);
    t.regex(anonymousPost.text, /Your session has ended\. Sign in again\./);

    const wrong = await browser.post(`${url}/login`, { email: 'm@example.com', password: 'not the password' });
    t.is(wrong.status, 401);
    t.deepEqual(JSON.parse(wrong.text), { kind: 'login', status: 401, error: 'That email and password do not match an account.', email: 'm@example.com' });
    const taken = await browser.post(`${url}/signup`, { email: 'M@example.com', password: PASSWORD });
    t.is(taken.status, 409);
    t.is(JSON.parse(taken.text).kind, 'signup');
    t.false(browser.cookies.has('mc_session'));

    const right = await browser.post(`${url}/login`, { email: 'm@example.com', password: PASSWORD });
    t.deepEqual(JSON.parse(right.text), { signedIn: 'm@example.com' });
    t.true(browser.cookies.has('mc_session'));
    t.is((await browser.get(`${url}/me`)).text, 'm@example.com');
  });

  test('ApiKeyCache: a hit until the TTL on the injected clock, never more than max keys, a revoked key forgotten at once', async (t) => {
    const { storage } = await freshStorage(backend, t);
    const clock = new OffsetClock();
    const accounts = new Accounts({ storage, clock, durations: DEFAULT_DURATIONS, limits: DEFAULT_LIMITS });
    const account = await accounts.signUp('k@example.com', PASSWORD);
    const keys = await Promise.all(Array.from({ length: 4 }, (_, i) => accounts.createApiKey(account.id, `k${i}`)));
    const cache = new ApiKeyCache(accounts, clock, 60_000, 3);

    const [first] = keys;
    // Who the key is, and nothing more (the cache holds this for up to max keys).
    t.deepEqual(await cache.authenticate(first!.key), { id: first!.record.id, accountId: account.id });
    // Revoked in storage (another instance did it): this instance still knows the key until the TTL has passed.
    t.truthy(await storage.apiKeys.revoke(first!.record.id, account.id, clock.now()));
    t.is((await cache.authenticate(first!.key))?.id, first!.record.id, 'cached');
    clock.advance(59_000);
    t.truthy(await cache.authenticate(first!.key), 'still within the TTL');
    clock.advance(2_000);
    t.is(await cache.authenticate(first!.key), null, 'past the TTL: read again, and refused');

    for (const { key } of keys.slice(1)) t.truthy(await cache.authenticate(key));
    t.is(cache.size, 3);
    t.truthy(await cache.authenticate(keys[1]!.key));
    t.is(await cache.authenticate('mck_not-a-key'), null);
    t.is(cache.size, 3, 'bounded, and a wrong key is not cached');

    // Revoked through Accounts: the key to evict comes back, and then the key fails at once.
    const second = keys[1]!;
    const revoked = await accounts.revokeApiKey(account.id, second.record.id);
    t.is(revoked?.hash, second.record.hash);
    cache.forget(revoked!.hash);
    t.is(await cache.authenticate(second.key), null);
    t.is(await accounts.revokeApiKey(account.id, second.record.id), null, 'already revoked');
    const other = await accounts.signUp('other@example.com', PASSWORD);
    t.is(await accounts.revokeApiKey(other.id, keys[2]!.record.id), null, "another account's key is none of its business");
    t.is((await accounts.listApiKeys(account.id)).filter((k) => k.revokedAt === null).length, 2);

    // Entries past their TTL are dropped by purgeStale (an idle instance holds none), fresh ones stay.
    t.true(cache.size > 0);
    cache.purgeStale();
    t.true(cache.size > 0, 'nothing is stale yet');
    clock.advance(61_000);
    t.truthy(await cache.authenticate(keys[3]!.key), 'cached afresh');
    cache.purgeStale();
    t.is(cache.size, 1, 'only the fresh entry is left');
  });

  test('FlashMessages: shown once, sealed, gone after its life on the injected clock', async (t) => {
    const clock = new OffsetClock();
    const flash = new FlashMessages(CSRF_KEY, config, clock);
    const url = await serve(t, (r) => {
      r.post('/set', (ctx) => {
        flash.set(ctx, { newKey: 'mck_secret-value', notice: 'done' });
        ctx.status = 303;
        ctx.redirect('/show');
      });
      r.get('/show', (ctx) => void (ctx.body = { flash: flash.take(ctx) }));
    });
    const browser = new Browser();
    const posted = await browser.request('POST', `${url}/set`);
    t.is(posted.status, 303);
    const cookie = browser.cookies.get('mc_flash')!;
    t.truthy(cookie);
    t.false(cookie.includes('secret') || Buffer.from(cookie, 'base64url').toString('latin1').includes('mck_'), 'sealed');
    t.deepEqual(JSON.parse((await browser.get(`${url}/show`)).text), { flash: { newKey: 'mck_secret-value', notice: 'done' } });
    t.deepEqual(JSON.parse((await browser.get(`${url}/show`)).text), { flash: null }, 'once');

    await browser.request('POST', `${url}/set`);
    clock.advance(FLASH_LIFE_MS + 1);
    t.deepEqual(JSON.parse((await browser.get(`${url}/show`)).text), { flash: null }, 'expired');

    await browser.request('POST', `${url}/set`);
    const sealed = browser.cookies.get('mc_flash')!;
    browser.cookies.set('mc_flash', sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA'));
    t.deepEqual(JSON.parse((await browser.get(`${url}/show`)).text), { flash: null }, 'tampered');
  });
});

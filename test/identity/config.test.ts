// The identity settings: what is refused at start, and what LOCAL_ACCOUNTS=false hides.
import test from 'ava';
import { checkConfig, ConfigError, loadConfig } from '../../src/config.js';
import { forEachBackend } from '../helpers/db.js';
import { Browser, hiddenFields, startConnector } from '../helpers/connector.js';
import { startProvider } from '../helpers/oidc.js';

const OIDC = { OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'connector', OIDC_CLIENT_SECRET: 's3cret' };
const load = (env: Record<string, string>) => checkConfig(loadConfig(env));

test('defaults: local accounts on, no OIDC, mail to the outbox, a From address on PUBLIC_URL\'s host', (t) => {
  const { identity } = load({ PUBLIC_URL: 'https://connector.example.com' });
  t.true(identity.localAccounts);
  t.is(identity.oidc, null);
  t.is(identity.smtpUrl, null);
  t.is(identity.mailFrom, 'Magento Connector <no-reply@connector.example.com>');
  t.is(identity.resetLinkLifeMs, 30 * 60_000);
});

test('OIDC settings are read, with the button\'s words', (t) => {
  const { identity } = load({ ...OIDC, OIDC_NAME: 'Acme CRM', LOCAL_ACCOUNTS: 'false', SMTP_URL: 'smtp://mail.example.com:587', MAIL_FROM: 'Acme <no-reply@acme.example>' });
  t.deepEqual(identity.oidc, { issuer: OIDC.OIDC_ISSUER, clientId: 'connector', clientSecret: 's3cret', name: 'Acme CRM', allowHttp: false });
  t.false(identity.localAccounts);
  t.is(identity.smtpUrl, 'smtp://mail.example.com:587');
  t.is(identity.mailFrom, 'Acme <no-reply@acme.example>');
});

test('refused at start: neither local accounts nor OIDC; OIDC without its client; an http issuer unless allowed; a client without an issuer', (t) => {
  t.throws(() => load({ LOCAL_ACCOUNTS: 'false' }), { instanceOf: ConfigError, message: /nobody can sign in/ });
  t.throws(() => load({ OIDC_ISSUER: 'https://id.example.com' }), { instanceOf: ConfigError, message: /OIDC_CLIENT_ID and OIDC_CLIENT_SECRET/ });
  t.throws(() => load({ ...OIDC, OIDC_CLIENT_SECRET: '' }), { instanceOf: ConfigError });
  t.throws(() => load({ ...OIDC, OIDC_ISSUER: 'http://id.example.com' }), { instanceOf: ConfigError, message: /https/ });
  t.notThrows(() => load({ ...OIDC, OIDC_ISSUER: 'http://127.0.0.1:9000', OIDC_ALLOW_HTTP: 'true' }));
  t.throws(() => load({ OIDC_CLIENT_ID: 'x' }), { instanceOf: ConfigError, message: /without OIDC_ISSUER/ });
  t.throws(() => load({ OIDC_ISSUER: 'not a url' }), { instanceOf: ConfigError });
  t.throws(() => load({ LOCAL_ACCOUNTS: 'maybe' }), { instanceOf: ConfigError });
});

forEachBackend((backend, test) => {
  test('LOCAL_ACCOUNTS=false: no email or password field anywhere, and their forms answer 404 with a page', async (t) => {
    const idp = await startProvider(t, []);
    const connector = await startConnector(backend, t, { env: idp.connectorEnv({ LOCAL_ACCOUNTS: 'false' }) });
    await idp.register(`${connector.url}/oidc/callback`);
    const browser = new Browser();
    const login = await browser.get(`${connector.url}/account/login`);
    t.is(login.status, 200);
    t.regex(login.text, /Sign in with Acme CRM/);
    t.notRegex(login.text, /type="password"|name="email"|Forgot password/);
    const csrf = hiddenFields(login.text).csrf!;
    for (const path of ['/account/login', '/account/signup', '/magento/identity/login', '/magento/identity/signup', '/account/password/forgot']) {
      const res = await browser.post(`${connector.url}${path}`, { csrf, email: 'a@example.com', password: 'correct horse battery' });
      t.is(res.status, 404, path);
      t.regex(res.text, /Email and password sign-in is turned off here/, path);
    }
    t.is((await browser.get(`${connector.url}/account/password/reset?token=x`)).status, 404);
    t.is(await connector.running.services.storage.accounts.byEmail('a@example.com'), null);
  });
});

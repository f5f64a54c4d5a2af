// The identity popup: broken links, CSRF on its two forms, and sign-in throttling (kept in the database, so every
// instance sees the same counters).
import { forEachBackend } from '../helpers/db.js';
import {
  Browser,
  type Connector,
  createAndActivate,
  hiddenFields,
  MERCHANT,
  type PageResponse,
  popupBase,
  PASSWORD,
  startConnector,
  startMockStore,
  storeAndConnector,
  testSecretsKey,
  waitForState,
} from '../helpers/connector.js';
import type { ExecutionContext } from 'ava';


/** A page a person can read: HTML, no stack trace, no JSON error. */
function assertPage(t: ExecutionContext, page: PageResponse, status: number, text: RegExp, what: string): void {
  t.is(page.status, status, `${what}: ${page.text.slice(0, 300)}`);
  t.regex(page.headers.get('content-type') ?? '', /^text\/html/, what);
  t.regex(page.text, text, what);
  t.notRegex(page.text, /\bat .*\.(ts|js):\d+|Error:|node_modules|"error":/, `${what}: no stack trace or JSON`);
  t.is(page.headers.get('x-connector-error'), null, what);
}

async function accountsCount(connector: Connector, emails: string[]): Promise<number> {
  let n = 0;
  for (const email of emails) if (await connector.running.services.storage.accounts.byEmail(email)) n++;
  return n;
}

forEachBackend((backend, test) => {
  test('the popup with bad or missing parameters: 400/404 pages that say what to do (an account\'s own popup, and the shared one)', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t, { openSignup: true });
    for (const owner of [MERCHANT, 'shared'] as const) {
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector, `CRM ${owner === 'shared' ? 'shared' : 'own'}`, owner);
    await waitForState(connector, consumerKey, 'request_token');
    const identity = `${connector.url}${popupBase(popupUrl)}`;
    const back = encodeURIComponent(mock.successCallbackUrl);
    const browser = new Browser();

    const cases: [string, string, number, RegExp][] = [
      ['no query', identity, 400, /opened from the Magento admin.*missing the integration(&#39;|')s consumer key/s],
      ['empty query', `${identity}?`, 400, /missing the integration(&#39;|')s consumer key/],
      ['missing oauth_consumer_key', `${identity}?success_call_back=${back}`, 400, /missing the integration(&#39;|')s consumer key/],
      ['empty oauth_consumer_key', `${identity}?oauth_consumer_key=&success_call_back=${back}`, 400, /missing the integration(&#39;|')s consumer key/],
      ['garbled key', `${identity}?oauth_consumer_key=%3Cscript%3Ealert(1)%3C%2Fscript%3E&success_call_back=${back}`, 400, /This link is incomplete/],
      ['repeated key', `${identity}?oauth_consumer_key=${consumerKey}&oauth_consumer_key=${consumerKey}`, 400, /This link is incomplete/],
      ['success_call_back not a URL', `${identity}?oauth_consumer_key=${consumerKey}&success_call_back=not+a+url`, 400, /success_call_back is not a valid web address/],
      ['javascript: success_call_back', `${identity}?oauth_consumer_key=${consumerKey}&success_call_back=javascript%3Aalert(1)`, 400, /success_call_back is not a valid web address/],
      ['repeated success_call_back', `${identity}?oauth_consumer_key=${consumerKey}&success_call_back=${back}&success_call_back=${back}`, 400, /success_call_back is not a valid web address/],
      ['unknown consumer key', `${identity}?oauth_consumer_key=${'0'.repeat(32)}&success_call_back=${back}`, 404, /We have not received Magento(&#39;|')s callback for this integration/],
    ];
    for (const [what, url, status, text] of cases) {
      const page = await browser.get(url);
      assertPage(t, page, status, text, what);
      t.notRegex(page.text, /<script>alert/, `${what}: nothing reflected unescaped`);
      if (status === 404) t.regex(page.text, /click Activate/, `${what}: the fix`);
    }
    const ok = await browser.get(`${identity}?oauth_consumer_key=${consumerKey}&success_call_back=${back}`);
    assertPage(t, ok, 200, /Sign in and connect/, 'the good link');
    }
  });

  test('OPEN_SIGNUP_ACTIVATION, CSRF: sign-in and sign-up without the token, with a wrong one, or without the cookie -> 403 page, no account created', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t, { openSignup: true });
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector);
    await waitForState(connector, consumerKey, 'request_token');
    await connector.running.services.accounts.signUp('existing@example.com', PASSWORD);

    const emails: string[] = [];
    let n = 0;
    for (const form of ['signup', 'login'] as const) {
      for (const attack of ['no csrf field', 'wrong csrf', 'csrf from another browser', 'no csrf cookie']) {
        const browser = new Browser();
        const page = await browser.get(popupUrl);
        t.is(page.status, 200);
        const fields = hiddenFields(page.text);
        t.truthy(fields.csrf);
        const email = form === 'login' ? 'existing@example.com' : `csrf${n++}@example.com`;
        emails.push(email);
        const sent: Record<string, string> = { ...fields, confirm_store: 'yes', email, password: PASSWORD };
        if (attack === 'no csrf field') delete sent.csrf;
        // The real token with its last character changed, so it can never equal the real one.
        if (attack === 'wrong csrf') sent.csrf = fields.csrf!.slice(0, -1) + (fields.csrf!.endsWith('A') ? 'B' : 'A');
        if (attack === 'csrf from another browser') sent.csrf = hiddenFields((await new Browser().get(popupUrl)).text).csrf!;
        if (attack === 'no csrf cookie') browser.cookies.delete('mc_csrf');
        const res = await browser.post(`${connector.url}/magento/identity/${form}`, sent);
        assertPage(t, res, 403, /This form expired or was not sent from this page. Reload the page and submit it again./, `${form}, ${attack}`);
        t.is(browser.cookies.get('mc_session'), undefined, `${form}, ${attack}: no session`);
      }
    }
    t.is(await accountsCount(connector, emails.filter((e) => e !== 'existing@example.com')), 0, 'no account created');
    const b = await connector.binding(consumerKey);
    t.is(b?.state, 'request_token');
    t.is(b?.accountId, null);
  });

  test('throttling: 5 failed sign-ins for one email, then even the right password gets 429 with Retry-After; 20 failures from one address block it; counters are shared through the database', async (t) => {
    const mock = await startMockStore(t);
    const secretsKey = testSecretsKey();
    const first = await startConnector(backend, t, { secretsKey });
    const second = await startConnector(backend, t, { secretsKey, databaseUrl: first.databaseUrl });
    const { consumerKey, popupUrl } = await createAndActivate(mock, first);
    await waitForState(first, consumerKey, 'request_token');
    await first.running.services.accounts.signUp('victim@example.com', PASSWORD);
    await first.running.services.accounts.signUp('other@example.com', PASSWORD);

    const attempt = async (connector: Connector, email: string, password: string) => {
      const browser = new Browser();
      const page = await browser.get(popupUrl.replace(first.url, connector.url));
      return browser.post(`${connector.url}${popupBase(popupUrl)}/login`, { ...hiddenFields(page.text), email, password });
    };

    for (let i = 0; i < 5; i++) {
      const res = await attempt(i % 2 ? second : first, 'victim@example.com', 'wrong password!');
      assertPage(t, res, 401, /That email and password do not match an account/, `failure ${i + 1}`);
      t.regex(res.text, /value="victim@example.com"/, 'the email stays typed');
    }
    for (const connector of [first, second]) {
      const res = await attempt(connector, 'Victim@Example.com', PASSWORD);
      assertPage(t, res, 429, /Too many failed sign-ins\. Wait 15 minutes and try again\.</, 'right password, throttled');
      t.notRegex(res.text, /reset your password/, 'no way out is offered that does not exist');
      t.is(res.headers.get('retry-after'), '900');
      t.is(res.location, null);
    }
    t.is((await first.binding(consumerKey))?.state, 'request_token', 'the throttled sign-in connected nothing');

    // Another email from the same address still works until the address has made 20 attempts (counted before the
    // password is checked, so parallel guesses cannot slip past: the two refused ones above count too).
    const ok = await attempt(second, 'other@example.com', 'wrong password!');
    t.is(ok.status, 401);
    for (let i = 0; i < 12; i++) {
      const res = await attempt(i % 2 ? first : second, `nobody${i}@example.com`, 'wrong password!');
      t.is(res.status, 401, `address attempt ${i + 9}`);
    }
    // 5 + 2 (victim) + 1 (other) + 12 = 20 attempts from this address: the next one is refused, whoever it is for.
    const blocked = await attempt(first, 'other@example.com', PASSWORD);
    assertPage(t, blocked, 429, /Too many failed sign-ins/, 'address throttled');
    t.is(blocked.headers.get('retry-after'), '900');
    t.is((await first.binding(consumerKey))?.state, 'request_token');
    const counters = await first.running.services.storage.throttles.count('ip:127.0.0.1', first.clock.now(), first.config.durations.throttleWindowMs);
    const counters6 = await first.running.services.storage.throttles.count('ip:::ffff:127.0.0.1', first.clock.now(), first.config.durations.throttleWindowMs);
    t.is(counters + counters6, 21, 'the address counter lives in the database (the refused attempt counted too)');
  });

  test('throttling holds against parallel guesses: of 20 wrong passwords sent at once for one email, at most 5 are checked', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t);
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector);
    await waitForState(connector, consumerKey, 'request_token');
    await connector.running.services.accounts.signUp('target@example.com', PASSWORD);
    const browser = new Browser();
    const fields = hiddenFields((await browser.get(popupUrl)).text);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        browser.post(`${connector.url}${popupBase(popupUrl)}/login`, { ...fields, email: 'target@example.com', password: `guess number ${i}` }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    t.is(statuses.filter((s) => s === 401).length + statuses.filter((s) => s === 429).length, 20, statuses.join(' '));
    t.true(statuses.filter((s) => s === 401).length <= 5, `checked ${statuses.filter((s) => s === 401).length} passwords: ${statuses.join(' ')}`);
    const right = await browser.post(`${connector.url}${popupBase(popupUrl)}/login`, { ...fields, email: 'target@example.com', password: PASSWORD });
    t.is(right.status, 429);
  });

  test('OPEN_SIGNUP_ACTIVATION: sign-ups are limited per address: past the limit the popup answers 429 and creates no account', async (t) => {
    const { mock, connector } = await storeAndConnector(backend, t, { openSignup: true, limits: { signupsPerAddress: 2 } });
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector);
    await waitForState(connector, consumerKey, 'request_token');
    const browser = new Browser();
    const fields = hiddenFields((await browser.get(popupUrl)).text);
    const signUp = (email: string, password: string) => browser.post(`${connector.url}/magento/identity/signup`, { ...fields, confirm_store: 'yes', email, password });
    t.is((await signUp('one@example.com', 'short')).status, 400, 'a refused sign-up counts too');
    t.is((await signUp('two@example.com', 'short')).status, 400);
    const third = await signUp('three@example.com', PASSWORD);
    assertPage(t, third, 429, /Too many sign-ups/, 'address limit reached');
    t.is(third.headers.get('retry-after'), '900');
    t.is(await connector.running.services.storage.accounts.byEmail('three@example.com'), null);
  });
});

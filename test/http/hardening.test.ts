// Findings of the security review (issue 13) on the sign-in forms and the pages, each reproduced over real HTTP and
// shown refused: the sign-in throttle's races (parallel guesses, a throttled address locking a victim out, a
// client-chosen X-Forwarded-For, refused requests writing rows), the CSRF token not bound to the session, the
// password policy, an invalid Content-Encoding, X-Frame-Options, and a caller-chosen X-Request-Id.
import { gzipSync } from 'node:zlib';
import { forEachBackend, rawQuery } from '../helpers/db.js';
import { Browser, hiddenFields, startConnector, type Connector } from '../helpers/connector.js';

const PASSWORD = 'correct horse battery staple';

async function loginForm(connector: Connector, browser = new Browser()): Promise<{ browser: Browser; fields: Record<string, string> }> {
  const page = await browser.get(`${connector.url}/account/login`);
  return { browser, fields: hiddenFields(page.text) };
}

const throttleRows = async (backend: Parameters<typeof rawQuery>[0], connector: Connector) =>
  (await rawQuery(backend, connector.databaseUrl, 'SELECT "key" FROM "LoginThrottle"')).map((r) => String(r.key));

forEachBackend((backend, test) => {
  test('(a) 60 parallel wrong guesses from one address: at most 20 get past the throttle to the password check', async (t) => {
    const connector = await startConnector(backend, t);
    await connector.running.services.accounts.signUp('target@example.com', PASSWORD);
    const { browser, fields } = await loginForm(connector);
    // Distinct emails, so only the per-address counter (limit 20) can stop them.
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        browser.post(`${connector.url}/account/login`, { ...fields, email: `guess${i}@example.com`, password: `wrong guess ${i}` }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    const checked = statuses.filter((s) => s === 401).length; // 401: the password was checked (and wrong)
    t.is(checked + statuses.filter((s) => s === 429).length, 60, statuses.join(' '));
    t.true(checked <= 20, `${checked} guesses reached the password check: ${statuses.join(' ')}`);
    t.true(checked >= 1, 'the first guesses are checked');
    // Still throttled for the right password too.
    const right = await browser.post(`${connector.url}/account/login`, { ...fields, email: 'target@example.com', password: PASSWORD });
    t.is(right.status, 429);
  });

  test('(b, c) behind TRUST_PROXY: a throttled address cannot lock a victim out, and rotating the client-chosen X-Forwarded-For entries does not escape the throttle', async (t) => {
    const connector = await startConnector(backend, t, { env: { TRUST_PROXY: 'true' } });
    await connector.running.services.accounts.signUp('victim@example.com', PASSWORD);
    const { browser, fields } = await loginForm(connector);
    // Our proxy appends the address it saw (203.0.113.7); everything left of it is the attacker's invention.
    const fromAttacker = (i: number, email: string) =>
      browser.request('POST', `${connector.url}/account/login`, {
        form: { ...fields, email, password: `wrong guess ${i}` },
        headers: { 'x-forwarded-for': `10.${i % 250}.0.1, 192.0.2.${i % 250}, 203.0.113.7` },
      });
    for (let i = 0; i < 20; i++) t.is((await fromAttacker(i, `nobody${i}@example.com`)).status, 401, `guess ${i + 1}`);
    for (let i = 20; i < 26; i++) {
      t.is((await fromAttacker(i, 'victim@example.com')).status, 429, `guess ${i + 1}: the address is throttled, whatever the left-most entries say`);
    }
    const counted = await connector.running.services.storage.throttles.count('email:victim@example.com', connector.clock.now(), connector.config.durations.throttleWindowMs);
    t.is(counted, 0, 'the throttled address did not count against the victim\'s email');
    t.false((await throttleRows(backend, connector)).some((k) => k.includes('10.') || k.includes('192.0.2.')), 'no counter for an invented address');

    // The victim, from its own address, signs in at once.
    const victim = await loginForm(connector);
    const ok = await victim.browser.request('POST', `${connector.url}/account/login`, {
      form: { ...victim.fields, email: 'victim@example.com', password: PASSWORD },
      headers: { 'x-forwarded-for': '198.51.100.1' },
    });
    t.is(ok.status, 302, ok.text.slice(0, 300));
    t.is(ok.location, '/account');
  });

  test('(d) the email is validated before anything is counted, and a throttled address writes no row per new email', async (t) => {
    const connector = await startConnector(backend, t, { limits: { loginFailuresPerAddress: 2 } });
    const { browser, fields } = await loginForm(connector);
    const huge = `${'x'.repeat(15_000)}@example.com`;
    const invalid = await browser.post(`${connector.url}/account/login`, { ...fields, email: huge, password: 'whatever it is' });
    t.is(invalid.status, 400);
    t.regex(invalid.text, /Enter a valid email address/);
    t.deepEqual(await throttleRows(backend, connector), [], 'an invalid email writes nothing');

    for (let i = 0; i < 2; i++) t.is((await browser.post(`${connector.url}/account/login`, { ...fields, email: `a${i}@example.com`, password: 'wrong guess' })).status, 401);
    const before = await throttleRows(backend, connector);
    for (let i = 0; i < 10; i++) {
      const res = await browser.post(`${connector.url}/account/login`, { ...fields, email: `new${i}-${'y'.repeat(200)}@example.com`, password: 'wrong guess' });
      t.is(res.status, 429);
    }
    const after = await throttleRows(backend, connector);
    t.deepEqual(after.sort(), before.sort(), 'refused requests added no counter rows');
    t.true(after.every((k) => k.length <= 300), 'every counter key is bounded');
  });

  test('a planted mc_csrf cookie with its token does not let a cross-site form create an API key', async (t) => {
    const connector = await startConnector(backend, t);
    await connector.running.services.accounts.signUp('victim@example.com', PASSWORD);
    // The attacker obtains a seed and its token from the sign-in page, signed in to an account of its own or not.
    const attacker = await loginForm(connector);
    const seed = attacker.browser.cookies.get('mc_csrf')!;
    const attackerToken = attacker.fields.csrf!;
    t.truthy(seed);
    await connector.running.services.accounts.signUp('attacker@example.com', PASSWORD);
    const signedIn = await attacker.browser.post(`${connector.url}/account/login`, { ...attacker.fields, email: 'attacker@example.com', password: PASSWORD });
    t.is(signedIn.status, 302);
    const attackerPage = await attacker.browser.get(`${connector.url}/account`);
    const attackerSessionToken = hiddenFields(attackerPage.text).csrf!;

    // The victim signs in; then the attacker plants its seed cookie (a sibling host, or plain http) and the victim
    // loads the attacker's page, whose form posts to ours with the attacker's token.
    const victim = await loginForm(connector);
    t.is((await victim.browser.post(`${connector.url}/account/login`, { ...victim.fields, email: 'victim@example.com', password: PASSWORD })).status, 302);
    victim.browser.cookies.set('mc_csrf', seed);
    const account = (await connector.running.services.storage.accounts.byEmail('victim@example.com'))!;
    for (const token of [attackerToken, attackerSessionToken]) {
      const forged = await victim.browser.post(`${connector.url}/account/api-keys`, { csrf: token, name: 'planted' });
      t.is(forged.status, 403, forged.text.slice(0, 300));
      t.regex(forged.text, /This form expired or was not sent from this page/);
    }
    t.deepEqual(await connector.running.services.accounts.listApiKeys(account.id), [], 'no key was created');

    // The victim's own page still works (its token names its session), with the planted seed or a fresh one.
    const own = hiddenFields((await victim.browser.get(`${connector.url}/account`)).text).csrf!;
    const created = await victim.browser.post(`${connector.url}/account/api-keys`, { csrf: own, name: 'mine' });
    t.is(created.status, 303, created.text.slice(0, 300));
    t.deepEqual((await connector.running.services.accounts.listApiKeys(account.id)).map((k) => k.name), ['mine']);
    // A token of the page rendered before signing in does not carry over to the signed-in session either.
    const stale = await victim.browser.post(`${connector.url}/account/api-keys`, { csrf: victim.fields.csrf!, name: 'stale' });
    t.is(stale.status, 403);
  });

  test('passwords: common ones, one repeated character and whitespace are refused at sign-up and change, with what to do; length counts code points', async (t) => {
    const connector = await startConnector(backend, t);
    const { browser, fields } = await loginForm(connector);
    const signUp = (email: string, password: string) => browser.post(`${connector.url}/account/signup`, { ...fields, email, password });
    const refused: [string, RegExp][] = [
      ['1234567890', /list of common passwords/],
      ['password12', /list of common passwords/],
      ['Password12', /list of common passwords/],
      ['          ', /only spaces/],
      ['\t \t \t \t \t ', /only spaces/],
      ['aaaaaaaaaaaaaa', /one repeated character/],
      ['😀🙂😎🤖👻', /10 to 256 characters/], // 10 UTF-16 units, 5 characters
    ];
    for (const [i, [password, message]] of refused.entries()) {
      const res = await signUp(`refused${i}@example.com`, password);
      t.is(res.status, 400, JSON.stringify(password));
      t.regex(res.text, message, JSON.stringify(password));
      t.is(await connector.running.services.storage.accounts.byEmail(`refused${i}@example.com`), null);
    }
    const emoji = await signUp('emoji@example.com', '😀🙂😎🤖👻🐙🦊🐝🌵🍉');
    t.is(emoji.status, 302, 'ten emoji are ten characters');

    // The change-password form applies the same policy.
    const page = await browser.get(`${connector.url}/account/password`);
    t.is(page.status, 200);
    const change = await browser.post(`${connector.url}/account/password`, { ...hiddenFields(page.text), current: '😀🙂😎🤖👻🐙🦊🐝🌵🍉', password: 'qwertyuiop' });
    t.is(change.status, 400, change.text.slice(0, 300));
    t.regex(change.text, /list of common passwords/);
  });
});

forEachBackend((backend, test) => {
  test('an invalid Content-Encoding on a form is a 400 page; pages carry X-Frame-Options: DENY; a caller\'s X-Request-Id is echoed and logged beside ours, which the page shows', async (t) => {
    const connector = await startConnector(backend, t);
    const { browser, fields } = await loginForm(connector);
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await browser.request('POST', `${connector.url}/account/login`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': encoding },
        body: new URLSearchParams({ ...fields, email: 'a@example.com', password: 'whatever it is' }).toString(),
      });
      t.is(res.status, 400, `${encoding}: ${res.text.slice(0, 200)}`);
      t.regex(res.headers.get('content-type') ?? '', /text\/html/);
      t.regex(res.text, /not valid (gzip|deflate|br) data/);
    }
    const unknown = await browser.request('POST', `${connector.url}/account/login`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'bogus' },
      body: 'a=b',
    });
    t.is(unknown.status, 415, 'an encoding we do not support: Unsupported Media Type');
    // A real gzip body is read as the form it is.
    const zipped = await fetch(`${connector.url}/account/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip', cookie: `mc_csrf=${browser.cookies.get('mc_csrf')}` },
      body: new Uint8Array(gzipSync(new URLSearchParams({ ...fields, email: 'a@example.com', password: 'whatever it is' }).toString())),
      redirect: 'manual',
    });
    t.is(zipped.status, 401);

    const login = await browser.get(`${connector.url}/account/login`);
    t.is(login.headers.get('x-frame-options'), 'DENY');
    t.regex(login.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);

    const missing = await browser.request('GET', `${connector.url}/no-such-page`, { headers: { 'x-request-id': 'crm-trace-77' } });
    t.is(missing.status, 404);
    t.is(missing.headers.get('x-request-id'), 'crm-trace-77', 'echoed');
    const ours = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(missing.text)?.[0];
    t.truthy(ours, 'the page\'s reference is our own id');
    t.notRegex(missing.text, /crm-trace-77/);
    const line = connector.logs().split('\n').find((l) => l.includes('"callerRequestId":"crm-trace-77"'));
    t.truthy(line, 'the access log carries the caller\'s id');
    t.true(line!.includes(`"requestId":"${ours}"`), 'beside ours');
  });
});

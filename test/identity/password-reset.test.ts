// Forgot password, reset through the mailed link, change while signed in: a real SMTP server in this process
// (smtp-server) receives the mail, the test follows its link like a merchant.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forEachBackend } from '../helpers/db.js';
import {
  Browser,
  createAndActivate,
  finishInPopup,
  hiddenFields,
  startConnector,
  startMockStore,
  waitFor,
  waitForState,
  type Connector,
  type PageResponse,
} from '../helpers/connector.js';
import { linkIn, mailText, startSmtp } from '../helpers/smtp.js';

const OLD = 'correct horse battery';
const NEW = 'a much better passphrase';

async function forgot(browser: Browser, connector: Connector, email: string): Promise<PageResponse> {
  const page = await browser.get(`${connector.url}/account/password/forgot`);
  return browser.post(`${connector.url}/account/password/forgot`, { ...hiddenFields(page.text), email });
}

async function resetWith(browser: Browser, link: string, password: string, confirm = password): Promise<PageResponse> {
  const page = await browser.get(link);
  if (page.status !== 200) return page;
  return browser.post(new URL('/account/password/reset', link).href, { ...hiddenFields(page.text), password, confirm });
}

async function signIn(browser: Browser, connector: Connector, email: string, password: string): Promise<PageResponse> {
  const page = await browser.get(`${connector.url}/account/login`);
  return browser.post(`${connector.url}/account/login`, { ...hiddenFields(page.text), email, password });
}

/** The visible message of a page (its alert). */
const alertOf = (text: string) => /<div class="alert[^"]*"[^>]*>([^<]*)</.exec(text)?.[1] ?? '';

forEachBackend((backend, test) => {
  test('forgot password: the same answer for a known and an unknown email; one plain mail with the link; the link sets the password once, ends every session, clears the sign-in throttle', async (t) => {
    const smtp = await startSmtp(t);
    const connector = await startConnector(backend, t, { env: { SMTP_URL: smtp.url, MAIL_FROM: 'Connector <connector@example.com>' } });
    const { accounts } = connector.running.services;
    const account = await accounts.signUp('merchant@example.com', OLD);
    const elsewhere = await signIn(new Browser(), connector, 'merchant@example.com', OLD);
    t.is(elsewhere.status, 302);
    const oldSession = await accounts.startSession(account.id);
    // Locked out: five failed sign-ins.
    for (let i = 0; i < 6; i++) await accounts.signIn('merchant@example.com', 'wrong password!', `10.0.0.${i}`).catch(() => {});
    await t.throwsAsync(accounts.signIn('merchant@example.com', OLD, '10.0.1.1'), { message: /Too many failed sign-ins/ });

    const browser = new Browser();
    const known = await forgot(browser, connector, 'Merchant@Example.com');
    const unknown = await forgot(new Browser(), connector, 'nobody@example.com');
    t.is(known.status, 200);
    t.is(unknown.status, 200);
    t.is(alertOf(known.text).replace('Merchant@Example.com', 'X'), alertOf(unknown.text).replace('nobody@example.com', 'X'));
    t.regex(alertOf(known.text), /If an account exists for/);

    const mail = await smtp.mail(1);
    await connector.running.services.identity.resets.drain();
    t.is(smtp.mails.length, 1, 'no mail for the unknown email');
    t.deepEqual(mail.to, ['merchant@example.com']);
    t.is(mail.from, 'connector@example.com');
    t.regex(mail.raw, /Subject: Reset your Magento Connector password/);
    t.regex(mail.raw, /Content-Type: text\/plain/i);
    const text = mailText(mail.raw);
    t.regex(text, /Magento Connector account \(merchant@example\.com\)/);
    t.regex(text, /within 30 minutes/);
    t.regex(text, /If it was not you, ignore this mail/);
    const link = linkIn(mail.raw);
    t.true(link.startsWith(`${connector.url}/account/password/reset?token=`));
    // Only the token's hash is stored.
    const token = new URL(link).searchParams.get('token')!;
    const { storage } = connector.running.services;
    t.is(await storage.passwordResets.byTokenHash(token), null);

    // Two passwords that differ: the form again, the link still usable.
    t.is((await resetWith(browser, link, NEW, 'something else entirely')).status, 400);
    const done = await resetWith(browser, link, NEW);
    t.is(done.status, 200, done.text.slice(0, 300));
    t.regex(alertOf(done.text), /is changed, and every session of it has been signed out/);
    t.is(await accounts.sessionAccount(oldSession.token), null, 'other sessions ended');
    t.is((await new Browser().get(`${connector.url}/account`)).status, 302);
    // The throttle is cleared: the new password works at once; the old one does not.
    await t.throwsAsync(accounts.signIn('merchant@example.com', OLD, '10.0.2.1'), { message: /do not match/ });
    t.is((await accounts.signIn('merchant@example.com', NEW, '10.0.2.2')).id, account.id);

    // Used once.
    const again = await browser.get(link);
    t.is(again.status, 410);
    t.regex(alertOf(again.text), /already used/);
    const replay = await resetWith(browser, link, 'yet another passphrase');
    t.is(replay.status, 410);
    t.is((await accounts.signIn('merchant@example.com', NEW, '10.0.2.3')).id, account.id);
  });

  test('a reset link expires after 30 minutes; a garbled link is refused; requests are throttled per email and per address', async (t) => {
    const smtp = await startSmtp(t);
    const connector = await startConnector(backend, t, { env: { SMTP_URL: smtp.url } });
    await connector.running.services.accounts.signUp('merchant@example.com', OLD);
    const browser = new Browser();
    t.is((await forgot(browser, connector, 'merchant@example.com')).status, 200);
    const link = linkIn((await smtp.mail(1)).raw);
    connector.clock.advance(31 * 60_000);
    const expired = await browser.get(link);
    t.is(expired.status, 410);
    t.regex(alertOf(expired.text), /expired/);
    t.is((await resetWith(browser, link, NEW)).status, 410);
    const garbled = await browser.get(`${link.slice(0, -4)}AAAA`);
    t.is(garbled.status, 400);
    t.regex(alertOf(garbled.text), /not valid/);

    // Per email: 3 per window (the first request's window has ended); the 4th is refused, known email or not.
    for (let i = 0; i < 3; i++) t.is((await forgot(browser, connector, 'merchant@example.com')).status, 200);
    const tooMany = await forgot(browser, connector, 'merchant@example.com');
    t.is(tooMany.status, 429);
    t.truthy(tooMany.headers.get('retry-after'));
    for (let i = 0; i < 3; i++) t.is((await forgot(browser, connector, 'nobody@example.com')).status, 200);
    t.is((await forgot(browser, connector, 'nobody@example.com')).status, 429);
    await connector.running.services.identity.resets.drain();
    t.is(smtp.mails.length, 4);
    // Per address: 20 per window, whatever the emails.
    let last: PageResponse | undefined;
    for (let i = 0; i < 12; i++) last = await forgot(browser, connector, `someone${i}@example.com`);
    t.is(last?.status, 200);
    t.is((await forgot(browser, connector, 'other@example.com')).status, 429);
  });

  test('without SMTP_URL each mail is written to DATA_DIR/outbox as .eml and its link logged', async (t) => {
    const connector = await startConnector(backend, t);
    await connector.running.services.accounts.signUp('merchant@example.com', OLD);
    t.is((await forgot(new Browser(), connector, 'merchant@example.com')).status, 200);
    await connector.running.services.identity.resets.drain();
    const outbox = join(connector.config.dataDir, 'outbox');
    const files = await waitFor('an .eml in the outbox', () => {
      try {
        return readdirSync(outbox).filter((f) => f.endsWith('.eml'));
      } catch {
        return undefined;
      }
    });
    t.is(files.length, 1);
    const raw = readFileSync(join(outbox, files[0]!), 'utf8');
    t.regex(raw, /To: merchant@example\.com/);
    const link = linkIn(raw);
    const logged = connector.logs().split('\n').filter((l) => l.includes('written to the outbox'));
    t.is(logged.length, 1);
    t.is(JSON.parse(logged[0]!).link, link);
    t.is((await resetWith(new Browser(), link, NEW)).status, 200);
  });

  test('change password on the account page: the current one is required; other sessions end, this one stays', async (t) => {
    const connector = await startConnector(backend, t);
    const { accounts } = connector.running.services;
    const account = await accounts.signUp('merchant@example.com', OLD);
    const other = await accounts.startSession(account.id);
    const browser = new Browser();
    t.is((await signIn(browser, connector, 'merchant@example.com', OLD)).status, 302);
    const page = await browser.get(`${connector.url}/account`);
    t.regex(page.text, /Change password/);
    const csrf = hiddenFields(page.text).csrf!;
    const wrong = await browser.post(`${connector.url}/account/password`, { csrf, current: 'not my password', password: NEW });
    t.is(wrong.status, 401);
    t.regex(alertOf(wrong.text), /current password is not right/);
    const short = await browser.post(`${connector.url}/account/password`, { csrf, current: OLD, password: 'short' });
    t.is(short.status, 400);
    const noCsrf = await browser.post(`${connector.url}/account/password`, { current: OLD, password: NEW });
    // The one CSRF check of every form (steps/check-csrf.ts): 403, the error page.
    t.is(noCsrf.status, 403);
    t.regex(alertOf(noCsrf.text), /This form expired/);
    t.not(await accounts.sessionAccount(other.token), null, 'nothing changed yet');

    const ok = await browser.post(`${connector.url}/account/password`, { csrf, current: OLD, password: NEW });
    t.is(ok.status, 200, ok.text.slice(0, 300));
    t.is(await accounts.sessionAccount(other.token), null);
    t.is((await browser.get(`${connector.url}/account`)).status, 200, 'this session stays');
    t.is((await accounts.signIn('merchant@example.com', NEW, '10.0.0.1')).id, account.id);
    // Signed out: the form sends you to sign in.
    t.is((await new Browser().get(`${connector.url}/account/password`)).location, '/account/login');
  });

  test('a merchant who forgot the password resets it and connects a store in the popup afterwards', async (t) => {
    const smtp = await startSmtp(t);
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t, { env: { SMTP_URL: smtp.url } });
    await connector.running.services.accounts.signUp('merchant@example.com', OLD);
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector, 'CRM', { email: 'merchant@example.com', password: OLD });
    await waitForState(connector, consumerKey, 'request_token');
    const popup = new Browser();
    const page = await popup.get(popupUrl);
    t.regex(page.text, /href="\/account\/password\/forgot" target="_blank"/);
    const failed = await finishInPopup(popup, connector, popupUrl, 'login', 'merchant@example.com', 'what was it again');
    t.is(failed.status, 401);
    t.is((await forgot(new Browser(), connector, 'merchant@example.com')).status, 200);
    t.is((await resetWith(new Browser(), linkIn((await smtp.mail(1)).raw), NEW)).status, 200);
    const done = await finishInPopup(popup, connector, popupUrl, 'login', 'merchant@example.com', NEW);
    t.is(done.status, 302);
    t.is(done.location, mock.successCallbackUrl);
    t.is((await connector.binding(consumerKey))?.state, 'active');
  });
});

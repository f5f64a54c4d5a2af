// Issue 14 in a real browser: in Magento's 680x510 popup, a merchant activates a store by signing in with the
// CRM's OpenID provider (oidc-provider in this process), and a merchant who forgot the password resets it through
// the mail a real SMTP server received, then connects the store.
import type { Page } from 'playwright-core';
import { assertUsable, browserBackends, browserSuite, clickToClose, POPUP, screenshot } from '../helpers/browser.js';
import { activationUrlsFor, startConnector, startMockStore, waitForState, type Connector } from '../helpers/connector.js';
import { startProvider } from '../helpers/oidc.js';
import { linkIn, startSmtp } from '../helpers/smtp.js';

const ADMIN = { width: 1280, height: 800 };
const row = (admin: Page, name: string) => admin.locator('#integrationGrid tbody tr', { hasText: name });

async function openPopup(admin: Page, name: string): Promise<{ popup: Page; visited: string[] }> {
  const [popup] = await Promise.all([admin.waitForEvent('popup'), row(admin, name).getByRole('button', { name: 'Activate' }).click()]);
  const visited: string[] = [];
  popup.on('framenavigated', (frame) => {
    if (frame === popup.mainFrame()) visited.push(frame.url());
  });
  await popup.waitForLoadState();
  return { popup, visited };
}

/** An integration saved with `email`'s account's own URLs (issue 13; the account is created if needed). */
async function integrationFor(mock: Awaited<ReturnType<typeof startMockStore>>, connector: Connector, name: string, email: string) {
  return mock.admin.create({ name, ...(await activationUrlsFor(connector, { email, password: 'an account page sign-up' })) });
}

browserSuite((test) => {
  for (const backend of browserBackends()) {
    test(`[${backend}] the popup at 680x510: Sign in with the CRM's provider, back, connected, the popup closes and the grid shows Active`, async (t) => {
      const idp = await startProvider(t, [{ login: 'merchant-42', email: 'merchant@example.com', email_verified: true }]);
      const mock = await startMockStore(t);
      const connector = await startConnector(backend, t, { env: idp.connectorEnv() });
      await idp.register(`${connector.url}/oidc/callback`);
      const integration = await integrationFor(mock, connector, 'CRM', 'merchant@example.com');
      const admin = await t.context.newPage(ADMIN);
      await admin.goto(mock.adminUrl);
      const { popup, visited } = await openPopup(admin, 'CRM');
      t.deepEqual(popup.viewportSize(), POPUP);
      const button = popup.getByRole('button', { name: 'Sign in with Acme CRM' });
      t.true(await button.isVisible());
      await screenshot(popup, 'popup-oidc-680x510');
      await assertUsable(t, popup, 'the popup with the OpenID button at 680x510', '.oidc-button');
      await waitForState(connector, integration.consumerKey, 'request_token');

      await Promise.all([popup.waitForURL((u) => u.href.startsWith(idp.issuer)), button.click()]);
      t.deepEqual(popup.viewportSize(), POPUP);
      // The provider's own login form (oidc-provider's development interaction).
      await popup.locator('input[name=login]').fill('merchant-42');
      await popup.locator('input[name=password]').fill('anything');
      await clickToClose(popup, popup.locator('button[type=submit]'), 20_000);
      t.is(visited.at(-1), mock.successCallbackUrl, 'the popup ends on Magento\'s success_call_back');
      t.true(visited.some((u) => u.startsWith(idp.issuer)), 'it went through the provider');
      await row(admin, 'CRM').getByRole('cell', { name: 'Active', exact: true }).waitFor({ timeout: 15_000 });
      const binding = await connector.binding(integration.consumerKey);
      const account = await connector.running.services.storage.accounts.byEmail('merchant@example.com');
      t.is(binding?.state, 'active');
      t.is(binding?.accountId, account?.id);
    });

    test(`[${backend}] Forgot password? from the popup: the mailed link sets a new password, then the merchant connects in the popup`, async (t) => {
      const smtp = await startSmtp(t);
      const mock = await startMockStore(t);
      const connector = await startConnector(backend, t, { env: { SMTP_URL: smtp.url } });
      await connector.running.services.accounts.signUp('forgetful@example.com', 'the old forgotten one');
      const integration = await integrationFor(mock, connector, 'Shop', 'forgetful@example.com');
      const admin = await t.context.newPage(ADMIN);
      await admin.goto(mock.adminUrl);
      const { popup, visited } = await openPopup(admin, 'Shop');
      t.deepEqual(popup.viewportSize(), POPUP);

      // "Forgot password?" opens a tab of its own: the popup stays where it is.
      const [forgot] = await Promise.all([popup.context().waitForEvent('page'), popup.getByRole('link', { name: 'Forgot password?' }).click()]);
      await forgot.waitForLoadState();
      await forgot.getByLabel('Email').fill('forgetful@example.com');
      await Promise.all([forgot.waitForEvent('load'), forgot.getByRole('button', { name: 'Send me a link' }).click()]);
      t.regex((await forgot.getByRole('status').textContent()) ?? '', /If an account exists for forgetful@example\.com, we sent a link/);

      const mail = await smtp.mail(1);
      const reset = await t.context.newPage(ADMIN);
      await reset.goto(linkIn(mail.raw));
      await reset.getByLabel('New password').fill('a brand new passphrase');
      await reset.getByLabel('The same password again').fill('a brand new passphrase');
      await Promise.all([reset.waitForEvent('load'), reset.getByRole('button', { name: 'Set the new password' }).click()]);
      t.regex((await reset.getByRole('status').textContent()) ?? '', /is changed/);
      await screenshot(reset, 'password-reset-done');

      await waitForState(connector, integration.consumerKey, 'request_token');
      await popup.locator('#signin-email').fill('forgetful@example.com');
      await popup.locator('#signin-password').fill('a brand new passphrase');
      await clickToClose(popup, popup.getByRole('button', { name: 'Sign in and connect' }), 20_000);
      t.is(visited.at(-1), mock.successCallbackUrl);
      await row(admin, 'Shop').getByRole('cell', { name: 'Active', exact: true }).waitFor({ timeout: 15_000 });
      t.is((await connector.binding(integration.consumerKey))?.state, 'active');
    });
  }
});

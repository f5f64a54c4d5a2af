// The merchant's activation in a real browser: the account page's own two URLs pasted into the mock Magento admin
// grid, Activate, our popup at Magento's 680x510, sign-in (or one Connect click when signed in already), the popup
// closing through success_call_back, the grid showing Active; and Reauthorize replacing the token.
import type { ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import type { MockStore } from '../../src/mock-store/app.js';
import { assertUsable, browserBackends, browserSuite, clickToClose, POPUP, screenshot } from '../helpers/browser.js';
import { activationUrlsFor, startConnector, startMockStore, waitFor, waitForState } from '../helpers/connector.js';

const ADMIN = { width: 1280, height: 800 };
const PASSWORD = 'correct horse battery';

/** The integration's row in the grid. */
const row = (admin: Page, name: string) => admin.locator('#integrationGrid tbody tr', { hasText: name });

/** Creates the integration the way a person does: the grid's "Add New Integration" form, with the account's own URLs. */
async function addIntegration(admin: Page, name: string, urls: { callbackUrl: string; identityLinkUrl: string }): Promise<void> {
  await admin.getByLabel('Name').fill(name);
  await admin.getByLabel('Callback URL').fill(urls.callbackUrl);
  await admin.getByLabel('Identity link URL').fill(urls.identityLinkUrl);
  await Promise.all([admin.waitForEvent('load'), admin.getByRole('button', { name: 'Save' }).click()]);
}

/** Clicks Activate (or Reauthorize) in the grid; resolves with the identity popup once it has loaded. */
async function openPopup(admin: Page, name: string, button: 'Activate' | 'Reauthorize'): Promise<{ popup: Page; visited: string[] }> {
  const [popup] = await Promise.all([admin.waitForEvent('popup'), row(admin, name).getByRole('button', { name: button }).click()]);
  const visited: string[] = [];
  popup.on('framenavigated', (frame) => {
    if (frame === popup.mainFrame()) visited.push(frame.url());
  });
  await popup.waitForLoadState();
  return { popup, visited };
}

/** Fills one of the popup's two forms and submits it; resolves when the popup has closed itself. */
async function submitAndWaitForClose(popup: Page, form: 'signin' | 'signup', email: string, password: string): Promise<void> {
  await popup.locator(`#${form}-email`).fill(email);
  await popup.locator(`#${form}-password`).fill(password);
  await clickToClose(popup, popup.getByRole('button', { name: form === 'signup' ? 'Create account and connect' : 'Sign in and connect' }), 15_000);
}

async function waitForGridStatus(admin: Page, name: string, status: 'Active' | 'Inactive'): Promise<void> {
  await row(admin, name).getByRole('cell', { name: status, exact: true }).waitFor({ timeout: 15_000 });
}

function assertPopupGeometry(t: ExecutionContext, popup: Page): void {
  t.deepEqual(popup.viewportSize(), POPUP, 'the popup is as large as the Magento admin opens it');
}

async function assertClosedThroughMagento(t: ExecutionContext, visited: string[], mock: MockStore): Promise<void> {
  t.is(visited.at(-1), mock.successCallbackUrl, 'the popup ends on Magento\'s success_call_back page');
}

browserSuite((test) => {
  for (const backend of browserBackends()) {
    test(`[${backend}] sign up on the account page, paste its two URLs into Magento, Activate: the popup offers Connect, which closes it and the grid shows Active`, async (t) => {
      const mock = await startMockStore(t);
      const connector = await startConnector(backend, t);
      // The merchant signs up on our account page and copies the account's own URLs from it (issue 13), in the
      // browser (one context: the same cookies) the Magento admin then runs in.
      const admin = await t.context.newPage(ADMIN);
      const account = await admin.context().newPage();
      await account.goto(`${connector.url}/account/login`);
      await account.locator('#signup-email').fill('merchant@example.com');
      await account.locator('#signup-password').fill(PASSWORD);
      await Promise.all([account.waitForURL(`${connector.url}/account`), account.getByRole('button', { name: /Create account/ }).click()]);
      const urls = { callbackUrl: await account.locator('#callback-url').inputValue(), identityLinkUrl: await account.locator('#identity-url').inputValue() };
      t.regex(urls.callbackUrl, /\/magento\/callback\/[A-Za-z0-9_-]{43}$/);

      await admin.goto(mock.adminUrl);
      t.is(await admin.title(), 'Integrations / System / Mock Magento Admin');
      await addIntegration(admin, 'CRM', urls);
      await waitForGridStatus(admin, 'CRM', 'Inactive');
      const integration = mock.admin.list().find((i) => i.name === 'CRM')!;

      const { popup, visited } = await openPopup(admin, 'CRM', 'Activate');
      t.true(popup.url().startsWith(`${urls.identityLinkUrl}?oauth_consumer_key=${integration.consumerKey}`));
      assertPopupGeometry(t, popup);
      t.is(await popup.getByRole('heading', { level: 1 }).textContent(), 'Connect your Magento store');
      t.is(await popup.locator('.store').first().textContent(), mock.baseUrl);
      t.regex((await popup.locator('main').textContent()) ?? '', /You are signed in as merchant@example\.com/);
      t.is(await popup.locator('#signup-email').count(), 0, "no sign-up in an account's own popup");
      await screenshot(popup, 'popup-680x510');
      await assertUsable(t, popup, 'the popup at 680x510', '#signin-email');

      await waitForState(connector, integration.consumerKey, 'request_token');
      await clickToClose(popup, popup.getByRole('button', { name: 'Connect', exact: true }), 15_000);
      await assertClosedThroughMagento(t, visited, mock);
      await waitForGridStatus(admin, 'CRM', 'Active');
      t.is(await row(admin, 'CRM').getByRole('button', { name: 'Reauthorize' }).count(), 1);

      const binding = await connector.binding(integration.consumerKey);
      t.is(binding?.state, 'active');
      t.is(mock.admin.get(integration.id).status, 'active');
      t.is(binding?.accessToken?.token, mock.admin.get(integration.id).tokens[0]?.token);
    });

    test(`[${backend}] a merchant with an account signs in in the popup`, async (t) => {
      const mock = await startMockStore(t);
      const connector = await startConnector(backend, t);
      const integration = mock.admin.create({ name: 'Known merchant', ...(await activationUrlsFor(connector, { email: 'known@example.com', password: PASSWORD })) });
      const admin = await t.context.newPage(ADMIN);
      await admin.goto(mock.adminUrl);

      const { popup, visited } = await openPopup(admin, 'Known merchant', 'Activate');
      assertPopupGeometry(t, popup);
      await assertUsable(t, popup, 'the popup at 680x510', '#signin-email');

      // A wrong password first: the popup stays, says so, keeps the email, and is still tidy.
      await popup.locator('#signin-email').fill('known@example.com');
      await popup.locator('#signin-password').fill('not the password');
      await Promise.all([popup.waitForEvent('load'), popup.getByRole('button', { name: 'Sign in and connect' }).click()]);
      t.truthy(await popup.getByRole('alert').textContent());
      t.is(await popup.locator('#signin-email').inputValue(), 'known@example.com');
      await screenshot(popup, 'popup-wrong-password-680x510');
      await assertUsable(t, popup, 'the popup with an error at 680x510', '#signin-password');

      await submitAndWaitForClose(popup, 'signin', 'known@example.com', PASSWORD);
      await assertClosedThroughMagento(t, visited, mock);
      await waitForGridStatus(admin, 'Known merchant', 'Active');
      const binding = await connector.binding(integration.consumerKey);
      t.is(binding?.state, 'active');
      const account = await connector.running.services.storage.accounts.byEmail('known@example.com');
      t.is(binding?.accountId, account?.id);
    });

    test(`[${backend}] Reauthorize: the popup again, the signed-in member clicks Connect, Active again with a new token`, async (t) => {
      const mock = await startMockStore(t);
      const connector = await startConnector(backend, t);
      const integration = mock.admin.create({ name: 'Rotating', ...(await activationUrlsFor(connector, { email: 'rotating@example.com', password: PASSWORD })) });
      const admin = await t.context.newPage(ADMIN);
      await admin.goto(mock.adminUrl);
      const first = await openPopup(admin, 'Rotating', 'Activate');
      await waitForState(connector, integration.consumerKey, 'request_token');
      await submitAndWaitForClose(first.popup, 'signin', 'rotating@example.com', PASSWORD);
      await waitForGridStatus(admin, 'Rotating', 'Active');
      const before = await connector.binding(integration.consumerKey);
      t.truthy(before?.accessToken?.token);

      const second = await openPopup(admin, 'Rotating', 'Reauthorize');
      assertPopupGeometry(t, second.popup);
      // The first popup signed the merchant in: one click, no password typed again (issue 13).
      t.regex((await second.popup.locator('main').textContent()) ?? '', /You are signed in as rotating@example\.com/);
      await assertUsable(t, second.popup, 'the reauthorize popup at 680x510', '#signin-email');
      await waitForState(connector, integration.consumerKey, 'active');
      await waitFor('the reauthorization request token', async () => (await connector.binding(integration.consumerKey))?.requestToken);
      await clickToClose(second.popup, second.popup.getByRole('button', { name: 'Connect', exact: true }), 15_000);
      await assertClosedThroughMagento(t, second.visited, mock);
      await waitForGridStatus(admin, 'Rotating', 'Active');

      const after = await connector.binding(integration.consumerKey);
      t.is(after?.state, 'active');
      t.is(after?.id, before?.id);
      t.is(after?.accountId, before?.accountId);
      t.truthy(after?.accessToken?.token);
      t.not(after?.accessToken?.token, before?.accessToken?.token, 'Reauthorize replaced the access token');
      t.deepEqual(mock.admin.get(integration.id).tokens.map((r) => r.token), [after!.accessToken!.token]);
    });
  }
});

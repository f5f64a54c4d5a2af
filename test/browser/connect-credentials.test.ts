// Issue 17 as a person does it: in the mock Magento admin, an integration without Callback and Identity Link URLs;
// Activate shows the four credentials (Magento's "Integration Tokens for Extensions" dialog); they are copied into
// the account page's "Connect with credentials" form, which connects the store; a wrong secret is explained on the
// form again, with the secrets left out.
import { assertUsable, browserBackends, browserSuite, screenshot } from '../helpers/browser.js';
import { startConnector, startMockStore } from '../helpers/connector.js';

const DESKTOP = { width: 1024, height: 768 };
const PASSWORD = 'correct horse battery';

browserSuite((test) => {
  for (const backend of browserBackends()) {
    test(`[${backend}] copy the four credentials from the Magento admin into Connect with credentials`, async (t) => {
      const mock = await startMockStore(t);
      const connector = await startConnector(backend, t);

      const admin = await t.context.newPage(DESKTOP);
      await admin.goto(mock.adminUrl);
      await admin.locator('#new-integration input[name=name]').fill('CRM behind a firewall');
      await Promise.all([admin.waitForEvent('load'), admin.getByRole('button', { name: 'Save' }).click()]);
      await admin.getByRole('button', { name: 'Activate' }).click();
      const dialog = admin.getByRole('dialog', { name: 'Integration Tokens for Extensions' });
      await dialog.waitFor();
      const value = async (id: string) => ((await admin.locator(`#token-${id}`).textContent()) ?? '').trim();
      const copied = {
        consumerKey: await value('consumerKey'),
        consumerSecret: await value('consumerSecret'),
        accessToken: await value('accessToken'),
        accessTokenSecret: await value('accessTokenSecret'),
      };
      for (const v of Object.values(copied)) t.regex(v, /^[0-9a-z]{32}$/);
      await Promise.all([admin.waitForEvent('load'), admin.getByRole('button', { name: 'Done' }).click()]);
      t.regex((await admin.locator('#integrationGrid tbody tr').first().textContent()) ?? '', /Active/);

      const page = await t.context.newPage(DESKTOP);
      await page.goto(`${connector.url}/account/login`);
      await page.locator('#signup-email').fill('firewalled@example.com');
      await page.locator('#signup-password').fill(PASSWORD);
      await Promise.all([page.waitForURL(`${connector.url}/account`), page.getByRole('button', { name: /create/i }).click()]);
      await assertUsable(t, page, 'the account page with Connect with credentials', '#paste-storeBaseUrl');

      const fill = async (secret: string) => {
        await page.locator('#paste-storeBaseUrl').fill(mock.baseUrl);
        await page.locator('#paste-consumerKey').fill(copied.consumerKey);
        await page.locator('#paste-consumerSecret').fill(copied.consumerSecret);
        await page.locator('#paste-accessToken').fill(copied.accessToken);
        await page.locator('#paste-accessTokenSecret').fill(secret);
        await page.getByRole('button', { name: 'Connect with credentials' }).click();
        await page.waitForLoadState();
      };
      await fill('0'.repeat(32));
      t.regex((await page.locator('.paste-error').textContent()) ?? '', /Access Token Secret is wrong/);
      t.is(await page.locator('#paste-consumerKey').inputValue(), copied.consumerKey, 'the consumer key is kept');
      t.is(await page.locator('#paste-consumerSecret').inputValue(), '', 'the secrets are not');
      t.false((await page.content()).includes(copied.consumerSecret));
      await screenshot(page, 'connect-credentials-refused');

      await fill(copied.accessTokenSecret);
      await page.waitForURL(`${connector.url}/account`);
      t.regex((await page.getByRole('status').first().textContent()) ?? '', /is connected with its credentials/);
      t.regex((await page.locator('table.stores').textContent()) ?? '', /active/);
      await screenshot(page, 'connect-credentials-connected');
      const [binding] = await connector.running.services.storage.bindings.list();
      t.like(binding, { state: 'active', origin: 'credentials', consumerKey: copied.consumerKey });
    });
  }
});

// Issue 13: a store's error text (up to 64 KB of oauth_problem) is cut to a sane length before it is stored or
// shown: the binding's lastError, its timeline, the popup and the log hold a few hundred characters of it at most.
import { Browser, createAndActivate, startConnector, startMockStore, waitForState } from '../helpers/connector.js';
import { forEachBackend } from '../helpers/db.js';

forEachBackend((backend, test) => {
  test("a 64 KB oauth_problem is cut before it is stored, logged or shown in the popup", async (t) => {
    const mock = await startMockStore(t);
    const connector = await startConnector(backend, t);
    const junk = 'Consumer key has expired ' + 'x'.repeat(64 * 1024);
    mock.knobs.addFault({
      kind: 'fail',
      pathPrefix: '/oauth/token/request',
      count: 10,
      status: 401,
      contentType: 'application/x-www-form-urlencoded',
      body: `oauth_problem=${encodeURIComponent(junk)}`,
    });
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector);
    const failed = await waitForState(connector, consumerKey, 'failed');
    const lastError = failed.lastError ?? '';
    t.regex(lastError, /^Magento refused the request token: Consumer key has expired x+…$/, 'the start of what Magento said, marked as cut');
    t.true(lastError.length <= 600, `lastError holds ${lastError.length} characters`);
    t.is(failed.fix, 'activate_again', 'classified as before: the start of the message is kept');

    const timeline = await connector.running.services.stores.recentSteps(failed.id);
    t.true(timeline.every((e) => e.detail.length <= 600));

    const page = await new Browser().get(popupUrl);
    t.is(page.status, 409);
    // A visitor who is not a member of the binding's account sees that it failed, not the store's text (issue 13).
    t.regex(page.text, /could not be connected/);
    t.false(page.text.includes('x'.repeat(1_000)), 'the popup does not show 64 KB of it');
    t.false(connector.logs().includes('x'.repeat(1_000)), 'nor does the log');
  });
});

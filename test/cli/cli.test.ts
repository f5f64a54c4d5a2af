// The command line, run as a person runs it (a child process on a fresh database): accounts (password as an
// option or on standard input), their activation URLs, API keys printed alone on their own line and working against
// a running connector on the same database, the list of stores (a page at a time), every command while a server
// process holds and writes the database, a database that is not migrated (refused, untouched), and bad usage (exit
// 2, the one line that is wrong).
import test from 'ava';
import { callApi, startCapturingMockStore } from '../helpers/activated.js';
import { Browser, createAndActivate, finishInPopup, startConnector, testSecretsKey, waitForState } from '../helpers/connector.js';
import { cliOn } from '../helpers/cli.js';
import { emptyDatabase, forEachBackend, freshDatabase, rawQuery } from '../helpers/db.js';
import { spawnInstance } from '../helpers/instances.js';
import { openBenchDb, seedScale } from '../../bench/seed.js';
import { parseSecretsKey, Sealer } from '../../src/secrets/sealer.js';
import { callbackForm, run as runCommand, runCli } from './process.js';

const USAGE = /^usage: npm run -s cli -- <command>/m;

forEachBackend((backend, test) => {
  test('accounts create (password as an option and on stdin), api-keys create, stores list; the key works', async (t) => {
    const cli = await cliOn(backend, t);

    // Independent commands run side by side: each is a process of its own.
    const [created, fromStdin] = await Promise.all([
      cli.run(['accounts', 'create', '--email', 'Owner@Example.com', '--password', 'a long enough password']),
      cli.run(['accounts', 'create', '--email', 'piped@example.com'], 'piped secret phrase\n'),
    ]);
    t.is(created.code, 0, created.stderr);
    t.regex(created.stdout, /^created account owner@example\.com \([0-9a-f-]{36}\)\n$/);
    t.is(fromStdin.code, 0, fromStdin.stderr);
    t.regex(fromStdin.stdout, /^created account piped@example\.com/);
    t.false(fromStdin.stdout.includes('piped secret phrase'));

    const [taken, key, empty] = await Promise.all([
      cli.run(['accounts', 'create', '--email', 'owner@example.com', '--password', 'another long password']),
      cli.run(['api-keys', 'create', '--email', 'owner@example.com', '--name', 'crm']),
      cli.run(['stores', 'list']),
    ]);
    t.is(taken.code, 2);
    t.regex(taken.stderr, /already exists/);
    t.is(key.code, 0, key.stderr);
    t.regex(key.stdout, /^mck_[A-Za-z0-9_-]{43}\n$/, 'the key alone on its own line, nothing else on stdout');
    t.regex(key.stderr, /API key "crm" \(mck_[\w-]{6}…\) for owner@example\.com; it is shown only now/);
    const apiKey = key.stdout.trim();
    t.deepEqual(empty, { code: 0, stdout: 'no stores\n', stderr: '' });

    // A connector on the same database: the CLI's key works, and the CLI's accounts sign in to the popup.
    const connector = await startConnector(backend, t, { databaseUrl: cli.databaseUrl, secretsKey: cli.secretsKey });
    const none = await callApi(`${connector.url}/api/stores`, 'GET', apiKey);
    t.is(none.status, 200);
    t.deepEqual(none.json, { stores: [] });

    const mock = await startCapturingMockStore(t);
    const { consumerKey, popupUrl } = await createAndActivate(mock, connector, 'CRM', { email: 'owner@example.com', password: 'a long enough password' });
    await waitForState(connector, consumerKey, 'request_token');
    const done = await finishInPopup(new Browser(), connector, popupUrl, 'login', 'owner@example.com', 'a long enough password');
    t.is(done.status, 302, done.text.slice(0, 300));
    const binding = await waitForState(connector, consumerKey, 'active');
    t.is((await callApi(`${connector.url}/api/stores/${binding.id}/rest/V1/products/24-MB01`, 'GET', apiKey)).status, 200);

    // The piped password is the account's password.
    const browser = new Browser();
    const login = await browser.get(`${connector.url}/account/login`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(login.text)![1]!;
    const signedIn = await browser.post(`${connector.url}/account/login`, { csrf, email: 'piped@example.com', password: 'piped secret phrase' });
    t.is(signedIn.status, 302);

    // accounts urls: the URLs the account page shows (two processes asking at once for an account without any yet
    // agree on one token); under the CLI's own PUBLIC_URL, so the paths are compared.
    const [urls, urlsJson] = await Promise.all([
      cli.run(['accounts', 'urls', '--email', 'piped@example.com']),
      cli.run(['accounts', 'urls', '--email', 'piped@example.com', '--json']),
    ]);
    t.is(urlsJson.code, 0, urlsJson.stderr);
    const shown = JSON.parse(urlsJson.stdout) as { callbackUrl: string; identityLinkUrl: string };
    t.deepEqual(urls, { code: 0, stdout: `Callback URL       ${shown.callbackUrl}\nIdentity Link URL  ${shown.identityLinkUrl}\n`, stderr: '' });
    const token = /\/magento\/callback\/([A-Za-z0-9_-]{43})$/.exec(shown.callbackUrl)?.[1];
    t.truthy(token, shown.callbackUrl);
    t.true(shown.identityLinkUrl.endsWith(`/magento/identity/${token}`));
    const page = await browser.get(`${connector.url}/account`);
    t.true(page.text.includes(`/magento/callback/${token}"`), 'the account page shows the same Callback URL');

    const [list, json, piped] = await Promise.all([
      cli.run(['stores', 'list']),
      cli.run(['stores', 'list', '--email', 'owner@example.com', '--json']),
      cli.run(['stores', 'list', '--email', 'piped@example.com']),
    ]);
    t.is(list.code, 0, list.stderr);
    t.regex(list.stdout, new RegExp(`^${binding.id}  active {7}  ${mock.baseUrl.replace(/[.]/g, '\\.')}\\n$`));
    t.is(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as { id: string; state: string; storeBaseUrl: string; accountId: string }[];
    t.like(rows, [{ id: binding.id, state: 'active', storeBaseUrl: mock.baseUrl, accountId: binding.accountId! }]);
    t.deepEqual(piped, { code: 0, stdout: 'no stores\n', stderr: '' });
  });

  test('bad usage exits 2 with the one line that is wrong on stderr; --help exits 0', async (t) => {
    const cli = await cliOn(backend, t);
    const cases: [string, string[], RegExp][] = [
      ['no command', [], /^error: give a command/],
      ['unknown command', ['accounts', 'delete', '--email', 'a@example.com'], /unknown command "accounts delete"/],
      ['missing --email', ['api-keys', 'create'], /api-keys create needs --email/],
      ['unknown option', ['stores', 'list', '--verbose'], /^error: Unknown option '--verbose' \(/],
      ['no such account', ['api-keys', 'create', '--email', 'nobody@example.com'], /no account with email nobody@example\.com/],
      ['accounts urls without --email', ['accounts', 'urls'], /accounts urls needs --email/],
      ['accounts urls of no account', ['accounts', 'urls', '--email', 'nobody@example.com'], /no account with email nobody@example\.com/],
      ['invalid email', ['accounts', 'create', '--email', 'not-an-email', '--password', 'a long enough password'], /valid email/],
      ['empty password on stdin', ['accounts', 'create', '--email', 'x@example.com'], /password of/],
    ];
    const runs = await Promise.all(cases.map(([, args]) => cli.run(args)));
    cases.forEach(([what, , message], i) => {
      const run = runs[i]!;
      t.is(run.code, 2, `${what}: ${run.stderr}`);
      t.regex(run.stderr, message, what);
      t.regex(run.stderr, /^error: [^\n]+ \(--help shows the usage\)\n$/, `${what}: the one line that is wrong, not the usage: ${run.stderr}`);
      t.is(run.stdout, '', `${what}: nothing on stdout`);
    });

    const help = await cli.run(['--help']);
    t.is(help.code, 0);
    t.regex(help.stdout, USAGE);
    t.regex(help.stdout, /api-keys create --email E/);
    t.regex(help.stdout, /accounts urls --email E/);
  });
});

forEachBackend((backend, test) => {
  test('every command works while a server process holds the database and writes to it', async (t) => {
    t.timeout(240_000); // a dozen processes, each starting tsx: minutes on a loaded machine
    const cli = await cliOn(backend, t);
    // The load below posts to the shared Callback URL (issue 13: answered only in this mode).
    const server = await spawnInstance(t, { databaseUrl: cli.databaseUrl, secretsKey: cli.secretsKey, openSignup: true });
    // The server writes all along: a callback (a new binding, then its background request-token attempts) every
    // few milliseconds, so the CLI's writes meet the server's.
    let writing = true;
    let callbacks = 0;
    let lost = 0; // a reused keep-alive connection the server closed meanwhile (undici), on a loaded machine
    const load = (async () => {
      // Bounded (one every 20 ms, at most 150): enough to meet the CLI's writes, not so many that the server's
      // background retries for them swamp a loaded machine.
      for (let n = 0; writing && n < 150; n++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        try {
          const answer = await fetch(`${server.url}/magento/callback`, { method: 'POST', body: callbackForm(n) });
          if (answer.ok) callbacks++;
        } catch {
          lost++;
        }
      }
    })();
    try {
      const emails = ['one@example.com', 'two@example.com'];
      const created = await Promise.all(emails.map((email) => cli.run(['accounts', 'create', '--email', email, '--password', 'a long enough password'])));
      for (const c of created) t.is(c.code, 0, c.stderr);
      const keys = await Promise.all(emails.map((email) => cli.run(['api-keys', 'create', '--email', email])));
      for (const k of keys) {
        t.is(k.code, 0, k.stderr);
        t.regex(k.stdout, /^mck_[A-Za-z0-9_-]{43}\n$/);
      }
      // Through npm as the README says (`npm run cli` used to migrate the database the server holds, and fail).
      const [list, json] = await Promise.all([
        runCommand('npm', ['run', '-s', 'cli', '--', 'stores', 'list'], cli.env),
        runCommand('npm', ['run', '-s', 'cli', '--', 'stores', 'list', '--json'], cli.env),
      ]);
      t.is(list.code, 0, list.stderr);
      t.is(list.stderr, '');
      t.is(json.code, 0, json.stderr);
      const rows = JSON.parse(json.stdout) as { id: string; state: string }[];
      t.true(Array.isArray(rows));
      // The server answers the CLI's keys: the records are in the database it holds.
      const answer = await callApi(`${server.url}/api/stores`, 'GET', keys[0]!.stdout.trim());
      t.is(answer.status, 200);
    } finally {
      writing = false;
      await load;
    }
    t.true(callbacks > 0, 'the server was writing meanwhile');
    const stored = (JSON.parse((await cli.run(['stores', 'list', '--json'])).stdout) as unknown[]).length;
    t.true(stored >= callbacks && stored <= callbacks + lost, `every callback the server answered is listed (${stored}, ${callbacks} + ${lost} lost)`);
  });

  test('stores list reads a page at a time and prints every store once, in creation order (1,101 stores, 3 pages)', async (t) => {
    const cli = await cliOn(backend, t);
    const bench = await openBenchDb(cli.databaseUrl);
    const seeded: string[] = [];
    const { accounts } = await seedScale(bench.db, {
      bindings: 1101,
      accounts: 2,
      storeBaseUrl: 'https://shop.example.com/',
      sealer: new Sealer(parseSecretsKey(cli.secretsKey)),
      now: new Date(),
      probeIntervalMs: 3600_000,
      tag: 'cli',
      onBinding: (b) => seeded.push(b.id),
    });
    await bench.close();
    const [json, text, one] = await Promise.all([
      cli.run(['stores', 'list', '--json']),
      cli.run(['stores', 'list']),
      cli.run(['stores', 'list', '--email', 'scale-cli-1@scale.example', '--json']),
    ]);
    t.is(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as Array<{ id: string; accountId: string }>;
    t.is(rows.length, 1101);
    t.is(json.stdout, `${JSON.stringify(rows, null, 2)}\n`, 'exactly what one JSON.stringify of the whole list prints');
    t.is(new Set(rows.map((r) => r.id)).size, 1101, 'no store twice across the pages');
    t.deepEqual(rows.map((r) => r.id).sort(), seeded.sort());
    t.is(text.code, 0, text.stderr);
    t.deepEqual(text.stdout.trimEnd().split('\n').map((line) => line.split('  ')[0]), rows.map((r) => r.id), 'the same order in both forms');
    t.is(one.code, 0, one.stderr);
    const own = JSON.parse(one.stdout) as Array<{ accountId: string }>;
    t.deepEqual(own, rows.filter((r) => r.accountId === accounts[1]!.id));
    t.is(own.length, 550); // round robin over the two accounts
  });

  test('a database without the migrations: refused with the command to run, and left as it was', async (t) => {
    const database = await emptyDatabase(backend);
    t.teardown(() => database.drop());
    const env = { DATABASE_URL: database.url, SECRETS_KEY: testSecretsKey(), LOG_LEVEL: 'warn' };
    const result = await runCli(['stores', 'list'], env);
    t.is(result.code, 1);
    t.regex(result.stderr, /^error: the database has no tables yet: run npm run db:migrate/);
    t.is(result.stderr.trim().split('\n').length, 1);
    const tables =
      backend === 'sqlite'
        ? await rawQuery(backend, database.url, "SELECT name FROM sqlite_master WHERE type = 'table'")
        : await rawQuery(backend, database.url, "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'");
    t.deepEqual(tables, [], 'the CLI migrated nothing');
  });
});

test('as the README runs it: npm run -s cli and npx magento-connector print pure JSON for stores list --json', async (t) => {
  const database = await freshDatabase('sqlite');
  t.teardown(() => database.drop());
  const env = { DATABASE_URL: database.url, SECRETS_KEY: testSecretsKey() };
  const viaNpm = await runCommand('npm', ['run', '-s', 'cli', '--', 'stores', 'list', '--json'], env);
  t.is(viaNpm.code, 0, viaNpm.stderr);
  t.deepEqual(JSON.parse(viaNpm.stdout), []);
  const viaBin = await runCommand(process.execPath, ['bin/magento-connector.js', 'stores', 'list', '--json'], env);
  t.is(viaBin.code, 0, viaBin.stderr);
  t.deepEqual(JSON.parse(viaBin.stdout), []);
});

// The command line: `npm run -s cli -- <command>` (or `npx magento-connector <command>`). It runs next to running
// servers on the same database: it never migrates (it checks the schema is current and says what to run if not),
// and SQLite's busy timeout makes its writes wait for theirs.
//   accounts create --email E [--password P]     (without --password, the password is read from standard input)
//   api-keys create --email E [--name N]         prints the new key once, alone on its own line
//   accounts urls --email E [--json]             the account's Callback URL and Identity Link URL (for Magento)
//   stores list [--email E] [--json]
//   operator-keys create --name N | list [--json] | revoke --id ID
//   stores doctor --store ID [--refresh] [--json]   the store doctor; exit 0 all ok, 1 a warning, 2 a failure
import { parseArgs } from 'node:util';
import { AccountError, normaliseEmail } from '../accounts/accounts.js';
import { fixText } from '../activation/fixes.js';
import { formatHealthTable, healthExitCode } from '../doctor/format.js';
import type { Services } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import { isConnectorError } from '../errors.js';
import { createLogger } from '../log.js';
import { SecretsKeyError } from '../secrets/index.js';
import { StorageError } from '../storage/db.js';
import type { Binding, Page, PageCursor } from '../storage/types.js';
import { checkOperatorKeysUsage, operatorKeysCommand } from './operator-keys.js';

const USAGE = `usage: npm run -s cli -- <command>   (or npx magento-connector <command>)
  accounts create --email E [--password P]   (omit --password to read it from standard input)
  api-keys create --email E [--name N]       prints the new key once, on its own line
  accounts urls --email E [--json]           the account's Callback URL and Identity Link URL, to paste into Magento
  stores list [--email E] [--json]
  operator-keys create --name N              prints the new operator key (mco_...) once, on its own line
  operator-keys list [--json]
  operator-keys revoke --id ID
  stores doctor --store ID [--refresh] [--json]
                                             checks the store (exit 0 all ok, 1 a warning, 2 a failure)`;

class UsageError extends Error {}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (process.stdin.isTTY && String(chunk).includes('\n')) break;
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function accountByEmail(s: Services, email: string) {
  const account = await s.storage.accounts.byEmail(normaliseEmail(email));
  if (!account) throw new UsageError(`no account with email ${email}`);
  return account;
}

/** Every binding (or one account's) in creation order, read a page at a time. */
async function* everyStore(s: Services, accountId: string | undefined): AsyncGenerator<Binding> {
  let after: PageCursor | null = null;
  do {
    const page: Page<Binding> = await s.storage.bindings.page({ limit: STORES_PAGE, after, ...(accountId === undefined ? {} : { accountId }) });
    yield* page.items;
    after = page.next;
  } while (after !== null);
}
const STORES_PAGE = 500;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      id: { type: 'string' }, // operator-keys revoke
      json: { type: 'boolean', default: false },
      store: { type: 'string' },
      refresh: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals.join(' ');
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  // Bad usage goes to stderr, so a script reading stdout (the key of api-keys create) never takes it for output.
  if (!command) throw new UsageError('give a command');
  if (command.startsWith('operator-keys')) checkOperatorKeysUsage(command, values);
  else if (!['accounts create', 'accounts urls', 'api-keys create', 'stores list', 'stores doctor'].includes(command)) throw new UsageError(`unknown command "${command}"`);
  else if (command === 'stores doctor' && !values.store) throw new UsageError('stores doctor needs --store (an id from stores list)');
  else if (!command.startsWith('stores ') && !values.email) throw new UsageError(`${command} needs --email`);

  const config = loadConfig();
  // Loaded only now: the whole service is most of a command's start, and --help or a usage mistake needs none of it.
  const { openServices } = await import('../app.js');
  // Errors only by default: the server already warns about its configuration, each CLI call need not.
  const s = await openServices(config, { logger: createLogger(process.env.LOG_LEVEL ?? 'error', process.stderr, config.logFormat) });
  try {
    if (command.startsWith('operator-keys')) return await operatorKeysCommand(s, command, values);
    switch (command) {
      case 'accounts create': {
        const password = values.password ?? (await readStdin());
        const account = await s.accounts.signUp(values.email!, password);
        console.log(`created account ${account.email} (${account.id})`);
        return 0;
      }
      case 'api-keys create': {
        const account = await accountByEmail(s, values.email!);
        const { key, record } = await s.accounts.createApiKey(account.id, values.name);
        process.stderr.write(`API key "${record.name}" (${record.prefix}…) for ${account.email}; it is shown only now:\n`);
        console.log(key);
        return 0;
      }
      case 'accounts urls': {
        // The URLs the account page shows (created on first need, as there), under this process's PUBLIC_URL.
        const account = await accountByEmail(s, values.email!);
        const urls = await s.activation.activationUrls(account.id, config.publicUrl);
        if (values.json) console.log(JSON.stringify(urls, null, 2));
        else console.log(`Callback URL       ${urls.callbackUrl}\nIdentity Link URL  ${urls.identityLinkUrl}`);
        return 0;
      }
      case 'stores doctor': {
        // A CLI process starts with an empty cache, so every run checks now (--refresh says so explicitly).
        const report = await s.health.check(null, values.store!, { refresh: values.refresh });
        if (values.json) console.log(JSON.stringify(report, null, 2));
        else process.stdout.write(formatHealthTable(report));
        return healthExitCode(report);
      }
      case 'stores list': {
        // A page at a time (the operator API's pages, on the (createdAt, id) index), each printed as it is read: a
        // deployment with 100,000 stores is never held in memory at once.
        const accountId = values.email ? (await accountByEmail(s, values.email)).id : undefined;
        let listed = 0;
        for await (const b of everyStore(s, accountId)) {
          const row = {
            id: b.id,
            state: b.state,
            storeBaseUrl: b.storeBaseUrl,
            accountId: b.accountId,
            updatedAt: b.updatedAt.toISOString(),
            lastError: b.lastError,
            fix: fixText(b.fix),
          };
          // --json: the array JSON.stringify(rows, null, 2) would print, one element at a time.
          if (values.json) process.stdout.write(`${listed === 0 ? '[\n' : ',\n'}${JSON.stringify(row, null, 2).replace(/^/gm, '  ')}`);
          else console.log(`${row.id}  ${row.state.padEnd(13)}  ${row.storeBaseUrl}${row.lastError ? `  (${row.lastError})` : ''}`);
          listed++;
        }
        if (values.json) console.log(listed === 0 ? '[]' : '\n]');
        else if (listed === 0) console.log('no stores');
        return 0;
      }
    }
    return 2;
  } finally {
    await s.close();
  }
}

// Exit once standard output has been flushed: a key printed to a pipe must not be cut off.
const exit = (code: number) => process.stdout.write('', () => process.exit(code));

/** One line a person can act on, and the exit code: 2 for what the caller typed or configured, 1 for the rest. */
function failure(err: unknown): { line: string; code: number } | null {
  if (err instanceof UsageError || err instanceof AccountError) return { line: `error: ${err.message} (--help shows the usage)`, code: 2 };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
    // Node's text goes on about positionals after "--"; the first sentence is the one that matters.
    return { line: `error: ${(err as Error).message.split('. ')[0]!.replace(/\.$/, '')} (--help shows the usage)`, code: 2 };
  }
  if (err instanceof ConfigError || err instanceof SecretsKeyError) return { line: `error: ${err.message}`, code: 2 };
  if (isConnectorError(err) || err instanceof StorageError) return { line: `error: ${err.message}`, code: 1 };
  return null;
}

run(process.argv.slice(2)).then(
  (code) => exit(code),
  (err: unknown) => {
    const known = failure(err);
    if (known) {
      console.error(known.line);
      process.exit(known.code);
    }
    console.error(err);
    process.exit(1);
  },
);

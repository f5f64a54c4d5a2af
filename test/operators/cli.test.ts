// `operator-keys create | list | revoke` run as a person runs them (child processes on a fresh database): the key
// printed alone on its own line, only its hash stored, working against a running connector on the same database
// until revoked; bad usage exits 2 with the usage text.
import { createHash } from 'node:crypto';
import { callApi } from '../helpers/activated.js';
import { cliOn } from '../helpers/cli.js';
import { startConnector } from '../helpers/connector.js';
import { forEachBackend, rawQuery } from '../helpers/db.js';

forEachBackend((backend, test) => {
  test('operator-keys create prints the key once; list shows it; the key works until revoke', async (t) => {
    const cli = await cliOn(backend, t);

    const created = await cli.run(['operator-keys', 'create', '--name', 'CRM backend']);
    t.is(created.code, 0, created.stderr);
    t.regex(created.stdout, /^mco_[A-Za-z0-9_-]{43}\n$/, 'the key alone on its own line');
    const key = created.stdout.trim();
    t.regex(created.stderr, /shown only now/);
    const rows = await rawQuery(backend, cli.databaseUrl, 'SELECT "hash" FROM "OperatorKey"');
    t.deepEqual(rows.map((r) => r.hash), [createHash('sha256').update(key).digest('hex')], 'only the SHA-256 is stored');

    const listed = await cli.run(['operator-keys', 'list', '--json']);
    t.is(listed.code, 0, listed.stderr);
    const [entry] = JSON.parse(listed.stdout) as { id: string; name: string; prefix: string; revokedAt: string | null }[];
    t.like(entry, { name: 'CRM backend', prefix: key.slice(0, 10), revokedAt: null });
    t.false(listed.stdout.includes(key));

    const connector = await startConnector(backend, t, { databaseUrl: cli.databaseUrl, secretsKey: cli.secretsKey, limits: { cacheTtlMs: 1 } });
    t.is((await callApi(`${connector.url}/api/accounts`, 'GET', key)).status, 200);

    const revoked = await cli.run(['operator-keys', 'revoke', '--id', entry!.id]);
    t.is(revoked.code, 0, revoked.stderr);
    connector.clock.advance(2);
    t.is((await callApi(`${connector.url}/api/accounts`, 'GET', key)).status, 401);
    t.is((await cli.run(['operator-keys', 'revoke', '--id', entry!.id])).code, 1, 'revoked already');
    t.regex((await cli.run(['operator-keys', 'list'])).stdout, /CRM backend {2}\(revoked /);

    // A usage mistake prints the one line that is wrong (and where the usage is), nothing on stdout.
    const wrong: [string[], RegExp][] = [
      [['operator-keys', 'create'], /operator-keys create needs --name/],
      [['operator-keys', 'revoke'], /operator-keys revoke needs --id/],
      [['operator-keys', 'rotate'], /unknown command "operator-keys rotate"/],
    ];
    for (const [args, line] of wrong) {
      const bad = await cli.run(args);
      t.is(bad.code, 2, args.join(' '));
      t.regex(bad.stderr, line);
      t.regex(bad.stderr, /--help shows the usage/);
      t.is(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      t.is(bad.stdout, '');
    }
  });
});

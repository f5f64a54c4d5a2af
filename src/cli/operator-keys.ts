// `operator-keys create --name N | list [--json] | revoke --id ID`: the keys of the CRM's own systems.
import type { Services } from '../app.js';

interface Values {
  name?: string;
  id?: string;
  json?: boolean;
}

class OperatorKeysUsageError extends Error {
  override name = 'UsageError';
}

export function checkOperatorKeysUsage(command: string, values: Values): void {
  if (!['operator-keys create', 'operator-keys list', 'operator-keys revoke'].includes(command)) {
    throw usage(`unknown command "${command}"`);
  }
  if (command === 'operator-keys create' && !values.name?.trim()) throw usage('operator-keys create needs --name');
  if (command === 'operator-keys revoke' && !values.id) throw usage('operator-keys revoke needs --id');
}

// The CLI's own UsageError (exit code 2, usage printed) is matched by name, so this module does not import main.ts
// (which runs on import).
function usage(message: string): Error {
  return Object.assign(new OperatorKeysUsageError(message), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
}

export async function operatorKeysCommand(s: Services, command: string, values: Values): Promise<number> {
  const keys = s.operators.keys;
  switch (command) {
    case 'operator-keys create': {
      const { key, record } = await keys.create(values.name!);
      process.stderr.write(`operator key "${record.name}" (${record.prefix}…, id ${record.id}); it is shown only now:\n`);
      console.log(key);
      return 0;
    }
    case 'operator-keys list': {
      const rows = (await keys.list()).map((k) => ({
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        createdAt: k.createdAt.toISOString(),
        lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
        revokedAt: k.revokedAt?.toISOString() ?? null,
      }));
      if (values.json) console.log(JSON.stringify(rows, null, 2));
      else if (!rows.length) console.log('no operator keys');
      else {
        for (const r of rows) {
          const state = r.revokedAt ? `revoked ${r.revokedAt}` : `last used ${r.lastUsedAt ?? 'never'}`;
          console.log(`${r.id}  ${`${r.prefix}…`.padEnd(12)}  ${r.name}  (${state})`);
        }
      }
      return 0;
    }
    case 'operator-keys revoke': {
      if (!(await keys.revoke(values.id!))) {
        console.error(`error: no operator key with id ${values.id} that is not revoked already`);
        return 1;
      }
      console.log(`revoked operator key ${values.id}`);
      return 0;
    }
  }
  return 2;
}

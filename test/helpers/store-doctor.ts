// Shared by the detection and doctor tests: a mock store over HTTP, integrations whose tokens Magento minted itself
// (no Callback URL: Activate shows the four credentials), and a real transport.
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMockStore, type MockStore, type MockStoreOptions } from '../../src/mock-store/app.js';
import type { NewIntegration } from '../../src/mock-store/integrations.js';
import type { StoreCredentials } from '../../src/protocol/rest-client.js';
import { createTransport, type Transport, type TransportOptions } from '../../src/protocol/transport.js';

export async function startStore(t: ExecutionContext, options: MockStoreOptions = {}): Promise<MockStore> {
  const store = createMockStore({ testMode: true, onError: (e) => t.log('mock-store error', e), ...options });
  await store.start(0);
  t.teardown(() => store.close());
  return store;
}

export interface Active {
  id: number;
  keys: Omit<StoreCredentials, 'profile'>;
}

/** An Active integration with Magento-minted credentials. */
export async function activeIntegration(store: MockStore, options: Partial<NewIntegration> = {}): Promise<Active> {
  const integration = store.admin.create({ name: `CRM ${Math.random()}`, ...options });
  const { tokens } = await store.admin.activate(integration.id);
  if (!tokens) throw new Error('expected minted tokens');
  return {
    id: integration.id,
    keys: {
      storeBaseUrl: store.baseUrl,
      consumerKey: tokens.consumerKey,
      consumerSecret: tokens.consumerSecret,
      accessToken: { key: tokens.accessToken, secret: tokens.accessTokenSecret },
    },
  };
}

export function transport(t: ExecutionContext, options: Partial<TransportOptions> = {}): Transport {
  const tr = createTransport({ allowPrivate: true, connectTimeoutMs: 10_000, totalTimeoutMs: 20_000, maxResponseBytes: 5_000_000, ...options });
  t.teardown(() => tr.close());
  return tr;
}

/** A self-signed certificate for `host` via the openssl CLI; `expired` dates it in January 2020. */
export function certificate(t: ExecutionContext, options: { host?: string; expired?: boolean } = {}): { key: string; cert: string } {
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'doctor-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const at = (f: string): string => join(dir, f);
  const san = /^[\d.]+$/.test(host) ? `IP:${host}` : `DNS:${host}`;
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
  };
  if (!options.expired) {
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${host}`, '-addext', `subjectAltName=${san}`, '-days', '30', '-keyout', at('key.pem'), '-out', at('cert.pem')]);
  } else {
    writeFileSync(at('index.txt'), '');
    writeFileSync(at('serial'), '01\n');
    writeFileSync(
      at('ca.cnf'),
      '[ca]\ndefault_ca=d\n[d]\ndir=.\ndatabase=index.txt\nserial=serial\nnew_certs_dir=.\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n',
    );
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${host}`, '-addext', `subjectAltName=${san}`, '-keyout', at('key.pem'), '-out', at('req.pem')]);
    run(['ca', '-batch', '-config', at('ca.cnf'), '-selfsign', '-keyfile', at('key.pem'), '-in', at('req.pem'), '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-out', at('cert.pem')]);
  }
  return { key: readFileSync(at('key.pem'), 'utf8'), cert: readFileSync(at('cert.pem'), 'utf8') };
}

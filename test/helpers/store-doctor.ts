// Shared by the detection and doctor tests: a mock store over HTTP, integrations whose tokens Magento minted itself
// (no Callback URL: Activate shows the four credentials), and a real transport.
import type { ExecutionContext } from 'ava';
import type { MockStore } from '../../src/mock-store/app.js';
import type { NewIntegration } from '../../src/mock-store/integrations.js';
import type { StoreCredentials } from '../../src/protocol/rest-client.js';
import { createTransport, type Transport, type TransportOptions } from '../../src/protocol/transport.js';

export { startStore } from '../mock-store/helpers.js';
export { certificate } from './tls.js';

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

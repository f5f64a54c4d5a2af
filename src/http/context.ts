// What the HTTP layer is given: services built in src/app.ts. Routes only translate HTTP to these and back.
// `storage` is still read by four seams waiting for their domain operations (steps/load-identity.ts,
// routes/oidc.ts requireKnownActivation, store-directory.ts, routes/ops.ts); the account pages and the sign-in steps
// do not touch it.
import type { Accounts } from '../accounts/accounts.js';
import type { ActivationService } from '../activation/service.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { IdentityServices } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { Readiness } from '../storage/readiness.js';
import type { OperatorServices } from '../operators/index.js';
import type { Storage } from '../storage/types.js';
import type { StoreAvailability } from '../store-api/availability.js';
import type { StoreGateway } from '../store-api/gateway.js';
import type { StoreViews } from '../store-api/store-views.js';
import type { StoreHealth } from '../store-api/health.js';
import type { ApiKeyCache } from './auth.js';
import type { Render } from './views.js';
import type { RevocationProber } from '../probes/prober.js';

export interface HttpServices {
  config: Config;
  clock: Clock;
  logger: Logger;
  storage: Storage;
  accounts: Accounts;
  activation: ActivationService;
  /** An account's stores, and signed calls to them on its behalf (the proxy and the TypeScript client). */
  stores: StoreGateway;
  /** per-store circuit breaker state (shown with each store). */
  availability: StoreAvailability;
  /** the store views each store's integration can see (cached). */
  storeViews: StoreViews;
  /** The store doctor per store (GET /api/stores/:id/health, the account page, `stores doctor`). */
  health: StoreHealth;
  /** Throws StorageUnavailableError (`database_unavailable`) when the database cannot be reached. */
  readiness(): Promise<Readiness>;
  keys: ApiKeyCache;
  /** Sign-in with an OpenID provider, password resets and changes, mail (issue 14). */
  identity: IdentityServices;
  render: Render;
  /** Revocation probes of active stores (started with the server). */
  prober: RevocationProber;
  /** Operator keys, operators' accounts, webhooks and their delivery worker. */
  operators: OperatorServices;
  /** HMAC key for CSRF tokens, derived from the secrets key so every instance shares it. */
  csrfKey: Buffer;
}

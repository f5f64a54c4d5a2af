// What the HTTP layer is given: services built in src/app.ts. Routes only translate HTTP to these and back.
import type { Accounts } from '../accounts/accounts.js';
import type { ActivationService } from '../activation/service.js';
import type { StoreCalls } from '../calls/store-calls.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { OperatorServices } from '../operators/index.js'; // crm
import type { Storage } from '../storage/types.js';
import type { ApiKeyCache } from './auth.js';
import type { Render } from './views.js';

export interface HttpServices {
  config: Config;
  clock: Clock;
  logger: Logger;
  storage: Storage;
  accounts: Accounts;
  activation: ActivationService;
  /** Signed calls to stores on an account's behalf (the proxy and the TypeScript client). */
  calls: StoreCalls;
  keys: ApiKeyCache;
  render: Render;
  /** crm: operator keys, operators' accounts, webhooks and their delivery worker. */
  operators: OperatorServices;
  /** HMAC key for CSRF tokens, derived from the secrets key so every instance shares it. */
  csrfKey: Buffer;
}

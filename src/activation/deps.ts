// What the activation steps are given (built in src/app.ts).
import type { Clock } from '../clock.js';
import type { Durations, Limits } from '../config.js';
import type { Logger } from '../log.js';
import type { TokenEndpoints } from '../protocol/token-endpoints.js';
import type { Transport } from '../protocol/transport.js';
import type { Storage, TransitionEvents } from '../storage/types.js';
import { bindingEvents } from '../webhooks/events.js';

export interface ActivationDeps {
  storage: Storage;
  tokenEndpoints: TokenEndpoints;
  clock: Clock;
  durations: Durations;
  limits: Pick<
    Limits,
    'backgroundConcurrency' | 'callbackRatePerAccount' | 'callbackRatePerAddress' | 'pendingBindingsPerAccount' | 'maxStoresPerAccount' | 'requestTokenPerHost'
  >;
  logger: Logger;
  /** ALLOW_PRIVATE_STORE_URLS: accept http:// and non-public store URLs (development, tests). */
  allowPrivateStoreUrls: boolean;
  /** The signing-profile detection after activation (egress-guarded transport, per-probe timeout); none without it. */
  detection?: { transport: Transport; timeoutMs: number };
}

/** The lifecycle events of the steps' transitions, written with them (bindings.modify's last argument). */
export function transitionEvents(deps: Pick<ActivationDeps, 'storage' | 'clock'>): TransitionEvents {
  return bindingEvents(deps.storage.accounts, deps.clock);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// Calls to a merchant's store on an account's behalf: find the binding (cached briefly), check it belongs to the
// account and is active, sign and send through the REST client under the store's concurrency cap, and notice when
// Magento says the access token is dead. Magento's answers come back as they are; only our own failures throw.
import type { ActivationService } from '../activation/service.js';
import type { Clock } from '../clock.js';
import type { Limits } from '../config.js';
import type { Logger } from '../log.js';
import { ProtocolError } from '../protocol/errors.js';
import type { RestCall, RestClient, RestResponse } from '../protocol/rest-client.js';
import { EgressDeniedError, ResponseTooLargeError, TransportError, UpstreamTimeoutError } from '../protocol/transport-errors.js';
import type { Binding, Storage } from '../storage/types.js';
import {
  CallError,
  fillPlaceholders,
  readMagentoError,
  RequestRefusedError,
  StoreNotActiveError,
  StoreNotFoundError,
  StoreTimeoutError,
  StoreUnreachableError,
} from './errors.js';
import { PerKeyLimiter } from './limiter.js';

// Magento's 401 messages that mean the token itself is dead (integration deleted or reauthorized), as opposed to
// "The consumer isn't authorized to access %resources." (a resource not granted) or a bad signature.
const DEAD_TOKEN = [
  /^Specified token does not exist/i,
  /^A consumer having the specified key does not exist/i,
  /^A consumer with the ID .* does not exist/i,
  /^Access token has been revoked/i,
  /^Token is not an access token/i,
];

export function isDeadTokenMessage(message: string): boolean {
  return DEAD_TOKEN.some((re) => re.test(message));
}

export interface StoreCallsOptions {
  storage: Storage;
  activation: ActivationService;
  rest: RestClient;
  clock: Clock;
  limits: Pick<Limits, 'perStoreConcurrency' | 'perStoreQueue' | 'cacheTtlMs'>;
  logger: Logger;
}

export class StoreCalls {
  private readonly cache = new Map<string, { binding: Binding; until: number }>();
  private readonly limiter: PerKeyLimiter;

  constructor(private readonly o: StoreCallsOptions) {
    this.limiter = new PerKeyLimiter(o.limits.perStoreConcurrency, o.limits.perStoreQueue);
  }

  /** The account's binding, from a cache at most `cacheTtlMs` old: a change made elsewhere shows within that. */
  async binding(accountId: string, id: string): Promise<Binding> {
    const now = this.o.clock.now().getTime();
    const hit = this.cache.get(id);
    let binding = hit && hit.until > now ? hit.binding : null;
    if (!binding) {
      binding = await this.o.storage.bindings.byId(id);
      if (binding) {
        this.remember(binding);
      } else {
        this.cache.delete(id);
      }
    }
    // Another account's store is "not found", never "forbidden": its existence is not confirmed.
    if (!binding || binding.accountId !== accountId) throw new StoreNotFoundError();
    return binding;
  }

  forget(id: string): void {
    this.cache.delete(id);
  }

  /** Sends a call for the account's store; Magento's status and body are returned whatever they are. */
  async send(accountId: string, id: string, call: RestCall): Promise<RestResponse> {
    const binding = await this.binding(accountId, id);
    const response = await this.sendWith(binding, call);
    if (response.status !== 401) return response;
    const current = await this.checkRevocation(binding, response);
    // Our copy of the binding was older than the stored one (a Reauthorize finished since it was cached, here or on
    // another instance): Magento refused the old token before acting on anything, so the call is sent once more,
    // with the new token, whatever its method.
    if (current?.state === 'active' && current.accessToken && current.accessToken.token !== binding.accessToken!.token) {
      if (current.accountId !== accountId) throw new StoreNotFoundError();
      this.remember(current);
      return this.sendWith(current, call);
    }
    return response;
  }

  private async sendWith(binding: Binding, call: RestCall): Promise<RestResponse> {
    if (binding.state !== 'active' || !binding.accessToken) throw new StoreNotActiveError(binding.state, binding.lastError);
    const accessToken = { key: binding.accessToken.token, secret: binding.accessToken.secret };
    try {
      return await this.limiter.run(binding.id, () =>
        this.o.rest.send(
          { storeBaseUrl: binding.storeBaseUrl, consumerKey: binding.consumerKey, consumerSecret: binding.consumerSecret, accessToken },
          call,
        ),
      );
    } catch (err) {
      throw toCallError(err, binding);
    }
  }

  private remember(binding: Binding): void {
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(binding.id, { binding, until: this.o.clock.now().getTime() + this.o.limits.cacheTtlMs });
  }

  /** On a 401 that says the token is dead: marks the binding revoked if it still holds that token. The stored binding. */
  private async checkRevocation(binding: Binding, response: RestResponse): Promise<Binding | null> {
    const type = response.headers['content-type'];
    const error = readMagentoError(response.body, Array.isArray(type) ? type[0] : type);
    if (!error || !isDeadTokenMessage(error.message)) return null;
    const message = fillPlaceholders(error.message, error.parameters);
    const current = await this.o.activation.markRevoked(binding.id, binding.accessToken!.token, message);
    this.forget(binding.id);
    if (current?.state === 'revoked') {
      this.o.logger.warn({ bindingId: binding.id, storeBaseUrl: binding.storeBaseUrl, message }, 'store revoked: Magento refused the access token');
    }
    return current;
  }
}

export function toCallError(err: unknown, binding: Binding): unknown {
  if (err instanceof CallError) return err;
  const store = binding.storeBaseUrl;
  if (err instanceof UpstreamTimeoutError) return new StoreTimeoutError(`The store at ${store} did not answer in time: ${err.message}`, { cause: err });
  if (err instanceof ResponseTooLargeError) return new CallError('response_too_large', `The store's answer is too large: ${err.message}`, { cause: err });
  if (err instanceof EgressDeniedError) return new StoreUnreachableError(`The store at ${store} cannot be called: ${err.message}`, { cause: err });
  if (err instanceof TransportError) {
    if (err.code === 'request_too_large' || err.code === 'invalid_request') return new RequestRefusedError(err.message, { cause: err });
    return new StoreUnreachableError(`Could not reach the store at ${store}: ${err.message}`, { cause: err });
  }
  if (err instanceof ProtocolError) return new RequestRefusedError(err.message, { cause: err });
  return err;
}

// The store gateway: an account's stores, and calls to them on its behalf. Finds the binding (cached briefly),
// checks it belongs to the account and is active, signs and sends through the REST client under the store's
// concurrency cap, and notices when Magento says the access token is dead (the binding transition `revoked`).
// Magento's answers come back as they are; only our own failures throw.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { storeDetection } from '../activation/profile.js';
import { revokeAccessToken } from '../activation/revocation.js';
import { recordStep } from '../activation/timeline.js';
import { probeSucceeded, probeWarned } from '../activation/transitions.js';
import { millisOf, type Clock } from '../clock.js';
import type { Limits } from '../config.js';
import type { Logger } from '../log.js';
import { ProtocolError } from '../protocol/errors.js';
import { cutStoreText } from '../protocol/magento-errors.js';
import type { RestCall, RestClient, RestResponse, StoreCredentials } from '../protocol/rest-client.js';
import type { ResponseBudget } from '../protocol/transport.js';
import { isRevokedTokenMessage, type ProfileRedetector } from '../protocol/verifier-detection.js';
import { EgressDeniedError, ResponseBudgetExceededError, ResponseTooLargeError, TransportError, UpstreamTimeoutError } from '../protocol/transport-errors.js';
import type { ProbeRepository } from '../storage/probes.js';
import type { Binding, BindingEventRepository, BindingRepository, Page, PageRequest, TransitionEvents } from '../storage/types.js';
import {
  AccountBusyError,
  CallError,
  ConnectorBusyError,
  fillPlaceholders,
  readMagentoError,
  RequestRefusedError,
  StoreNotActiveError,
  StoreNotFoundError,
  StoreTimeoutError,
  StoreUnreachableError,
} from './errors.js';
import { PerKeyLimiter } from './limiter.js';
import { CallLimits, type HoldUntil } from './limits.js';
import { describeStore, describeStoreDetail, describeTimeline, type StoreDetailView, type StoreView } from './store-view.js';

// Bindings cached per instance: bounded, least recently used goes first.
const CACHED_BINDINGS = 10_000;

/** Magento's ACL refusal (AuthorizationException::NOT_AUTHORIZED): the token was accepted, the resource not granted. */
export function isRefusedResourceMessage(message: string): boolean {
  return /^The consumer isn't authorized to access /.test(message);
}

export interface StoreGatewayOptions {
  bindings: BindingRepository;
  rest: RestClient;
  clock: Clock;
  limits: Pick<Limits, 'perStoreConcurrency' | 'perStoreQueue' | 'cacheTtlMs' | 'callsPerAccount' | 'callsInFlight' | 'responseBufferBytesPerAccount'>;
  logger: Logger;
  /** The bindings' timelines: revocations and profile changes are recorded, GET /api/stores/:id shows the last few. */
  timeline?: BindingEventRepository;
  /** Re-detects a known profile after "The signature is invalid" (one per instance); none: the 401 goes back as is. */
  redetector?: ProfileRedetector;
  /** The lifecycle events of revocations and deletions (src/webhooks/events.ts bindingEvents); none when absent. */
  events?: TransitionEvents;
  /** Where a successful call is recorded (at most once a minute per store), so the revocation probe can skip it. */
  probes?: Pick<ProbeRepository, 'recordOk'>;
  /** The transport's budget of all response bytes (issue 13): answers held for slow callers count in it too. */
  responseBudget?: ResponseBudget;
  /**
   * Told (with the successful calls' throttle) of a store marked unavailable that answered: store.available
   * (src/webhooks/availability.ts), also when this instance's own circuit breaker never opened for it.
   */
  availability?: { storeAnswered(binding: Binding): void };
}

/** Timeline entries GET /api/stores/:id shows. */
export const TIMELINE_SHOWN = 10;

/**
 * The revocation probe's call (docs/magento-protocol.md §7b): cheap, harmless, signed like any other, and bound to an
 * ACL resource that no setting makes anonymous, so Magento checks the token before it answers. Granted or not, a
 * live token gets the default customer group or "The consumer isn't authorized to access Magento_Customer::group."
 * (both prove the token alive); a dead one gets a dead-token 401.
 */
export const PROBE_CALL: RestCall = { method: 'GET', path: 'V1/customerGroups/default' };
// How often a store's successful calls are recorded, at most (per instance).
const CALL_OK_RECORD_MS = 60_000;

export type ProbeOutcome =
  /** The token is alive; `callOkAt` when the call itself succeeded (2xx: the prober records it with the next due time). */
  | { outcome: 'ok'; callOkAt?: Date }
  /** Magento said the token is dead: the binding is revoked (store.revoked emitted). */
  | { outcome: 'revoked' }
  /** Anything else: a warning on the store, which stays active. */
  | { outcome: 'warning'; message: string }
  /** Not active any more (or gone): nothing to probe. */
  | { outcome: 'skipped' };

export class StoreGateway {
  private readonly bindings: BindingRepository;
  private readonly rest: RestClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly events: TransitionEvents | undefined;
  private readonly probes: StoreGatewayOptions['probes'];
  private readonly availability: StoreGatewayOptions['availability'];
  private readonly callOkRecorded: LRUCache<string, true>;
  private readonly cache: LRUCache<string, Binding>;
  /** Reads of bindings not cached yet, by id, while they run. */
  private readonly reading = new Map<string, Promise<Binding | null>>();
  private readonly limiter: PerKeyLimiter;
  /** Issue 13: calls in flight per account and in all, and the accounts' response budgets (limits.ts). */
  readonly callLimits: CallLimits;
  private readonly timeline: BindingEventRepository | undefined;
  private readonly redetector: ProfileRedetector | undefined;

  constructor(options: StoreGatewayOptions) {
    ({ bindings: this.bindings, rest: this.rest, clock: this.clock, logger: this.logger, events: this.events, timeline: this.timeline, redetector: this.redetector, probes: this.probes, availability: this.availability } = options);
    this.callOkRecorded = new LRUCache({ max: CACHED_BINDINGS, ttl: CALL_OK_RECORD_MS, ttlAutopurge: false, perf: { now: millisOf(this.clock) } });
    const { limits } = options;
    this.limiter = new PerKeyLimiter(limits.perStoreConcurrency, limits.perStoreQueue);
    this.callLimits = new CallLimits({
      callsPerAccount: limits.callsPerAccount,
      calls: limits.callsInFlight,
      responseBytesPerAccount: limits.responseBufferBytesPerAccount,
      instanceBudget: options.responseBudget,
    });
    this.cache = new LRUCache({ max: CACHED_BINDINGS, ttl: limits.cacheTtlMs, perf: { now: millisOf(this.clock) } });
  }

  // ---- the account's stores ------------------------------------------------------------------------------------

  async listStores(accountId: string): Promise<StoreView[]> {
    return (await this.bindings.listByAccount(accountId)).map(describeStore);
  }

  /** Every store, or one account's, a page at a time in creation order (the operator API). */
  async pageStores(request: PageRequest & { accountId?: string }): Promise<Page<StoreView>> {
    const page = await this.bindings.page(request);
    return { items: page.items.map(describeStore), next: page.next };
  }

  /** The account's store as it is now (not from the cache); StoreNotFoundError for another account's. */
  async getStore(accountId: string, id: string): Promise<StoreDetailView> {
    this.evictCached(id);
    const binding = await this.ownedBinding(accountId, id);
    return describeStoreDetail(binding, this.timeline ? await this.timeline.recent(id, TIMELINE_SHOWN) : []);
  }

  /** The newest entries of a store's activation timeline, newest first (the caller has checked the owner). */
  async recentSteps(id: string, limit = TIMELINE_SHOWN): Promise<StoreDetailView['timeline']> {
    return this.timeline ? describeTimeline(await this.timeline.recent(id, limit)) : [];
  }

  /** Runs `task` under the store's per-store cap (the doctor's requests count against it too). */
  capped<T>(storeId: string, task: () => Promise<T>): Promise<T> {
    return this.limiter.run(storeId, task);
  }

  /** Disconnects the account's store on our side (Magento's integration is left as it is). */
  async deleteStore(accountId: string, id: string): Promise<void> {
    const deleted = await this.bindings.delete(id, accountId, this.events);
    this.evictCached(id);
    if (!deleted) throw new StoreNotFoundError();
    this.logger.info({ bindingId: id, accountId }, 'store binding deleted by its account');
  }

  /** The account's binding, from a cache at most `cacheTtlMs` old: a change made elsewhere shows within that. */
  async ownedBinding(accountId: string, id: string): Promise<Binding> {
    const binding = await this.cachedBinding(id);
    // Another account's store is "not found", never "forbidden": its existence is not confirmed.
    if (!binding || binding.accountId !== accountId) throw new StoreNotFoundError();
    return binding;
  }

  /**
   * The account a store belongs to (null: none, or no such store), from the same cache as the calls: an owner never
   * changes, but a store nobody owned yet may have been claimed since it was cached, so that one is read again.
   */
  async ownerOf(id: string): Promise<string | null> {
    const cached = this.cache.get(id);
    if (cached?.accountId) return cached.accountId;
    if (cached) this.evictCached(id);
    return (await this.cachedBinding(id))?.accountId ?? null;
  }

  private cachedBinding(id: string): Promise<Binding | null> {
    const cached = this.cache.get(id);
    if (cached) return Promise.resolve(cached);
    // Calls to a store not cached yet share one read (a burst to a cold store, or a prefetch and the call after it).
    const pending = this.reading.get(id);
    if (pending) return pending;
    const started: Promise<Binding | null> = this.bindings
      .byId(id)
      .then((binding) => {
        // Evicted while it was read (a change here since): not cached, the next call reads again.
        if (binding && this.reading.get(id) === started) this.cache.set(id, binding);
        return binding;
      })
      .finally(() => {
        if (this.reading.get(id) === started) this.reading.delete(id);
      });
    this.reading.set(id, started);
    return started;
  }

  /**
   * Starts reading a store into the cache (the proxy, while an API key not cached is looked up: on PostgreSQL the two
   * round trips overlap, issue 16). The call that follows shares the read; a failure is the call's to see.
   * (Repositories are async through and through, storage/prisma/shared.ts `guarded`: a failure is a rejection.)
   */
  prefetch(id: string): void {
    this.cachedBinding(id).catch(() => {});
  }

  evictCached(id: string): void {
    this.cache.delete(id);
    this.reading.delete(id);
  }

  /**
   * Drops the cached bindings (and call records) past their TTL. LRU entries are only dropped when read or pushed
   * out, so after a burst over many stores an idle instance would hold up to 10,000 stale bindings (issue 16).
   */
  purgeStale(): void {
    this.cache.purgeStale();
    this.callOkRecorded.purgeStale();
  }

  /** Calls to this store in flight on this instance, and waiting for a slot of its cap (tests, metrics). */
  inFlight(storeId: string): number {
    return this.limiter.inFlight(storeId);
  }
  queued(storeId: string): number {
    return this.limiter.queued(storeId);
  }

  // ---- calls ---------------------------------------------------------------------------------------------------

  /**
   * Sends a call for the account's store; Magento's status and body are returned whatever they are. Counted against
   * the account's and the instance's bounds on calls in flight (refused at once past them), its response against
   * the account's budget of response bytes (limits.ts). With `holdUntil`, the call's slot and its answer's bytes
   * stay counted until the caller has the answer (the proxy: until its response is written).
   */
  send(accountId: string, id: string, call: RestCall, options?: { holdUntil?: HoldUntil }): Promise<RestResponse> {
    return this.callLimits.run(accountId, (responseBudget) => this.sendOwned(accountId, id, withBudget(call, responseBudget)), options?.holdUntil);
  }

  private async sendOwned(accountId: string, id: string, call: RestCall): Promise<RestResponse> {
    const binding = await this.ownedBinding(accountId, id);
    const response = await this.sendWith(binding, call);
    if (response.status !== 401) return response;
    const current = await this.checkRevocation(binding, response);
    // Our copy of the binding was older than the stored one (a Reauthorize finished since it was cached, here or on
    // another instance): Magento refused the old token before acting on anything, so the call is sent once more,
    // with the new token, whatever its method.
    if (current?.state === 'active' && current.accessToken && current.accessToken.token !== binding.accessToken!.token) {
      if (current.accountId !== accountId) throw new StoreNotFoundError();
      this.cache.set(current.id, current);
      const retried = await this.sendWith(current, call);
      // The new token may be dead too (the integration deleted since): that answer revokes like any other.
      if (retried.status === 401) await this.checkRevocation(current, retried);
      return retried;
    }
    return response;
  }

  /**
   * A successful signed call (any: proxy, client, GraphQL, bulk, reads, probes): recorded for the revocation probe at
   * most once a minute per store and instance, in the background.
   */
  private noteCallOk(binding: Binding): void {
    if (this.callOkRecorded.has(binding.id)) return;
    this.callOkRecorded.set(binding.id, true);
    if (binding.unavailableSince) this.availability?.storeAnswered(binding);
    this.probes?.recordOk(binding.id, this.clock.now()).catch((err: unknown) => {
      this.logger.warn({ bindingId: binding.id, err: err instanceof Error ? err.message : String(err) }, 'could not record a successful call');
    });
  }

  /**
   * The revocation probe of one store: PROBE_CALL with its current token. Only a dead-token 401 revokes (the same
   * check as any call's); a refused resource, another status, a timeout or a TLS error is a warning on the store.
   */
  async probe(id: string): Promise<ProbeOutcome> {
    this.evictCached(id);
    const binding = await this.bindings.byId(id);
    if (!binding || binding.state !== 'active' || !binding.accessToken) return { outcome: 'skipped' };
    const accessToken = binding.accessToken.token;
    let message: string;
    try {
      const response = await this.sendWith(binding, PROBE_CALL, false);
      const type = response.headers['content-type'];
      const error = response.status >= 400 ? readMagentoError(response.body, Array.isArray(type) ? type[0] : type) : null;
      // A refused resource is said only once the token was accepted (the ACL check comes after it, §7b): alive.
      const succeeded = response.status >= 200 && response.status < 300;
      if (succeeded || (response.status === 401 && error && isRefusedResourceMessage(error.message))) {
        // Usually nothing to clear: the row was read just now, so no write and no second read.
        if (probeSucceeded(binding, { accessToken })) await this.bindings.modify(id, (cur) => probeSucceeded(cur, { accessToken }));
        return succeeded ? { outcome: 'ok', callOkAt: this.clock.now() } : { outcome: 'ok' };
      }
      if (response.status === 401) {
        const current = await this.checkRevocation(binding, response);
        if (current?.state === 'revoked') return { outcome: 'revoked' };
        // Replaced by a newer token meanwhile: the next probe tries that one.
        if (current && current.accessToken?.token !== accessToken) return { outcome: 'skipped' };
      }
      const said = error ? `: ${cutStoreText(fillPlaceholders(error.message, error.parameters))}` : '';
      message = `${PROBE_CALL.method} ${PROBE_CALL.path} answered ${response.status}${said} (the store stays active)`;
    } catch (err) {
      if (err instanceof StoreNotActiveError) return { outcome: 'skipped' };
      message = `${PROBE_CALL.method} ${PROBE_CALL.path} failed: ${cutStoreText(err instanceof Error ? err.message : String(err))} (the store stays active)`;
    }
    await this.bindings.modify(id, (cur) => probeWarned(cur, { accessToken, message, now: this.clock.now() }));
    this.evictCached(id);
    this.logger.warn({ bindingId: id, message }, 'revocation probe: warning');
    return { outcome: 'warning', message };
  }

  /** `recordOk` false: the caller records a success itself (the prober, with the probe's next due time). */
  private async sendWith(binding: Binding, call: RestCall, recordOk = true): Promise<RestResponse> {
    if (binding.state !== 'active' || !binding.accessToken) throw new StoreNotActiveError(binding);
    const accessToken = { key: binding.accessToken.token, secret: binding.accessToken.secret };
    const store: StoreCredentials = {
      storeBaseUrl: binding.storeBaseUrl,
      consumerKey: binding.consumerKey,
      consumerSecret: binding.consumerSecret,
      accessToken,
      profile: binding.signingProfile,
    };
    try {
      // Under the store's cap (a slot taken here, given back in finally: no closure per call, issue 16).
      const waiting = this.limiter.acquire(binding.id);
      if (waiting) await waiting;
      let response: RestResponse;
      try {
        response = await this.rest.send(store, call);
        if (this.redetector && response.status === 401 && store.profile) response = await this.redetect(this.redetector, binding, store, call, response);
      } finally {
        this.limiter.release(binding.id);
      }
      if (recordOk && response.status >= 200 && response.status < 300) this.noteCallOk(binding);
      return response;
    } catch (err) {
      throw toCallError(err, binding);
    }
  }

  /**
   * A 401 from a store whose profile we know: when it says the signature is invalid (the redetector reads it), the
   * store may have been upgraded. One re-detection (shared by this store's concurrent 401s) and, when the profile
   * changed, one re-send signed afresh for it (docs/magento-protocol.md §7a).
   */
  private async redetect(redetector: ProfileRedetector, binding: Binding, store: StoreCredentials, call: RestCall, first: RestResponse): Promise<RestResponse> {
    // Keyed by binding and token: a detection remembered for an old token (before a Reauthorize) is not reused.
    const key = `${binding.id}:${createHash('sha256').update(store.accessToken.key).digest('base64url').slice(0, 12)}`;
    const outcome = await redetector.handle(key, store, first, (profile) => this.rest.send({ ...store, profile }, call));
    if (outcome.changedTo && outcome.detection) await this.profileChanged(binding, outcome.detection);
    if (outcome.refusal) throw outcome.refusal;
    return outcome.response;
  }

  private async profileChanged(binding: Binding, detection: NonNullable<Awaited<ReturnType<ProfileRedetector['handle']>>['detection']>): Promise<void> {
    if (!this.timeline) return;
    await storeDetection(
      { bindings: this.bindings, events: this.timeline, clock: this.clock, logger: this.logger },
      binding,
      binding.accessToken!.token,
      detection,
      're-detection',
    );
    this.evictCached(binding.id);
  }

  /** On a 401 that says the token is dead: revokes the binding if it still holds that token. The stored binding. */
  private async checkRevocation(binding: Binding, response: RestResponse): Promise<Binding | null> {
    const type = response.headers['content-type'];
    const error = readMagentoError(response.body, Array.isArray(type) ? type[0] : type);
    if (!error || !isRevokedTokenMessage(error.message)) return null;
    // Stored and shown: cut (issue 13), like every store text.
    const message = cutStoreText(fillPlaceholders(error.message, error.parameters));
    const started = this.clock.now();
    const current = await revokeAccessToken(this.bindings, this.clock, binding.id, binding.accessToken!.token, message, this.events);
    this.evictCached(binding.id);
    if (current?.state === 'revoked') {
      this.logger.warn({ bindingId: binding.id, storeBaseUrl: binding.storeBaseUrl, message }, 'store revoked: Magento refused the access token');
      // Recorded by the caller whose update revoked it (not by one that found it revoked already).
      if (this.timeline && current.revokedAt && current.revokedAt >= started) {
        await recordStep({ events: this.timeline, clock: this.clock, logger: this.logger }, binding.id, 'revoked', `Magento refused the access token: ${message}`);
      }
    }
    return current;
  }
}

/** The call with the account's response budget: a copy by Object.assign (a spread with a field added costs ~2 µs). */
function withBudget(call: RestCall, responseBudget: ResponseBudget): RestCall {
  const owned = Object.assign({}, call);
  owned.responseBudget = responseBudget;
  return owned;
}

export function toCallError(err: unknown, binding: Binding): unknown {
  if (err instanceof CallError) return err;
  const store = binding.storeBaseUrl;
  if (err instanceof UpstreamTimeoutError) return new StoreTimeoutError(`The store at ${store} did not answer in time: ${err.message}`, { cause: err });
  if (err instanceof ResponseTooLargeError) return new CallError('response_too_large', `The store's answer is too large: ${err.message}`, { cause: err });
  if (err instanceof ResponseBudgetExceededError) {
    return err.scope === 'account'
      ? new AccountBusyError(`The store's answer was not received: ${err.message} (MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT). Send fewer large reads at once.`, { cause: err })
      : new ConnectorBusyError(`The store's answer was not received: ${err.message} (MAX_RESPONSE_BUFFER_MB); retry shortly.`, { cause: err });
  }
  if (err instanceof EgressDeniedError) return new StoreUnreachableError(`The store at ${store} cannot be called: ${err.message}`, { cause: err });
  if (err instanceof TransportError) {
    if (err.code === 'request_too_large' || err.code === 'invalid_request') return new RequestRefusedError(err.message, { cause: err });
    return new StoreUnreachableError(`Could not reach the store at ${store}: ${err.message}`, { cause: err });
  }
  if (err instanceof ProtocolError) return new RequestRefusedError(err.message, { cause: err });
  return err;
}

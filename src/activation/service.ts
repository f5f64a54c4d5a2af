// The activation flow's entry points for the routes and the composition root. The lifecycle is in transitions.ts;
// each step's I/O in its own module (intake, request-token, access-token, identity, revocation); the background
// queue in request-token-queue.ts. Every change is a conditional update on the row's version: two instances, or a
// replayed callback, never run one step at the same time twice.
import type { Binding } from '../storage/types.js';
import { completeForAccount } from './access-token.js';
import type { CallbackInput } from './callback.js';
import type { ActivationDeps } from './deps.js';
import { accountForToken, activationUrls, activationUrlsOf, rotateActivationUrls, type ActivationUrls } from './account-urls.js';
import { identityPage, knownBinding, type ActivationScope } from './identity.js';
import { checkCallback, countCallback, receiveCallback, type CallbackVia, type RecordedCallback } from './intake.js';
import { detectAndStoreProfile } from './profile.js';
import { connectWithCredentials, type CredentialsConnection, type PastedField } from './credentials.js';
import { fetchRequestToken } from './request-token.js';
import { RequestTokenQueue } from './request-token-queue.js';
import { transitionEvents } from './deps.js';
import { recordActivationStep } from './timeline.js';
import { secretsUnreadable } from './transitions.js';

export type { ActivationDeps } from './deps.js';
export { ActivationError, type ActivationErrorCode } from './errors.js';
export type { CallbackVia, RecordedCallback } from './intake.js';
export type { ActivationUrls } from './account-urls.js';
export type { ActivationScope } from './identity.js';
export { CredentialsError, PASTED_FIELDS, type CredentialsConnection, type CredentialsErrorCode, type PastedField } from './credentials.js';

function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : url;
}

export class ActivationService {
  private readonly queue: RequestTokenQueue;
  private readonly detections = new Set<Promise<unknown>>();

  constructor(private readonly deps: ActivationDeps) {
    this.queue = new RequestTokenQueue({
      concurrency: deps.limits.backgroundConcurrency,
      logger: deps.logger,
      perHost: deps.limits.requestTokenPerHost,
      run: (bindingId) => this.fetchRequestToken(bindingId),
      due: (limit) => deps.storage.bindings.due(deps.clock.now(), limit),
      unreadable: (bindingId, err) => this.markUnreadable(bindingId, err),
    });
  }

  /** The callback's fields, or CallbackInputError (`invalid_callback`), logged and remembered for the popup. */
  checkCallback(body: Record<string, unknown>): Promise<CallbackInput> {
    return checkCallback(this.deps, body);
  }

  /**
   * Records a checked callback; returns at once (queue the request token with queueRequestTokenFetch). `via` is the
   * account whose Callback URL it came through (null: the shared URL, OPEN_SIGNUP_ACTIVATION).
   */
  receiveCallback(input: CallbackInput, via: CallbackVia = { accountId: null }): Promise<RecordedCallback> {
    return receiveCallback(this.deps, input, via);
  }

  /** Counts a callback against the rate limits (429 `callback_rate_limited` beyond them). */
  countCallback(from: { address: string | null; accountId: string | null }): Promise<void> {
    return countCallback(this.deps, from);
  }

  /** Issue 13: a binding whose secrets cannot be opened is failed with the reason (secretsUnreadable), and skipped. */
  private async markUnreadable(bindingId: string, err: Error): Promise<void> {
    const now = this.deps.clock.now();
    const marked = await this.deps.storage.bindings.modifyUnreadable(bindingId, (cur) => secretsUnreadable(cur, { reason: err.message, now }), transitionEvents(this.deps));
    if (marked) await recordActivationStep(this.deps, bindingId, 'request_token', `not fetched: the stored secrets cannot be opened (${err.message})`);
  }

  /** Fetches the request token in the background, after the callback has been answered. */
  queueRequestTokenFetch(binding: Binding): void {
    this.queue.add(binding.id, hostOf(binding.storeBaseUrl));
  }

  // ---- the account's activation URLs (issue 13) ----

  /** The account's Callback URL and Identity Link URL (its token is created on first need). */
  activationUrls(accountId: string, publicUrl: string): Promise<ActivationUrls> {
    return activationUrls(this.deps, accountId, publicUrl);
  }

  /** The URLs of several accounts at once (a page of the operator API's account list), in the order given. */
  activationUrlsOf(accountIds: readonly string[], publicUrl: string): Promise<ActivationUrls[]> {
    return activationUrlsOf(this.deps, accountIds, publicUrl);
  }

  /** New URLs for the account: the old ones stop accepting new activations; existing bindings are untouched. */
  rotateActivationUrls(accountId: string, publicUrl: string): Promise<ActivationUrls> {
    return rotateActivationUrls(this.deps, accountId, publicUrl);
  }

  /** The account an activation URL's token belongs to, or null. */
  accountForToken(token: string): Promise<string | null> {
    return accountForToken(this.deps, token);
  }

  /** Deletes bindings that never completed, some hours after Magento's window closed (with their secrets). */
  housekeeping(): Promise<number> {
    const { clock, durations, storage } = this.deps;
    return storage.bindings.deleteAbandoned(new Date(clock.now().getTime() - durations.magentoWindowMs - durations.abandonedBindingMs));
  }

  /** Resumes request-token work that is due: retries, and claims of instances that died. Run periodically. */
  resumeDue(limit?: number): Promise<number> {
    return this.queue.resumeDue(limit);
  }

  /** Waits for background steps (tests, shutdown). */
  async drain(): Promise<void> {
    await this.queue.drain();
    while (this.detections.size) await Promise.allSettled([...this.detections]);
  }

  /**
   * Detects the store's signing profile in the background (off the popup's path) and stores it on the binding;
   * an undetermined result keeps the profile null (the common form) and is logged and in the timeline.
   */
  queueProfileDetection(binding: Binding): void {
    const { detection } = this.deps;
    if (!detection) return;
    const deps = { bindings: this.deps.storage.bindings, events: this.deps.storage.bindingEvents, clock: this.deps.clock, logger: this.deps.logger, ...detection };
    const run = detectAndStoreProfile(deps, binding).finally(() => this.detections.delete(run));
    this.detections.add(run);
  }

  /** One attempt at the request token for the binding's newest verifier (when due and nobody else holds it). */
  fetchRequestToken(bindingId: string, options: { ignoreBackoff?: boolean } = {}): Promise<Binding | null> {
    return fetchRequestToken(this.deps, bindingId, options);
  }

  /** The popup's decision: the binding to sign in for, or an ActivationError saying why not and what to do. */
  identityPage(consumerKey: string, scope?: ActivationScope): Promise<Binding> {
    return identityPage(this.deps, consumerKey, scope);
  }

  /** The binding a popup form is for, or ActivationError `unknown_activation` / `callback_refused`. */
  knownBinding(consumerKey: string, scope?: ActivationScope): Promise<Binding> {
    return knownBinding(this.deps, consumerKey, scope);
  }

  /**
   * Connects a store for `accountId` with the integration's four pasted credentials (a store that cannot reach our
   * Callback URL): checked with one signed call first; CredentialsError, and nothing stored, when they do not work.
   * A new access token for the same account's pasted store (Reauthorize in Magento) reconnects that binding.
   */
  connectWithCredentials(accountId: string, input: Partial<Record<PastedField, unknown>>): Promise<CredentialsConnection> {
    const { detection } = this.deps;
    if (!detection) throw new Error('connecting with credentials needs the detection transport (ActivationDeps.detection)');
    return connectWithCredentials({ ...this.deps, detection, maxStoresPerAccount: this.deps.limits.maxStoresPerAccount }, accountId, input);
  }

  /** The merchant signed in: finishes the activation for `accountId` (ActivationError when it cannot). */
  completeForAccount(consumerKey: string, accountId: string, scope?: ActivationScope): Promise<Binding> {
    return completeForAccount(this.deps, (id, options) => this.fetchRequestToken(id, options), consumerKey, accountId, scope, (b) =>
      this.queueProfileDetection(b),
    );
  }
}

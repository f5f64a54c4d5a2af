// The activation flow, one binding per Magento integration (keyed by consumer key):
//
//   callback ──> pending ──(request token fetched right away)──> request_token ──(merchant signs in)──> active
//                   └──────────── failed (with the fix to offer) <────────┘                     revoked <──┘
//
// Magento checks its 300 s window only on the request-token call and marks the integration Active the moment the
// access-token call succeeds, so the request token is fetched as soon as the callback is answered and the access
// token only once the merchant has signed in (docs/magento-protocol.md §4, §5). Every change is a conditional update on the
// row's version: two instances, or a replayed callback, never run one step at the same time twice.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { sleep } from '../clock.js';
import type { Durations, Limits } from '../config.js';
import type { Logger } from '../log.js';
import { failedBeforeSending as neverSent, isRetryable, isTransportError } from '../protocol/failures.js';
import { MagentoOAuthProblem, UnexpectedStoreResponse } from '../protocol/magento-errors.js';
import type { TokenEndpoints } from '../protocol/token-endpoints.js';
import type { Binding, BindingPatch, Fix, Storage, TokenPair } from '../storage/types.js';
import type { CallbackInput } from './callback.js';
import { fixText } from './fixes.js';

export type ActivationErrorCode =
  | 'callback_conflict'
  | 'unknown_activation'
  | 'owned_by_other_account'
  | 'activation_failed'
  | 'still_connecting';

/** An activation that cannot go on; `fix` says what the merchant can do about it. */
export class ActivationError extends Error {
  constructor(
    readonly code: ActivationErrorCode,
    message: string,
    readonly fix: Fix | null = null,
    readonly binding?: Binding,
  ) {
    super(message);
    this.name = 'ActivationError';
  }
  get fixText(): string | null {
    return fixText(this.fix);
  }
}

export interface ActivationOptions {
  storage: Storage;
  tokens: TokenEndpoints;
  clock: Clock;
  durations: Durations;
  limits: Pick<Limits, 'backgroundConcurrency'>;
  logger: Logger;
}

// Magento's messages that tell us what its token rows look like (docs/magento-protocol.md §4a).
const NOT_A_VERIFIER = /not a verifier token/i;
const EXPIRED = /Consumer key has expired/i;
const NO_CONSUMER = /consumer having the specified key does not exist|consumer does not exist/i;
// How long the callback queue waits for a burst of callbacks to pause, and at most, before fetching.
const QUIET_MS = 100;
const MAX_DEFER_MS = 1_000;
const ACCESS_OUTCOME_UNKNOWN = 'The store did not answer our access-token request';

export class ActivationService {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly queue: string[] = [];
  private running = 0;
  private pumpTimer: NodeJS.Timeout | undefined;
  private burstStarted: number | undefined;

  constructor(private readonly o: ActivationOptions) {}

  private now(): Date {
    return this.o.clock.now();
  }

  private windowClosed(b: Binding, now = this.now()): boolean {
    return now.getTime() >= b.callbackAt.getTime() + this.o.durations.magentoWindowMs;
  }

  // ---- the callback ---------------------------------------------------------------------------------------------

  /**
   * Records a validated callback. A new consumer key creates a binding; a known one (Reauthorize, a second
   * Activate, a replay) must carry the same secret and store URL. Returns at once; the request token is fetched
   * afterwards by `fetchRequestTokenSoon`.
   */
  async receiveCallback(input: CallbackInput): Promise<{ binding: Binding; created: boolean; fetch: boolean }> {
    const { storage } = this.o;
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.now();
      // Insert first: a new consumer key (the common case) costs one query; a unique-key clash means a repeat.
      const existing =
        attempt === 0
          ? null
          : await storage.bindings.byConsumerKey(input.consumerKey);
      if (!existing) {
        const created = await storage.bindings.create({
          id: randomUUID(),
          consumerKey: input.consumerKey,
          storeBaseUrl: input.storeBaseUrl,
          state: 'pending',
          consumerSecret: input.consumerSecret,
          verifier: input.verifier,
          callbackAt: now,
          nextAttemptAt: now,
        });
        if (created) return { binding: created, created: true, fetch: true };
        continue; // a binding with this key exists (or another callback won the insert): handle ours as a repeat
      }
      if (existing.consumerSecret !== input.consumerSecret || existing.storeBaseUrl !== input.storeBaseUrl) {
        throw new ActivationError(
          'callback_conflict',
          'This consumer key is already bound with a different consumer secret or store URL; the callback was refused ' +
            'and nothing was changed.',
        );
      }
      // The verifier of the request token we hold, or of the access token: a replay of a callback we have handled.
      // Nothing to do (Magento never posts a used verifier again: Activate reuses only unused verifier rows).
      const handled = input.verifier === existing.requestToken?.verifier || input.verifier === existing.accessToken?.verifier;
      if (handled && input.verifier !== existing.verifier) {
        return { binding: existing, created: false, fetch: false };
      }
      // The verifier we are still fetching for: a replay, or Activate clicked again (Magento reuses its unused
      // verifier row and restarts its 300 s window when it posts). Our window restarts with Magento's, and a fetch
      // that is backing off is due at once (the store may be back); a claim in progress is left alone.
      if (input.verifier === existing.verifier) {
        const renewed = await this.patchFresh(existing.id, (cur) => {
          if (cur.verifier !== input.verifier || cur.callbackAt >= now) return null;
          const claimed = cur.step !== null && cur.stepUntil !== null && cur.stepUntil > now;
          return claimed ? { callbackAt: now } : { callbackAt: now, nextAttemptAt: now, stepAttempts: 0 };
        });
        return { binding: renewed ?? existing, created: false, fetch: true };
      }
      const patch: BindingPatch = {
        verifier: input.verifier,
        callbackAt: now,
        nextAttemptAt: now,
        stepAttempts: 0,
        // An active binding keeps its token until Magento issues a new one: a duplicated callback must not break
        // it. Failed and revoked bindings start over. A held request token stays usable (docs/magento-protocol.md §4a).
        state: existing.state === 'failed' || existing.state === 'revoked' ? 'pending' : existing.state,
      };
      if (existing.state !== 'active') Object.assign(patch, { lastError: null, lastErrorAt: null, fix: null });
      const updated = await storage.bindings.update(existing.id, existing.version, patch);
      if (updated) return { binding: updated, created: false, fetch: true };
    }
    throw new Error('callback kept racing with concurrent updates; giving up');
  }

  /**
   * Queues the request-token fetch, run in the background after the callback has been answered. A bounded number
   * run at once, so a storm of callbacks is answered first (Magento waits 5 s for each) and the fetches, which have
   * Magento's 300 s window, follow.
   */
  fetchRequestTokenSoon(bindingId: string): void {
    this.queue.push(bindingId);
    // While callbacks keep arriving (a burst of activations), they are answered first: the fetches start once the
    // burst pauses for a moment, or after a second at the latest. Magento's window is 300 s; its callback waits 5 s.
    const now = Date.now();
    this.burstStarted ??= now;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    const wait = Math.min(QUIET_MS, Math.max(0, this.burstStarted + MAX_DEFER_MS - now));
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      this.burstStarted = undefined;
      this.pump();
    }, wait);
    this.pumpTimer.unref?.();
  }

  private pump(): void {
    while (this.running < this.o.limits.backgroundConcurrency && this.queue.length) {
      const bindingId = this.queue.shift()!;
      this.running++;
      const run = this.fetchRequestToken(bindingId)
        .catch((err: unknown) => this.o.logger.error({ err, bindingId }, 'request-token step crashed'))
        .finally(() => {
          this.running--;
          this.inFlight.delete(run);
          this.pump();
        });
      this.inFlight.add(run);
    }
  }

  /** Waits for background steps (tests, shutdown). */
  async drain(): Promise<void> {
    if (this.pumpTimer) {
      clearTimeout(this.pumpTimer);
      this.pumpTimer = undefined;
      this.burstStarted = undefined;
      this.pump();
    }
    while (this.inFlight.size || this.queue.length) await Promise.allSettled([...this.inFlight]);
  }

  // ---- step 1: the request token ---------------------------------------------------------------------------------

  /**
   * One attempt at the request token for the binding's newest verifier, if it has one, nobody else holds the step
   * and a retry is due. Transport failures schedule a retry with backoff inside Magento's window.
   */
  async fetchRequestToken(bindingId: string, options: { ignoreBackoff?: boolean } = {}): Promise<Binding | null> {
    const { storage, durations, logger } = this.o;
    const b = await storage.bindings.byId(bindingId);
    if (!b || !b.verifier) return b;
    const now = this.now();
    if (b.step && b.stepUntil && b.stepUntil > now) return b; // another instance is on it
    if (!options.ignoreBackoff && b.nextAttemptAt && b.nextAttemptAt > now) return b; // backing off
    if (this.windowClosed(b, now)) return this.giveUpRequestToken(b);

    const claimed = await storage.bindings.update(b.id, b.version, {
      step: 'request_token',
      stepUntil: new Date(now.getTime() + durations.stepLeaseMs),
      stepAttempts: b.stepAttempts + 1,
      // If this instance dies mid-call, the binding becomes due again when the claim runs out.
      nextAttemptAt: new Date(now.getTime() + durations.stepLeaseMs),
    });
    if (!claimed) return storage.bindings.byId(bindingId); // someone else claimed it first
    const verifier = b.verifier;

    let pair: TokenPair;
    try {
      pair = await this.o.tokens.requestToken({
        storeBaseUrl: b.storeBaseUrl,
        consumerKey: b.consumerKey,
        consumerSecret: b.consumerSecret,
      });
    } catch (err) {
      return this.requestTokenFailed(claimed, verifier, err);
    }
    logger.info({ bindingId, consumerKey: b.consumerKey, attempt: claimed.stepAttempts }, 'request token received');
    const at = this.now();
    return this.patchFresh(bindingId, (cur) => ({
      requestToken: { ...pair, verifier, at },
      // A callback with another verifier may have arrived during the call. It is dropped, not fetched next: this
      // call has just turned Magento's first token row into a request row, so a request-token call for any other
      // verifier can only fail "not a verifier token" (docs/magento-protocol.md §4a). (Magento reuses an unused verifier row,
      // so a genuine repeat of the Activate click carries the same verifier.)
      verifier: null,
      nextAttemptAt: null,
      ...releaseStep(cur, 'request_token'),
      state: cur.state === 'active' ? 'active' : 'request_token',
      lastError: cur.state === 'active' ? cur.lastError : null,
      lastErrorAt: cur.state === 'active' ? cur.lastErrorAt : null,
      fix: cur.state === 'active' ? cur.fix : null,
    }), claimed);
  }

  private async requestTokenFailed(claimed: Binding, verifier: string, err: unknown): Promise<Binding | null> {
    const { logger, durations } = this.o;
    const now = this.now();
    if (isTransportError(err) || err instanceof UnexpectedStoreResponse) {
      const delay = backoff(claimed.stepAttempts, durations.retryBaseDelayMs, durations.retryMaxDelayMs);
      const next = new Date(now.getTime() + delay);
      const message = `Could not get a request token from the store: ${errorMessage(err)}`;
      logger.warn({ bindingId: claimed.id, attempt: claimed.stepAttempts, err: errorMessage(err) }, 'request token: store unavailable');
      if (isRetryable(err) && !this.windowClosed(claimed, next)) {
        return this.patchFresh(claimed.id, (cur) => ({
          ...releaseStep(cur, 'request_token'),
          nextAttemptAt: cur.verifier === verifier ? next : cur.nextAttemptAt,
          lastError: message,
          lastErrorAt: now,
        }), claimed);
      }
      return this.failRequestToken(claimed.id, verifier, message, 'check_store');
    }
    if (err instanceof MagentoOAuthProblem) {
      logger.warn({ bindingId: claimed.id, status: err.status, problem: err.problem }, 'request token refused by Magento');
      const message = `Magento refused the request token: ${err.problem}`;
      if (NOT_A_VERIFIER.test(err.problem)) {
        // Magento's first token row is not a fresh verifier: either we already hold a request token for it
        // (activation abandoned after the request token, then Activate again — docs/magento-protocol.md §4a), the binding is
        // active (a replayed callback), or the request token was lost on the way back to us.
        return this.patchFresh(claimed.id, (cur) => {
          if (cur.requestToken || cur.state === 'active') {
            return {
              ...releaseStep(cur, 'request_token'),
              verifier: cur.verifier === verifier ? null : cur.verifier,
              // the claim's nextAttemptAt must go with the verifier, or the binding stays "due" for ever
              nextAttemptAt: cur.verifier === verifier ? null : cur.nextAttemptAt,
            };
          }
          return failedPatch(cur, verifier, message, 'recreate_integration', now);
        }, claimed);
      }
      const fix: Fix = EXPIRED.test(err.problem) ? 'activate_again' : NO_CONSUMER.test(err.problem) ? 'recreate_integration' : 'activate_again';
      return this.failRequestToken(claimed.id, verifier, message, fix);
    }
    logger.error({ bindingId: claimed.id, err }, 'request token: unexpected error');
    return this.failRequestToken(claimed.id, verifier, 'Unexpected error while fetching the request token.', 'contact_support');
  }

  /** The window closed without a request token. */
  private async giveUpRequestToken(b: Binding): Promise<Binding | null> {
    const message =
      b.lastError ?? 'Magento\'s time limit for this activation (300 seconds after the callback) has passed.';
    return this.failRequestToken(b.id, b.verifier ?? '', message, b.lastError ? 'check_store' : 'activate_again');
  }

  private failRequestToken(id: string, verifier: string, message: string, fix: Fix): Promise<Binding | null> {
    const now = this.now();
    return this.patchFresh(id, (cur) => {
      // An active binding, or one that still holds a usable request token, is not failed by a newer callback's
      // trouble: only that callback's verifier is dropped.
      if (cur.state === 'active' || cur.requestToken) {
        return {
          ...releaseStep(cur, 'request_token'),
          verifier: cur.verifier === verifier ? null : cur.verifier,
          nextAttemptAt: cur.verifier === verifier ? null : cur.nextAttemptAt,
          lastError: message,
          lastErrorAt: now,
          // A Reauthorize of an active binding that will not finish: Magento has already deleted the old token, so
          // the popup must not report the store as connected (completeForAccount), and the merchant needs the fix.
          ...(cur.state === 'active' && !cur.requestToken && cur.verifier === verifier ? { fix } : {}),
        };
      }
      return failedPatch(cur, verifier, message, fix, now);
    });
  }

  /**
   * Applies a patch computed from the freshest row, retrying when another writer moved the version on. The patch
   * function sees the current row, so concurrent changes (a newer callback) are merged, never overwritten. `known`,
   * a row this step just wrote (its claim), is tried first: usually nobody moved it on, and a read is saved; if
   * someone did, the conditional update fails and the loop reads the row.
   */
  private async patchFresh(id: string, patchOf: (cur: Binding) => BindingPatch | null, known?: Binding): Promise<Binding | null> {
    if (known) {
      const patch = patchOf(known);
      const updated = patch && (await this.o.storage.bindings.update(id, known.version, patch));
      if (updated) return updated;
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      const cur = await this.o.storage.bindings.byId(id);
      if (!cur) return null;
      const patch = patchOf(cur);
      if (!patch) return cur;
      const updated = await this.o.storage.bindings.update(id, cur.version, patch);
      if (updated) return updated;
    }
    throw new Error(`binding ${id} kept changing under us`);
  }

  /** Resumes request-token work that is due: retries, and claims of instances that died. Run periodically. */
  async resumeDue(limit = 50): Promise<number> {
    const scan = this.track(this.o.storage.bindings.due(this.now(), limit));
    const due = await scan;
    // Tracked like queued work, so drain() (shutdown, tests) also waits for what the periodic loop started.
    await Promise.all(due.map((b) => this.track(this.fetchRequestToken(b.id))));
    return due.length;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
    return work;
  }

  // ---- step 2: the merchant signed in: the access token ------------------------------------------------------------

  /**
   * Finishes the activation of `consumerKey` for `accountId`: waits for (or fetches) the request token, trades it
   * for the access token and records the account as the owner. Idempotent for the owner of an active binding.
   */
  async completeForAccount(consumerKey: string, accountId: string): Promise<Binding> {
    const { storage, durations } = this.o;
    const deadline = this.now().getTime() + durations.requestTokenWaitMs;
    let triedNow = false;
    for (;;) {
      const b = await storage.bindings.byConsumerKey(consumerKey);
      if (!b) {
        throw new ActivationError(
          'unknown_activation',
          'We have not received Magento\'s callback for this integration. Check that the integration\'s Callback URL ' +
            'and Identity Link URL are both ours, then click Activate again.',
          'activate_again',
        );
      }
      if (b.accountId && b.accountId !== accountId) {
        throw new ActivationError(
          'owned_by_other_account',
          'This store is already connected to another account. Sign in with that account, or ask its owner to ' +
            'remove the store first.',
          null,
          b,
        );
      }
      const now = this.now();
      const busy = b.step !== null && b.stepUntil !== null && b.stepUntil > now;
      if (b.requestToken && !busy) {
        const done = await this.exchange(b, accountId);
        if (done) return done;
        continue; // lost the claim to a concurrent sign-in: look again
      }
      if (!b.requestToken && !b.verifier) {
        // Already connected, unless the last Reauthorize failed (it left a fix; Magento killed the old token then).
        if (b.state === 'active' && b.accountId === accountId && !b.fix) return b;
        throw new ActivationError(
          'activation_failed',
          b.lastError ?? 'This activation can no longer be completed.',
          b.fix ?? (b.state === 'active' || b.state === 'revoked' ? 'reauthorize' : 'activate_again'),
          b,
        );
      }
      if (!busy && b.verifier && !b.requestToken) {
        // Nobody is fetching it (the instance that took the callback may have died, or is backing off): fetch it now.
        // A person is waiting, so the first try ignores the backoff (the store may be back); later ones respect it.
        await this.fetchRequestToken(b.id, { ignoreBackoff: !triedNow });
        triedNow = true;
        const after = await storage.bindings.byId(b.id);
        if (after && !after.requestToken && after.nextAttemptAt && after.verifier && this.now().getTime() < deadline) {
          await sleep(Math.min(Math.max(after.nextAttemptAt.getTime() - this.now().getTime(), 50), 1_000));
        }
      } else if (this.now().getTime() < deadline) {
        await sleep(200);
      }
      if (this.now().getTime() >= deadline) {
        throw new ActivationError(
          'still_connecting',
          'Your store is taking long to answer. Wait a minute and sign in again; if it keeps happening, check that ' +
            'the store is reachable.',
          null,
        );
      }
    }
  }

  /** Claims the access-token step and runs it; null when another sign-in claimed it first. */
  private async exchange(b: Binding, accountId: string): Promise<Binding | null> {
    const { storage, durations, logger, tokens } = this.o;
    const held = b.requestToken!;
    const claimed = await storage.bindings.update(b.id, b.version, {
      step: 'access_token',
      stepUntil: new Date(this.now().getTime() + durations.stepLeaseMs),
    });
    if (!claimed) return null;
    const call = () =>
      tokens.accessToken(
        { storeBaseUrl: b.storeBaseUrl, consumerKey: b.consumerKey, consumerSecret: b.consumerSecret },
        { token: held.token, secret: held.secret },
        held.verifier,
      );
    let pair: TokenPair;
    try {
      pair = await call();
    } catch (err) {
      // The answer was lost after the call may have reached Magento: ask once more at once, so the merchant gets a
      // definite outcome now (a token, or Magento's refusal, which then means it did act) rather than "try again".
      if (!isTransportError(err) || neverSent(err)) return this.accessTokenFailed(claimed, held.token, err, false);
      logger.warn({ bindingId: b.id, err: errorMessage(err) }, 'access token: answer lost, asking again');
      try {
        pair = await call();
      } catch (again) {
        return this.accessTokenFailed(claimed, held.token, again, true);
      }
    }
    const now = this.now();
    logger.info({ bindingId: b.id, consumerKey: b.consumerKey, accountId }, 'access token received: store connected');
    const done = await this.patchFresh(b.id, (cur) => ({
      state: 'active',
      accountId,
      accessToken: { ...pair, verifier: held.verifier },
      requestToken: cur.requestToken?.token === held.token ? null : cur.requestToken,
      ...releaseStep(cur, 'access_token'),
      activatedAt: now,
      revokedAt: null,
      lastError: null,
      lastErrorAt: null,
      fix: null,
    }), claimed);
    return done!;
  }

  private async accessTokenFailed(claimed: Binding, requestToken: string, err: unknown, afterLostAnswer: boolean): Promise<never> {
    const now = this.now();
    const wasActive = claimed.state === 'active';
    // After a lost answer we cannot know whether Magento issued the access token; if it did, Magento shows the
    // integration Active while we hold nothing, and the request token is gone: only Reauthorize repairs that.
    const outcomeWasUnknown = afterLostAnswer || (claimed.lastError?.startsWith(ACCESS_OUTCOME_UNKNOWN) ?? false);
    let message: string;
    let fix: Fix | null;
    let keepRequestToken = false;
    if (err instanceof MagentoOAuthProblem) {
      message = `Magento refused the access token: ${err.problem}`;
      fix = NO_CONSUMER.test(err.problem)
        ? 'recreate_integration'
        : /already being used/i.test(err.problem) || outcomeWasUnknown || wasActive
          ? 'reauthorize'
          : 'activate_again';
    } else if (isTransportError(err) || err instanceof UnexpectedStoreResponse) {
      // The request token is still ours to try again with: the merchant can sign in again in a moment.
      keepRequestToken = true;
      fix = null;
      message = neverSent(err)
        ? `Could not reach the store to finish connecting: ${errorMessage(err)}. Try again in a moment.`
        : `${ACCESS_OUTCOME_UNKNOWN}: ${errorMessage(err)}. Try again in a moment.`;
    } else {
      this.o.logger.error({ bindingId: claimed.id, err }, 'access token: unexpected error');
      message = 'Unexpected error while fetching the access token.';
      fix = 'contact_support';
    }
    this.o.logger.warn({ bindingId: claimed.id, message }, 'access token failed');
    const updated = await this.patchFresh(claimed.id, (cur) => {
      const ours = cur.requestToken?.token === requestToken;
      const patch: BindingPatch = {
        ...releaseStep(cur, 'access_token'),
        requestToken: ours && !keepRequestToken ? null : cur.requestToken,
        lastError: message,
        lastErrorAt: now,
        fix,
      };
      if (cur.state !== 'active' && !patch.requestToken && !cur.verifier) patch.state = 'failed';
      return patch;
    }, claimed);
    throw new ActivationError('activation_failed', message, fix, updated ?? undefined);
  }

  // ---- afterwards ------------------------------------------------------------------------------------------------

  /**
   * Magento answered 401 for an access token that used to work: the integration was deleted or reauthorized.
   * Only revokes when the binding still holds that very token (a reauthorization may just have replaced it).
   */
  async markRevoked(bindingId: string, accessToken: string, message: string): Promise<Binding | null> {
    const now = this.now();
    return this.patchFresh(bindingId, (cur) => {
      if (cur.state !== 'active' || cur.accessToken?.token !== accessToken) return null;
      return {
        state: 'revoked',
        accessToken: null,
        revokedAt: now,
        lastError: `Magento refused our access token: ${message}`,
        lastErrorAt: now,
        fix: 'reauthorize',
      };
    });
  }
}

function releaseStep(cur: Binding, step: Binding['step']): BindingPatch {
  return cur.step === step ? { step: null, stepUntil: null } : {};
}

function failedPatch(cur: Binding, verifier: string, message: string, fix: Fix, now: Date): BindingPatch {
  // A newer callback arrived meanwhile: its own attempt decides the binding's fate.
  if (cur.verifier && cur.verifier !== verifier) return releaseStep(cur, 'request_token');
  return {
    ...releaseStep(cur, 'request_token'),
    state: 'failed',
    verifier: cur.verifier === verifier ? null : cur.verifier,
    nextAttemptAt: cur.verifier === verifier ? null : cur.nextAttemptAt,
    lastError: message,
    lastErrorAt: now,
    fix,
  };
}

/** Exponential backoff with full jitter between half and all of the doubled delay. */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

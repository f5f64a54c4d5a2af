// The callback: checked, then recorded as a new binding or as a transition of the known one. A refused callback is
// logged and, when its consumer key was well-formed, remembered briefly so the popup can say what was refused.
import { randomUUID } from 'node:crypto';
import type { Binding } from '../storage/types.js';
import { CallbackInputError, consumerKeyHash, normaliseConsumerKey, parseCallback, type CallbackInput } from './callback.js';
import { errorMessage, type ActivationDeps } from './deps.js';
import { ActivationError } from './errors.js';
import { recordActivationStep } from './timeline.js';
import { reservedAgainst } from './tombstone.js';
import { callbackReceived, isHandledReplay } from './transitions.js';

/** How long, and how many, refused callbacks are remembered (per consumer key, newest only). */
export const REFUSALS_KEPT_MS = 15 * 60_000;
export const REFUSALS_KEPT_MAX = 1_000;
const RACE_ATTEMPTS = 5;

/** Which URL a callback came through: an account's own (its id), or the shared one (null, OPEN_SIGNUP_ACTIVATION). */
export interface CallbackVia {
  accountId: string | null;
}

const RATE_WINDOW_MS = 60_000;

/**
 * Counts a callback against the per-address and per-account-URL limits (in the database, so every instance shares
 * them) before anything else is done with it; ActivationError `callback_rate_limited` beyond either.
 */
export async function countCallback(deps: ActivationDeps, from: { address: string | null; accountId: string | null }): Promise<void> {
  const { storage, clock, limits } = deps;
  const now = clock.now();
  const over = async (key: string, max: number) => (await storage.throttles.hit(key, now, RATE_WINDOW_MS)) > max;
  const refuse = (what: string) => {
    deps.logger.warn({ reason: 'callback_rate_limited', what }, 'callback refused');
    return new ActivationError('callback_rate_limited', `Too many callbacks ${what} in the last minute; this one was refused.`, {
      fixText: 'Wait a minute, then click Activate again in the Magento admin.',
      retryAfterSeconds: 60,
    });
  };
  if (from.address !== null && (await over(`callback-ip:${from.address}`, limits.callbackRatePerAddress))) throw refuse('from this address');
  if (from.accountId && (await over(`callback-account:${from.accountId}`, limits.callbackRatePerAccount))) throw refuse("through this account's Callback URL");
}

export interface RecordedCallback {
  binding: Binding;
  isNew: boolean;
  /** False for a replay of a callback already turned into a token: nothing to fetch. */
  needsRequestToken: boolean;
}

/** The callback's four fields, or CallbackInputError (after logging it and remembering the refusal). */
export async function checkCallback(deps: ActivationDeps, body: Record<string, unknown>): Promise<CallbackInput> {
  try {
    return parseCallback(body, { allowPrivate: deps.allowPrivateStoreUrls });
  } catch (err) {
    if (err instanceof CallbackInputError) await rememberRefusal(deps, err, body);
    throw err;
  }
}

async function rememberRefusal(deps: ActivationDeps, err: CallbackInputError, body: Record<string, unknown>): Promise<void> {
  const { storage, clock, logger } = deps;
  const keyHash = err.consumerKeyHash;
  logger.warn({ reason: err.reason, field: err.field, consumerKey: keyHash?.slice(0, 12) ?? null, message: err.message }, 'callback refused');
  if (!keyHash) return;
  const now = clock.now();
  const key = normaliseConsumerKey(body.oauth_consumer_key);
  const known = key === null ? null : await storage.bindings.byConsumerKey(key).catch(() => null);
  if (known) await recordActivationStep(deps, known.id, 'callback_refused', `callback refused (${err.reason}): ${err.message}`);
  try {
    await storage.callbackRefusals.record(
      { consumerKeyHash: keyHash, reason: err.reason, field: err.field ?? null, message: err.message, refusedAt: now },
      { keepSince: new Date(now.getTime() - REFUSALS_KEPT_MS), max: REFUSALS_KEPT_MAX },
    );
  } catch (storeErr) {
    // The refusal's answer (400) matters more than remembering it.
    logger.warn({ err: errorMessage(storeErr) }, 'could not remember a refused callback');
  }
}

/**
 * Records a validated callback. A new consumer key creates a binding; a known one (Reauthorize, a second Activate,
 * a replay) must carry the same secret and store URL. The request token is fetched afterwards (the queue).
 */
export async function receiveCallback(deps: ActivationDeps, input: CallbackInput, via: CallbackVia = { accountId: null }): Promise<RecordedCallback> {
  const { storage, clock, logger, limits } = deps;
  for (let attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
    const now = clock.now();
    // Insert first: a new consumer key (the common case) costs one query; a unique-key clash means a repeat.
    const existing = attempt === 0 ? null : await storage.bindings.byConsumerKey(input.consumerKey);
    if (!existing) {
      // A deleted binding's key stays reserved for its secret and its account (issue 13). Through an account's URL
      // its counts are read alongside (the caps on stores and on unfinished bindings).
      const [tomb, early] = await Promise.all([
        storage.tombstones.byKeyHash(consumerKeyHash(input.consumerKey)),
        via.accountId ? storage.bindings.countByAccount(via.accountId) : null,
      ]);
      if (reservedAgainst(tomb, input.consumerSecret, via.accountId)) {
        logger.warn({ reason: 'consumer_key_reserved', consumerKeyHash: consumerKeyHash(input.consumerKey).slice(0, 12) }, 'callback refused');
        throw new ActivationError(
          'consumer_key_reserved',
          'This consumer key belonged to a store that was removed; it stays reserved for that integration\'s own ' +
            'consumer secret and account, so this callback was refused and nothing was stored.',
          { fixText: 'In the Magento admin, create a new integration (it gets a new consumer key) with your account\'s Callback URL and Identity Link URL, then click Activate.' },
        );
      }
      const accountId = via.accountId ?? tomb?.accountId ?? null;
      // (A deleted store's own key coming back through the shared URL returns to its account: count that one.)
      const counts = early ?? (accountId ? await storage.bindings.countByAccount(accountId) : null);
      if (counts && counts.all >= limits.maxStoresPerAccount) {
        throw new ActivationError(
          'too_many_stores',
          `This account already has ${limits.maxStoresPerAccount} stores, the most one account may have; the callback was refused.`,
          { fixText: 'Remove stores you no longer use on the account page, then click Activate again in the Magento admin.' },
        );
      }
      const created = await storage.bindings.create({
        accountId,
        id: randomUUID(),
        consumerKey: input.consumerKey,
        storeBaseUrl: input.storeBaseUrl,
        state: 'pending',
        consumerSecret: input.consumerSecret,
        verifier: input.verifier,
        callbackAt: now,
        nextAttemptAt: now,
      });
      if (created) {
        // first: the binding was just created, so its timeline holds nothing to trim (one statement less).
        await recordActivationStep(deps, created.id, 'callback_received', `callback received from ${input.storeBaseUrl}: new binding`, { first: true });
        // Bindings of the account that never completed, beyond the newest few, go (with their secrets).
        if (accountId && counts && counts.pending + 1 > limits.pendingBindingsPerAccount) await storage.bindings.trimPending(accountId, limits.pendingBindingsPerAccount);
        return { binding: created, isNew: true, needsRequestToken: true };
      }
      continue; // a binding with this key exists (or another callback won the insert): handle ours as a repeat
    }
    if (existing.consumerSecret !== input.consumerSecret || existing.storeBaseUrl !== input.storeBaseUrl) {
      logger.warn({ reason: 'callback_conflict', bindingId: existing.id }, 'callback refused');
      await recordActivationStep(deps, existing.id, 'callback_refused', 'callback refused: a different consumer secret or store URL for this consumer key; nothing changed');
      throw new ActivationError(
        'callback_conflict',
        'This consumer key is already bound with a different consumer secret or store URL; the callback was refused ' +
          'and nothing was changed.',
      );
    }
    if (via.accountId && existing.accountId && existing.accountId !== via.accountId) {
      logger.warn({ reason: 'callback_conflict', bindingId: existing.id }, 'callback refused: store of another account');
      throw new ActivationError(
        'callback_conflict',
        'This integration is already connected to another account; the callback was refused and nothing was changed.',
      );
    }
    if (isHandledReplay(existing, input.verifier) && !(via.accountId && existing.accountId === null)) {
      return { binding: existing, isNew: false, needsRequestToken: false };
    }
    const event = { verifier: input.verifier, now, accountId: via.accountId };
    const updated = await storage.bindings.modify(existing.id, (cur) => callbackReceived(cur, event), existing);
    if (updated && via.accountId && updated.accountId !== via.accountId) continue; // another account adopted it: look again
    if (updated && updated.version !== existing.version) {
      await recordActivationStep(deps, existing.id, 'callback_received', `callback received again (state ${existing.state}: Reauthorize, Activate clicked again, or a replay)`);
    }
    if (updated) return { binding: updated, isNew: false, needsRequestToken: !isHandledReplay(updated, input.verifier) };
    // deleted meanwhile: start over
  }
  throw new Error('callback kept racing with concurrent updates; giving up');
}

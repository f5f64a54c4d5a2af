// The callback: checked, then recorded as a new binding or as a transition of the known one. A refused callback is
// logged and, when its consumer key was well-formed, remembered briefly so the popup can say what was refused.
import { randomUUID } from 'node:crypto';
import type { Binding } from '../storage/types.js';
import { CallbackInputError, normaliseConsumerKey, parseCallback, type CallbackInput } from './callback.js';
import { errorMessage, type ActivationDeps } from './deps.js';
import { ActivationError } from './errors.js';
import { recordActivationStep } from './timeline.js';
import { callbackReceived, isHandledReplay } from './transitions.js';

/** How long, and how many, refused callbacks are remembered (per consumer key, newest only). */
export const REFUSALS_KEPT_MS = 15 * 60_000;
export const REFUSALS_KEPT_MAX = 1_000;
const RACE_ATTEMPTS = 5;

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
export async function receiveCallback(deps: ActivationDeps, input: CallbackInput): Promise<RecordedCallback> {
  const { storage, clock, logger } = deps;
  for (let attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
    const now = clock.now();
    // Insert first: a new consumer key (the common case) costs one query; a unique-key clash means a repeat.
    const existing = attempt === 0 ? null : await storage.bindings.byConsumerKey(input.consumerKey);
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
      if (created) {
        // first: the binding was just created, so its timeline holds nothing to trim (one statement less).
        await recordActivationStep(deps, created.id, 'callback_received', `callback received from ${input.storeBaseUrl}: new binding`, { first: true });
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
    if (isHandledReplay(existing, input.verifier)) return { binding: existing, isNew: false, needsRequestToken: false };
    const updated = await storage.bindings.modify(existing.id, (cur) => callbackReceived(cur, { verifier: input.verifier, now }), existing);
    if (updated && updated.version !== existing.version) {
      await recordActivationStep(deps, existing.id, 'callback_received', `callback received again (state ${existing.state}: Reauthorize, Activate clicked again, or a replay)`);
    }
    if (updated) return { binding: updated, isNew: false, needsRequestToken: !isHandledReplay(updated, input.verifier) };
    // deleted meanwhile: start over
  }
  throw new Error('callback kept racing with concurrent updates; giving up');
}

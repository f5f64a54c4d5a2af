// What a state transition hands to the outbox (src/storage/prisma/webhooks.ts eventStatements/appendEvent): the event for
// a binding's new state. The body's data is { store: <the store as GET /api/stores/:id shows it>, account: { id,
// externalId } }: never a token or a secret (the store view carries none).
import { randomUUID } from 'node:crypto';
import { transitionEvent } from '../activation/transitions.js';
import type { Clock } from '../clock.js';
import type { AccountRepository, Binding, BindingPatch, TransitionEvents } from '../storage/types.js';
import type { NewWebhookEvent, WebhookEventType } from '../storage/webhooks.js';
import { describeStore, type StoreView } from '../store-api/store-view.js';

export function lifecycleEvent(
  type: WebhookEventType,
  store: StoreView,
  account: { id: string; externalId: string | null } | null,
  createdAt: Date,
): NewWebhookEvent & { id: string } {
  return {
    id: randomUUID(),
    type,
    storeId: store.id,
    accountId: account?.id ?? store.accountId,
    data: { store, account: { id: account?.id ?? store.accountId, externalId: account?.externalId ?? null } },
    createdAt,
  };
}

/**
 * The events of binding changes, for `bindings.update/modify/delete`: the transition's own event (transitionEvent)
 * or `store.deleted`, with the store as the change leaves it (as it was, for a deletion) and its account.
 */
export function bindingEvents(accounts: Pick<AccountRepository, 'byId'>, clock: Clock): TransitionEvents {
  return async (before, after) => {
    const type: WebhookEventType | null = after ? transitionEvent(before, patchOf(before, after)) : 'store.deleted';
    if (!type) return [];
    const store = after ?? before;
    const account = store.accountId ? await accounts.byId(store.accountId) : null;
    const at = after ? after.updatedAt : clock.now();
    return [lifecycleEvent(type, describeStore(store), account && { id: account.id, externalId: account.externalId }, at)];
  };
}

/** The fields transitionEvent looks at, as the change set them. */
function patchOf(before: Binding, after: Binding): BindingPatch {
  const patch: BindingPatch = {};
  if (after.state !== before.state) patch.state = after.state;
  if (after.accessToken !== before.accessToken) patch.accessToken = after.accessToken;
  if (after.unavailableSince !== before.unavailableSince) patch.unavailableSince = after.unavailableSince;
  return patch;
}

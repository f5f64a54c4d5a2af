// What a state transition hands to the outbox (src/storage/webhooks.ts eventStatements/appendEvent): the event for
// a binding's new state. The body's data is { store: <the store as GET /api/stores/:id shows it>, account: { id,
// externalId } }: never a token or a secret (the store view carries none).
import { randomUUID } from 'node:crypto';
import type { NewWebhookEvent, WebhookEventType } from '../storage/webhooks.js';
import type { StoreView } from '../store-api/store-view.js';

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

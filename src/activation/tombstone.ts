// A deleted binding's consumer key stays reserved for its consumer secret and its account (issue 13): a callback or
// a paste may bring it back only with the same secret, and into the same account. One rule for both ways in.
import { createHash } from 'node:crypto';
import type { ConsumerKeyTombstone } from '../storage/types.js';

/** True when `tomb` forbids binding its key with `consumerSecret` for `accountId` (null: the shared URLs). */
export function reservedAgainst(tomb: ConsumerKeyTombstone | null, consumerSecret: string, accountId: string | null): boolean {
  if (!tomb) return false;
  if (tomb.consumerSecretHash !== createHash('sha256').update(consumerSecret).digest('hex')) return true;
  return accountId !== null && tomb.accountId !== null && tomb.accountId !== accountId;
}

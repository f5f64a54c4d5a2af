// A deleted binding's consumer key stays reserved for its consumer secret and its account (issue 13): a callback or
// a paste may bring it back only with the same secret, and into the same account. One rule for both ways in.
import { sha256 } from '../secrets/digest.js';
import type { ConsumerKeyTombstone } from '../storage/types.js';

/** True when `tomb` forbids binding its key with `consumerSecret` for `accountId` (null: the shared URLs). */
export function reservedAgainst(tomb: ConsumerKeyTombstone | null, consumerSecret: string, accountId: string | null): boolean {
  if (!tomb) return false;
  if (tomb.consumerSecretHash !== sha256(consumerSecret)) return true;
  return accountId !== null && tomb.accountId !== null && tomb.accountId !== accountId;
}

// Bounds on the calls this instance makes to stores for accounts (issue 13: six bindings of one self-registered
// account to a store that sends 19 MiB and stalls took the process from 307 to 1,080 MiB). Per account and in all:
// how many calls are in flight (refused at once beyond that: 429 account_busy, 503 connector_busy), and how many
// response bytes they hold while receiving (the account's ResponseBudget here, the instance's in the transport) and,
// when the caller says so (`holdUntil`), while the answer is still being written to a caller that reads slowly.
// Counters in a Map, no database: per instance, like the per-store cap (N instances allow N x these in total).
import { createResponseBudget, type ResponseBudget } from '../protocol/transport.js';
import { AccountBusyError, ConnectorBusyError } from './errors.js';

export interface CallBounds {
  /** Calls in flight per account (queued behind a store's cap included). */
  callsPerAccount: number;
  /** Calls in flight in all. */
  calls: number;
  /** Response bytes the account's calls may hold while receiving. */
  responseBytesPerAccount: number;
  /** The transport's budget of all response bytes, to hold an answer's bytes in while it is written to its caller. */
  instanceBudget?: ResponseBudget | undefined;
}

/**
 * Registers `release` to run once the caller has its answer (or has gone): until then the call keeps its slot and
 * its answer's bytes stay counted. The proxy passes `(release) => res.once('close', release)`.
 */
export type HoldUntil = (release: () => void) => void;

interface AccountCalls {
  calls: number;
  budget: ResponseBudget;
}

export class CallLimits {
  private readonly accounts = new Map<string, AccountCalls>();
  private total = 0;

  constructor(private readonly bounds: CallBounds) {}

  /** Runs `task` as one of the account's calls, given the account's response budget; refused when over a bound. */
  async run<T extends { body: Buffer }>(accountId: string, task: (budget: ResponseBudget) => Promise<T>, holdUntil?: HoldUntil): Promise<T> {
    const { callsPerAccount, calls, responseBytesPerAccount } = this.bounds;
    let entry = this.accounts.get(accountId);
    if (entry && entry.calls >= callsPerAccount) {
      throw new AccountBusyError(
        `Your account has ${callsPerAccount} calls to its stores in flight, the most it may have at once; send the next one when one has finished.`,
      );
    }
    if (this.total >= calls) {
      throw new ConnectorBusyError(`The connector has ${calls} calls to stores in flight, the most it takes at once; retry shortly.`);
    }
    if (!entry) {
      entry = { calls: 0, budget: createResponseBudget(responseBytesPerAccount, 'account') };
      this.accounts.set(accountId, entry);
    }
    const mine = entry;
    mine.calls++;
    this.total++;
    let held = false;
    try {
      const result = await task(mine.budget);
      if (holdUntil) {
        // The transport gave the bytes back when it returned; they are held again until the caller has them.
        const bytes = result.body.length;
        mine.budget.hold(bytes);
        this.bounds.instanceBudget?.hold(bytes);
        held = true;
        let released = false;
        holdUntil(() => {
          if (released) return;
          released = true;
          mine.budget.release(bytes);
          this.bounds.instanceBudget?.release(bytes);
          this.leave(accountId, mine);
        });
      }
      return result;
    } finally {
      if (!held) this.leave(accountId, mine);
    }
  }

  private leave(accountId: string, entry: AccountCalls): void {
    this.total--;
    // An account without calls holds no bytes: the transport gives them back before it returns, holds end above.
    if (--entry.calls === 0) this.accounts.delete(accountId);
  }

  /** Response bytes the account's calls hold now (tests, metrics). */
  bufferedBytes(accountId: string): number {
    return this.accounts.get(accountId)?.budget.used ?? 0;
  }

  /** The account's calls in flight on this instance, or all of them (tests, metrics). */
  inFlight(accountId?: string): number {
    return accountId === undefined ? this.total : (this.accounts.get(accountId)?.calls ?? 0);
  }
}

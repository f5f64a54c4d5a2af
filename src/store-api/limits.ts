// Bounds on the calls this instance makes to stores for accounts (issue 13: six bindings of one self-registered
// account to a store that sends 19 MiB and stalls took the process from 307 to 1,080 MiB). Per account and in all:
// how many calls are in flight (refused at once beyond that: 429 account_busy, 503 connector_busy), and how many
// response bytes they hold while receiving (the account's ResponseBudget here, the instance's in the transport).
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
}

interface AccountCalls {
  calls: number;
  budget: ResponseBudget;
}

export class CallLimits {
  private readonly accounts = new Map<string, AccountCalls>();
  private total = 0;

  constructor(private readonly bounds: CallBounds) {}

  /** Runs `task` as one of the account's calls, given the account's response budget; refused when over a bound. */
  async run<T>(accountId: string, task: (budget: ResponseBudget) => Promise<T>): Promise<T> {
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
    entry.calls++;
    this.total++;
    try {
      return await task(entry.budget);
    } finally {
      this.total--;
      // The transport gives a response's bytes back before it returns, so an account without calls holds none.
      if (--entry.calls === 0) this.accounts.delete(accountId);
    }
  }

  /** Response bytes the account's calls hold now, while receiving (tests, metrics). */
  bufferedBytes(accountId: string): number {
    return this.accounts.get(accountId)?.budget.used ?? 0;
  }

  /** The account's calls in flight on this instance, or all of them (tests, metrics). */
  inFlight(accountId?: string): number {
    return accountId === undefined ? this.total : (this.accounts.get(accountId)?.calls ?? 0);
  }
}

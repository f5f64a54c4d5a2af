// Persistence of revocation probes (src/probes/prober.ts): two columns of the Binding row, nextProbeAt (when the
// active store is next due; moving it forward with a conditional update is also the claim, so two instances never
// probe one store at once, and a dead instance's claim simply comes due again) and lastCallOkAt (a successful call
// to the store, written at most once a minute: a store in use needs no probe). Neither touches the row's version or
// updatedAt: they are bookkeeping, not a state change, and must not make a transition lose its race.

export interface DueProbe {
  id: string;
  /** The due time as read: the claim is conditional on it. */
  nextProbeAt: Date;
  lastCallOkAt: Date | null;
}

/** A probe claimed by claimDue: its due time is now the lease's `until`. */
export interface ClaimedProbe {
  id: string;
  lastCallOkAt: Date | null;
}

/** One probe's next due time (rescheduleMany), written only while its claim (`claimedUntil`) still holds. */
export interface ProbeReschedule {
  id: string;
  claimedUntil: Date;
  next: Date;
  callOkAt?: Date;
}

export interface ProbeRepository {
  /** Gives up to `limit` active bindings that have no due time yet one spread over [now, now + intervalMs). */
  scheduleNew(now: Date, intervalMs: number, limit: number, random: () => number): Promise<number>;
  /** Active bindings due for a probe (index [state, nextProbeAt]), earliest first. */
  due(now: Date, limit: number): Promise<DueProbe[]>;
  /**
   * Claims up to `limit` due probes in one conditional update (the earliest, in no set order; on the index [state,
   * nextProbeAt]): each row's due time moves to `until` only if it is still due when the statement writes it, so a
   * row another instance claimed meanwhile is not returned (PostgreSQL: locked rows are skipped, not waited for).
   */
  claimDue(now: Date, until: Date, limit: number): Promise<ClaimedProbe[]>;
  /** reschedule for several probes in one statement; how many claims still held. reschedule is a batch of one. */
  rescheduleMany(entries: ProbeReschedule[]): Promise<number>;
  /** Claims a due probe by moving its due time from `seen` to `until` (a lease); false when another instance did. */
  claim(id: string, seen: Date, until: Date): Promise<boolean>;
  /**
   * The next due time, written only while `owner` (the claim's `until`) still holds it; with `callOkAt`, the probe's
   * own successful call is recorded in the same statement.
   */
  reschedule(id: string, claimedUntil: Date, next: Date, callOkAt?: Date): Promise<boolean>;
  /** A successful call to the store at `at`. */
  recordOk(id: string, at: Date): Promise<void>;
  /** Bindings per state (metrics), from the counters the database keeps; states with none may be 0 or missing. */
  stateCounts(): Promise<Partial<Record<string, number>>>;
  /** The two columns (tests, the store doctor). */
  state(id: string): Promise<{ nextProbeAt: Date | null; lastCallOkAt: Date | null } | null>;
}

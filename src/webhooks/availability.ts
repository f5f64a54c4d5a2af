// store.unavailable / store.available through the outbox. The circuit breaker (src/store-api/availability.ts) is per
// instance and in memory; the store's availability is one fact for every instance. So a breaker's change is recorded
// on the binding (unavailableSince, unavailableReason) by a conditional update that writes the event in the same
// transaction (bindings.modify with the lifecycle events): of several instances noticing one outage, only the one
// whose update wins emits store.unavailable, and a store marked unavailable emits store.available once, when any
// instance's call to it succeeds again (its own breaker's trial, or the gateway seeing a marked store answer).
//
// The breaker's hook must not block a call: changes are queued per store (kept in order) and written in the
// background, retried briefly while the database is unavailable.
import { storeAvailable, storeUnavailable } from '../activation/transitions.js';
import { sleep, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { AvailabilityEvent } from '../store-api/availability.js';
import type { Binding, BindingRepository, TransitionEvents } from '../storage/types.js';

export interface AvailabilityRecorderOptions {
  bindings: Pick<BindingRepository, 'byConsumerKey' | 'modify'>;
  /** The lifecycle events of binding changes (bindingEvents in events.ts). */
  events: TransitionEvents;
  clock: Clock;
  logger: Logger;
  /** Told when a change was written (the gateway evicts its cached binding). */
  onRecorded?: (binding: Binding) => void;
  /** Attempts while the database refuses the write (then the change is dropped with a warning). */
  attempts?: number;
}

type Change = { kind: 'unavailable'; at: Date; reason: string | null } | { kind: 'available' };

export class AvailabilityRecorder {
  // One store's changes in order; an entry lives only while its store has changes pending.
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly o: AvailabilityRecorderOptions) {}

  /** The breaker's hook (StoreAvailabilityOptions.emitAvailabilityEvent): synchronous, never throws. */
  readonly breakerChanged = (event: AvailabilityEvent): void => {
    const change: Change = event.type === 'store.unavailable' ? { kind: 'unavailable', at: event.at, reason: event.reason } : { kind: 'available' };
    this.enqueue(`ck:${event.consumerKey}`, () => this.o.bindings.byConsumerKey(event.consumerKey), change);
  };

  /** A store marked unavailable answered a call (the gateway's hook): store.available unless already recorded. */
  storeAnswered(binding: Binding): void {
    if (!binding.unavailableSince) return;
    this.enqueue(`ck:${binding.consumerKey}`, async () => binding, { kind: 'available' });
  }

  /** Waits for every queued change (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.queues.size) await Promise.allSettled([...this.queues.values()]);
  }

  private enqueue(key: string, find: () => Promise<Binding | null>, change: Change): void {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.write(find, change));
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
  }

  private async write(find: () => Promise<Binding | null>, change: Change): Promise<void> {
    const attempts = this.o.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        const binding = await find();
        if (!binding) return; // deleted meanwhile
        const patch = (cur: Binding) => (change.kind === 'unavailable' ? storeUnavailable(cur, change) : storeAvailable(cur));
        const before = binding.version;
        const after = await this.o.bindings.modify(binding.id, patch, undefined, this.o.events);
        if (after && after.version !== before) this.o.onRecorded?.(after);
        return;
      } catch (err) {
        if (attempt >= attempts) {
          this.o.logger.warn({ err: err instanceof Error ? err.message : String(err), change: change.kind }, 'store availability: could not record the change');
          return;
        }
        await sleep(250 * 2 ** attempt);
      }
    }
  }
}

// The activation timeline: one small call per place a step happens (callback, token calls, detection, revocation).
// Recording never fails the step it describes: a lost timeline entry is logged, the activation goes on.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { BindingEventKind, BindingEventRepository } from '../storage/types.js';

/** Events kept per binding (the newest). */
export const TIMELINE_KEPT = 50;

export interface TimelineDeps {
  events: BindingEventRepository;
  clock: Clock;
  logger: Logger;
}

/** Appends `detail` (for a person; never a secret) to the binding's timeline. */
export async function recordStep(deps: TimelineDeps, bindingId: string, kind: BindingEventKind, detail: string, options: { first?: boolean } = {}): Promise<void> {
  try {
    await deps.events.record({ bindingId, at: deps.clock.now(), kind, detail }, { keep: TIMELINE_KEPT, ...options });
  } catch (err) {
    // The binding may have been deleted meanwhile (foreign key), or the database is briefly away.
    deps.logger.warn({ bindingId, kind, err: err instanceof Error ? err.message : String(err) }, 'could not record a timeline step');
  }
}

/** recordStep for an activation step (its deps carry the storage). */
export function recordActivationStep(
  deps: { storage: { bindingEvents: BindingEventRepository }; clock: Clock; logger: Logger },
  bindingId: string,
  kind: BindingEventKind,
  detail: string,
  options: { first?: boolean } = {},
): Promise<void> {
  return recordStep({ events: deps.storage.bindingEvents, clock: deps.clock, logger: deps.logger }, bindingId, kind, detail, options);
}

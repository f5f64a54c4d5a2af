// A store's signing profile on its binding (docs/magento-protocol.md §7a): detected in the background right after
// the access token is stored, re-detected by the gateway after "The signature is invalid", and by the doctor. Stored
// with a conditional update that applies only while the binding still holds the access token the detection used.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Transport } from '../protocol/transport.js';
import { detectSigningProfile, type DetectionResult } from '../protocol/verifier-detection.js';
import type { Binding, BindingEventRepository, BindingRepository } from '../storage/types.js';
import { recordStep } from './timeline.js';
import { profileDetected } from './transitions.js';

export interface ProfileDeps {
  bindings: BindingRepository;
  events: BindingEventRepository;
  clock: Clock;
  logger: Logger;
}

export interface DetectionDeps extends ProfileDeps {
  transport: Transport;
  /** Per probe request. */
  timeoutMs: number;
}

export type DetectionSource = 'activation' | 're-detection' | 'doctor';

const what = (r: DetectionResult): string =>
  r.profile !== null ? `profile ${r.profile}` : `undetermined (${r.reason}): ${r.detail}`;

/**
 * Stores what a detection found for `binding` (signed with its access token `accessToken`): a profile when one was
 * found and it differs from the stored one; nothing when undetermined (the reason is logged and in the timeline).
 * The binding as stored afterwards, or null when it is gone.
 */
export async function storeDetection(
  deps: ProfileDeps,
  binding: Binding,
  accessToken: string,
  result: DetectionResult,
  source: DetectionSource,
): Promise<Binding | null> {
  const timeline = { events: deps.events, clock: deps.clock, logger: deps.logger };
  if (result.profile === null) {
    deps.logger.info({ bindingId: binding.id, source, reason: result.reason, detail: result.detail }, 'signing profile not determined');
    await recordStep(timeline, binding.id, 'detection', `${source}: ${what(result)}`);
    return deps.bindings.byId(binding.id);
  }
  const event = { accessToken, profile: result.profile, at: result.detectedAt };
  let previous: Binding['signingProfile'] = null;
  const stored = await deps.bindings.modify(binding.id, (cur) => {
    previous = cur.signingProfile;
    return profileDetected(cur, event);
  });
  const changed = stored !== null && stored.signingProfile === result.profile && previous !== result.profile;
  await recordStep(timeline, binding.id, 'detection', `${source}: ${what(result)}${changed || previous === result.profile ? '' : ' (not stored: the binding changed meanwhile)'}`);
  if (changed && previous !== null) {
    deps.logger.warn({ bindingId: binding.id, storeBaseUrl: binding.storeBaseUrl, from: previous, to: result.profile, source }, 'signing profile changed: the store was upgraded');
    await recordStep(timeline, binding.id, 'profile_changed', `from ${previous} to ${result.profile} (${source})`);
  } else if (changed) {
    deps.logger.info({ bindingId: binding.id, profile: result.profile, source }, 'signing profile detected');
  }
  return stored;
}

/** Detects and stores the profile of an active binding (the background step after activation). Never throws. */
export async function detectAndStoreProfile(deps: DetectionDeps, binding: Binding): Promise<Binding | null> {
  if (binding.state !== 'active' || !binding.accessToken) return binding;
  const token = binding.accessToken;
  try {
    const result = await detectSigningProfile(
      { transport: deps.transport, clock: deps.clock, timeoutMs: deps.timeoutMs },
      {
        storeBaseUrl: binding.storeBaseUrl,
        consumerKey: binding.consumerKey,
        consumerSecret: binding.consumerSecret,
        accessToken: { key: token.token, secret: token.secret },
      },
    );
    return await storeDetection(deps, binding, token.token, result, 'activation');
  } catch (err) {
    deps.logger.warn({ bindingId: binding.id, err: err instanceof Error ? err.message : String(err) }, 'signing profile detection failed');
    return null;
  }
}

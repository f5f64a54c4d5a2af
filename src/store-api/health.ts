// GET /api/stores/:id/health, the account page's health panel and `stores doctor`: the store doctor
// (src/doctor/) run for a binding, one StoreDoctor per instance (a 5-minute cache, one run per store at a time), its
// requests under the store's per-store cap. A detection that finds another profile than the stored one is stored.
import { storeDetection } from '../activation/profile.js';
import type { Clock } from '../clock.js';
import { runDoctor } from '../doctor/doctor.js';
import { DOCTOR_CACHE_TTL_MS, StoreDoctor } from '../doctor/store-doctor.js';
import type { DoctorInput, DoctorResult, HealthReport } from '../doctor/types.js';
import type { Logger } from '../log.js';
import type { Transport } from '../protocol/transport.js';
import type { ProbeRepository } from '../storage/probes.js';
import type { Binding, BindingEventRepository, BindingRepository } from '../storage/types.js';
import { StoreNotActiveError, StoreNotFoundError } from './errors.js';
import type { StoreGateway } from './gateway.js';

/** The body of GET /api/stores/:id/health. */
export interface StoreHealthReport extends HealthReport {
  storeId: string;
}

export interface StoreHealthOptions {
  gateway: StoreGateway;
  bindings: BindingRepository;
  events: BindingEventRepository;
  transport: Transport;
  clock: Clock;
  logger: Logger;
  /** Per doctor request. */
  timeoutMs: number;
  /** Requests one run keeps in flight (also bounded by the store's cap). */
  concurrency: number;
  ttlMs?: number;
  /** Where the last successful signed call is recorded (lastCallOkAt): the signing check mentions it. */
  probes?: Pick<ProbeRepository, 'state'>;
}

export { DOCTOR_CACHE_TTL_MS };

export class StoreHealth {
  private readonly doctor: StoreDoctor;

  constructor(private readonly options: StoreHealthOptions) {
    const { gateway, transport } = options;
    this.doctor = new StoreDoctor({
      transport,
      clock: options.clock,
      timeoutMs: options.timeoutMs,
      concurrency: options.concurrency,
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
      // Every request of a run counts against the store's per-store cap, like the proxy's calls.
      run: (doctorOptions, input, storeId) =>
        runDoctor({ ...doctorOptions, transport: { request: (req) => gateway.capped(storeId, () => transport.request(req)), close: () => {} } }, input),
    });
  }

  /**
   * The store's health: the cached report (at most DOCTOR_CACHE_TTL_MS old) or a run (`refresh`: now). `accountId`
   * null is the operator's view (the CLI); otherwise another account's store is "not found".
   */
  async check(accountId: string | null, id: string, { refresh = false }: { refresh?: boolean } = {}): Promise<StoreHealthReport> {
    const binding = await this.binding(accountId, id);
    const lastOk = (await this.options.probes?.state(id))?.lastCallOkAt ?? null;
    const answer = await this.doctor.check(id, doctorInput(binding, lastOk), { refresh });
    if (!answer.cached) await this.storeProfile(binding, answer);
    return { storeId: id, ...answer.report };
  }

  /** The cached report, if fresh; never runs the checks (pages that only show what is known). */
  cached(id: string): StoreHealthReport | undefined {
    const hit = this.doctor.cached(id);
    return hit && { storeId: id, ...hit.report };
  }

  forget(id: string): void {
    this.doctor.forget(id);
  }

  private async binding(accountId: string | null, id: string): Promise<Binding> {
    const binding = await this.options.bindings.byId(id);
    if (!binding || (accountId !== null && binding.accountId !== accountId)) throw new StoreNotFoundError();
    // The doctor signs with the access token: without one there is nothing to check but the activation's own error.
    if (binding.state !== 'active' || !binding.accessToken) throw new StoreNotActiveError(binding);
    return binding;
  }

  private async storeProfile(binding: Binding, answer: DoctorResult): Promise<void> {
    const found = answer.detection;
    if (!found || found.profile === null || found.profile === binding.signingProfile) return;
    const { bindings, events, clock, logger, gateway } = this.options;
    await storeDetection({ bindings, events, clock, logger }, binding, binding.accessToken!.token, found, 'doctor');
    gateway.evictCached(binding.id);
  }
}

function doctorInput(b: Binding, lastCallOkAt: Date | null): DoctorInput {
  return {
    // A successful call (2xx) is a verified signature; failures are not recorded per store.
    lastSignedCall: lastCallOkAt ? { at: lastCallOkAt, verified: true } : null,
    storeBaseUrl: b.storeBaseUrl,
    consumerKey: b.consumerKey,
    consumerSecret: b.consumerSecret,
    accessToken: { key: b.accessToken!.token, secret: b.accessToken!.secret },
    profile: b.signingProfile,
    profileDetectedAt: b.profileDetectedAt,
  };
}

// The store doctor's report: the body of GET /api/stores/:id/health without `storeId` (the caller adds it).
import type { Clock } from '../clock.js';
import type { Token } from '../protocol/signer.js';
import type { SigningProfileName } from '../protocol/signing-profiles.js';
import type { Transport } from '../protocol/transport.js';
import type { DetectionResult } from '../protocol/verifier-detection.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** In the order the report lists them. */
export const CHECK_NAMES = ['reachable', 'clock', 'signing', 'token', 'resources', 'bearer', 'version'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface HealthCheck {
  name: CheckName;
  status: CheckStatus;
  /** What was seen, for a person. Never a secret. */
  detail: string;
  /** What to do, in the Magento admin's words; only when there is something to do. */
  fix?: string;
}

export interface HealthReport {
  /** ISO 8601. */
  checkedAt: string;
  /** The profile detected by this run, else the one known before (null: not known). detectedAt is ISO 8601. */
  signing: { profile: SigningProfileName | null; detectedAt: string | null };
  checks: HealthCheck[];
}

/** What the doctor needs to know about one store (from its binding). */
export interface DoctorInput {
  storeBaseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  accessToken: Token;
  /** The profile stored on the binding, null when not known yet. */
  profile: SigningProfileName | null;
  profileDetectedAt?: Date | null;
  /** The last signed call the gateway made for this store, when it keeps one. */
  lastSignedCall?: { at: Date; verified: boolean; status?: number; message?: string } | null;
}

export interface DoctorOptions {
  /** The egress-guarded protocol transport (src/protocol/transport.ts): the same policy as every other call. */
  transport: Transport;
  clock?: Clock;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Requests in flight at once within one run; default 3. */
  concurrency?: number;
  /** Redirects of the base URL followed (each through the transport, so each hop is egress-checked); default 5. */
  maxRedirects?: number;
  signal?: AbortSignal;
}

export interface DoctorResult {
  report: HealthReport;
  /**
   * This run's detection (null when the store could not be reached at all). When it found a profile that differs
   * from `DoctorInput.profile`, the caller stores it with its detectedAt and logs the change.
   */
  detection: DetectionResult | null;
}

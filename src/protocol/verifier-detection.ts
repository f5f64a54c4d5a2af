// Which of Magento's three signature verifiers a store runs (docs/magento-protocol.md §7a), found from the verifier's
// own answers, without a version number. One harmless GET (a product search that matches nothing, page size 1) is
// signed three ways, once per profile; each spelling verifies on exactly one verifier:
//
// | probe signed for        | order of [1] / [10] | value "connector probe" | laminas | double-encoding | native |
// |-------------------------|---------------------|-------------------------|---------|-----------------|--------|
// | laminas                 | natural (1, 10)     | encoded once            | yes     | no (encoding)   | no (order) |
// | laminas-double-encoding | natural (1, 10)     | encoded twice           | no      | yes             | no     |
// | native                  | raw bytes (10, 1)   | encoded once            | no      | no (both)       | yes    |
//
// Magento checks the signature after matching the route and before the ACL, so "accepted" is a 2xx, or 401 "The
// consumer isn't authorized to access %resources." (the integration may not read products), and "refused" is 401
// "The signature is invalid. Verify and try again.". The laminas and native probes go first, together (the releases
// in the field); when both are refused, the double-encoding probe decides between 2.4.8-beta1 and a store that
// refuses every signature. Every probe carries its own fresh nonce (the signer draws one per signature).
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { ProtocolError } from './errors.js';
import type { StoreCredentials } from './rest-client.js';
import { createSigner } from './signer.js';
import { SIGNING_PROFILE_NAMES, type SigningProfileName } from './signing-profiles.js';
import { TransportError } from './transport-errors.js';
import type { Transport, TransportResponse } from './transport.js';

// ---- Magento's answers -------------------------------------------------------------------------------------------

export const INVALID_SIGNATURE = 'The signature is invalid. Verify and try again.';
export const NOT_AUTHORIZED = "The consumer isn't authorized to access %resources.";
/** Nonce\Generator's catch-all: in practice a timestamp more than 600 s ahead of Magento's clock (§6). */
export const NONCE_ERROR = 'An error occurred validating the nonce';
const NO_ROUTE = 'Request does not match any route.';
// 400s Oauth::_validateProtocolParams raises before the signature is checked (a missing or malformed oauth_* field).
const BEFORE_SIGNATURE = /oauth|signature method|token length|is required/i;

// 401 messages that mean the token itself is dead (integration deleted or reauthorized), not a signature problem nor
// a refused resource (§5, §7). The store gateway revokes a binding on these.
const DEAD_TOKEN = [
  /^Specified token does not exist/i,
  /^A consumer having the specified key does not exist/i,
  /^A consumer with the ID .* does not exist/i,
  /^Access token has been revoked/i,
  /^Token is not an access token/i,
];
// A token that belongs to another consumer: dead for the credentials being checked (detection, a paste), but the
// gateway has never revoked a binding on it (see docs/NEXT.md).
const FOREIGN_TOKEN = /^Token is not associated with the specified consumer/i;

/** The message says the binding's token is dead: the gateway revokes on it. */
export function isRevokedTokenMessage(message: string): boolean {
  return DEAD_TOKEN.some((re) => re.test(message));
}

/** The message says these credentials cannot work: a dead token, or a token of another consumer. */
export function isDeadTokenMessage(message: string): boolean {
  return isRevokedTokenMessage(message) || FOREIGN_TOKEN.test(message);
}

/** `{"message", "parameters"}` of a Magento REST error, or undefined when the body is not one (HTML, a proxy's page). */
export function readMagentoMessage(res: TransportResponse): { message: string; parameters?: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(res.body.toString('utf8'));
    if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') {
      return parsed as { message: string; parameters?: unknown };
    }
  } catch {
    // not JSON: below
  }
  return undefined;
}

/** What one signed request told about its signature. */
export type SignedAnswer =
  /** The signature verified: a 2xx, a refused resource (401 not authorized), or another error raised after the ACL. */
  | { kind: 'verified'; status: number; message?: string }
  | { kind: 'signature_invalid'; status: number; message: string }
  /** The consumer or token is gone: Magento checks them before the signature. */
  | { kind: 'token_dead'; status: number; message: string }
  /** The timestamp was refused (ours is more than 600 s ahead of the store's clock). */
  | { kind: 'clock'; status: number; message: string }
  /** Anything else: a redirect, a 5xx, an HTML page, an unknown route (the base URL is wrong). Says nothing. */
  | { kind: 'unexpected'; status: number; message?: string }
  /** No answer at all (DNS, connection, TLS, timeout, egress policy). */
  | { kind: 'unreachable'; code: string; message: string };

/** Reads a signed request's answer (pure). */
export function classifyAnswer(res: TransportResponse): SignedAnswer {
  const { status } = res;
  const magento = readMagentoMessage(res);
  const message = magento?.message;
  if (status >= 200 && status < 300) return { kind: 'verified', status };
  if (status === 401 && message !== undefined) {
    if (message === INVALID_SIGNATURE) return { kind: 'signature_invalid', status, message };
    if (message === NOT_AUTHORIZED) return { kind: 'verified', status, message };
    if (isDeadTokenMessage(message)) return { kind: 'token_dead', status, message };
    if (message.startsWith(NONCE_ERROR)) return { kind: 'clock', status, message };
    return { kind: 'unexpected', status, message };
  }
  // Magento matches the route before it authenticates: "no route" says nothing about the signature. Other 4xx
  // Magento errors on a GET are raised by the service, after the signature and the ACL (404 no such entity, 400
  // validation).
  if (message !== undefined && message !== NO_ROUTE && !BEFORE_SIGNATURE.test(message) && (status === 400 || status === 404)) {
    return { kind: 'verified', status, message };
  }
  return message === undefined ? { kind: 'unexpected', status } : { kind: 'unexpected', status, message };
}

/** A transport failure as an answer; anything else is rethrown (a programming error, a signing refusal). */
export function unreachableAnswer(err: unknown): SignedAnswer {
  if (err instanceof TransportError) return { kind: 'unreachable', code: err.code, message: err.message };
  throw err;
}

// ---- the probe and the decision ----------------------------------------------------------------------------------

/** The probe: GET V1/products, a search on two filter groups (indexes 1 and 10) that matches nothing. */
export const PROBE_PATH = 'V1/products';
const g = (i: number, key: string): string => `searchCriteria[filter_groups][${i}][filters][0][${key}]`;
export const PROBE_QUERY: readonly (readonly [string, string])[] = [
  [g(1, 'field'), 'sku'],
  [g(1, 'value'), 'connector probe'], // a space: encoded twice by 2.4.8-beta1
  [g(1, 'condition_type'), 'eq'],
  [g(10, 'field'), 'sku'], // [10] before [1] in raw byte order only (native)
  [g(10, 'value'), 'connector-probe'],
  [g(10, 'condition_type'), 'eq'],
  ['searchCriteria[pageSize]', '1'],
];

/** Probe rounds: the two releases in the field together, then 2.4.8-beta1 only when both refused. */
export const PROBE_ROUNDS: readonly (readonly SigningProfileName[])[] = [['laminas', 'native'], ['laminas-double-encoding']];

export type UndeterminedReason =
  | 'unreachable'
  | 'token_dead'
  | 'clock'
  | 'every_candidate_refused'
  | 'inconsistent'
  /** Every probe was answered as a guest's request: the Authorization header does not reach Magento. */
  | 'authorization_not_seen'
  | 'unexpected_answer';

export type Decision =
  | { kind: 'profile'; profile: SigningProfileName }
  | { kind: 'undetermined'; reason: UndeterminedReason; detail: string }
  /** Every answer so far refused its signature: probe these profiles next. */
  | { kind: 'incomplete'; next: SigningProfileName[] };

const first = <T>(xs: T[]): T | undefined => xs[0];

/**
 * From the answers to the probes sent so far (each signed for its profile, each verifying on that verifier only)
 * to a profile, an explicit "undetermined", or the profiles still to probe. Pure.
 */
export function decideProfile(answers: Partial<Record<SigningProfileName, SignedAnswer>>): Decision {
  const entries = SIGNING_PROFILE_NAMES.flatMap((p) => (answers[p] ? [[p, answers[p]] as const] : []));
  const verified = entries.filter(([, a]) => a.kind === 'verified').map(([p]) => p);
  if (verified.length === 1) return { kind: 'profile', profile: verified[0]! };
  if (verified.length > 1) {
    const asGuest = entries.every(([, a]) => a.kind === 'verified' && a.status === 401 && a.message === NOT_AUTHORIZED);
    if (asGuest) {
      return {
        kind: 'undetermined',
        reason: 'authorization_not_seen',
        detail:
          "Magento answered every probe as if it came from a guest (\"The consumer isn't authorized to access %resources.\"), " +
          'whatever its signature: the Authorization header does not reach Magento (a web server, PHP-FPM or proxy drops it)',
      };
    }
    return {
      kind: 'undetermined',
      reason: 'inconsistent',
      detail:
        `the store accepted signatures that no single Magento verifier accepts together (${verified.join(', ')}): ` +
        'something between us and Magento does not check signatures the way Magento does',
    };
  }
  const of = (kind: SignedAnswer['kind']) => first(entries.filter(([, a]) => a.kind === kind).map(([, a]) => a));
  const dead = of('token_dead');
  if (dead && 'message' in dead) {
    return { kind: 'undetermined', reason: 'token_dead', detail: `Magento refused the credentials: "${dead.message}"` };
  }
  const clock = of('clock');
  if (clock) {
    return {
      kind: 'undetermined',
      reason: 'clock',
      detail: `Magento refused the request's timestamp ("${NONCE_ERROR}"): our clock is probably more than 600 s ahead of the store's`,
    };
  }
  const down = of('unreachable');
  if (down && down.kind === 'unreachable') return { kind: 'undetermined', reason: 'unreachable', detail: down.message };
  const odd = of('unexpected');
  if (odd && odd.kind === 'unexpected') {
    return {
      kind: 'undetermined',
      reason: 'unexpected_answer',
      detail: `the store answered HTTP ${odd.status}${odd.message ? ` "${odd.message}"` : ''} instead of a Magento REST answer`,
    };
  }
  const next = SIGNING_PROFILE_NAMES.filter((p) => answers[p] === undefined);
  if (next.length > 0) return { kind: 'incomplete', next };
  return {
    kind: 'undetermined',
    reason: 'every_candidate_refused',
    detail: `the store answered "${INVALID_SIGNATURE}" to the probe signed for every known verifier`,
  };
}

// ---- the I/O -----------------------------------------------------------------------------------------------------

export interface DetectionOptions {
  transport: Transport;
  clock?: Clock;
  /** Per probe request; default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ProbeEvidence {
  /** The profile the probe was signed for. */
  signedFor: SigningProfileName;
  answer: SignedAnswer;
}

export type DetectionResult =
  | { profile: SigningProfileName; detectedAt: Date; evidence: ProbeEvidence[] }
  | { profile: null; reason: UndeterminedReason; detail: string; checkedAt: Date; evidence: ProbeEvidence[] };

export type StoreKeys = Omit<StoreCredentials, 'profile'>;

const DEFAULT_TIMEOUT_MS = 10_000;

/** One probe signed for `profile`, sent once (no retry: a retry would only repeat the same verdict). */
export async function sendProbe(options: DetectionOptions, store: StoreKeys, profile: SigningProfileName): Promise<SignedAnswer> {
  const signer = createSigner({ key: store.consumerKey, secret: store.consumerSecret }, { clock: options.clock ?? systemClock });
  const signed = signer.sign(
    { method: 'GET', url: `${store.storeBaseUrl}rest/${PROBE_PATH}`, query: PROBE_QUERY, profile },
    store.accessToken,
  );
  try {
    const res = await options.transport.request({
      method: 'GET',
      url: signed.url,
      headers: { Authorization: signed.authorization, Accept: 'application/json' },
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: options.signal,
    });
    return classifyAnswer(res);
  } catch (err) {
    return unreachableAnswer(err);
  }
}

/** Detects the store's verifier: 2 probes (3 when both are refused). Never throws for what the store answers. */
export async function detectSigningProfile(options: DetectionOptions, store: StoreKeys): Promise<DetectionResult> {
  const clock = options.clock ?? systemClock;
  const answers: Partial<Record<SigningProfileName, SignedAnswer>> = {};
  const evidence: ProbeEvidence[] = [];
  for (const round of PROBE_ROUNDS) {
    const got = await Promise.all(round.map((p) => sendProbe(options, store, p)));
    round.forEach((p, i) => {
      answers[p] = got[i]!;
      evidence.push({ signedFor: p, answer: got[i]! });
    });
    const decision = decideProfile(answers);
    if (decision.kind === 'profile') return { profile: decision.profile, detectedAt: clock.now(), evidence };
    if (decision.kind === 'undetermined') {
      return { profile: null, reason: decision.reason, detail: decision.detail, checkedAt: clock.now(), evidence };
    }
  }
  // PROBE_ROUNDS covers every profile, so decideProfile has decided by now.
  const final = decideProfile(answers);
  if (final.kind === 'profile') return { profile: final.profile, detectedAt: clock.now(), evidence };
  const detail = final.kind === 'undetermined' ? final.detail : 'not every profile was probed';
  return { profile: null, reason: final.kind === 'undetermined' ? final.reason : 'unexpected_answer', detail, checkedAt: clock.now(), evidence };
}

// ---- re-detection after "The signature is invalid" ---------------------------------------------------------------

/** Whether an answer is Magento's 401 "The signature is invalid. Verify and try again." */
export function isInvalidSignatureAnswer(res: TransportResponse): boolean {
  return res.status === 401 && readMagentoMessage(res)?.message === INVALID_SIGNATURE;
}

export interface RedetectionOutcome<R extends TransportResponse> {
  /** What goes back to the caller: the re-sent request's answer, or the first one when nothing was re-sent. */
  response: R;
  /** The detection that ran, or null when the answer did not call for one. */
  detection: DetectionResult | null;
  /** The profile the store runs now when it differs from the one the request was signed for: store it, log it. */
  changedTo: SigningProfileName | null;
  resent: boolean;
  /** The request could not be signed for the newly detected profile (e.g. %2F on laminas): refuse it with this. */
  refusal?: ProtocolError;
}

/**
 * For a caller whose request, signed for the store's known profile, got 401 "The signature is invalid": detects the
 * profile once and, when it changed (the store was upgraded), re-sends the request once for the new profile
 * (`resend` must sign afresh: a new nonce). Anything else returns the first answer untouched. A store whose profile
 * is unknown (null, the common form) is not re-detected here: the common form verifies on every verifier.
 */
export async function redetectAfterInvalidSignature<R extends TransportResponse>(
  options: DetectionOptions,
  store: StoreCredentials,
  first: R,
  resend: (profile: SigningProfileName) => Promise<R>,
  detect: (options: DetectionOptions, store: StoreKeys) => Promise<DetectionResult> = detectSigningProfile,
): Promise<RedetectionOutcome<R>> {
  if (!store.profile || !isInvalidSignatureAnswer(first)) return { response: first, detection: null, changedTo: null, resent: false };
  const detection = await detect(options, store);
  return resendFor(store.profile, detection, first, resend);
}

async function resendFor<R extends TransportResponse>(
  signedFor: SigningProfileName,
  detection: DetectionResult,
  first: R,
  resend: (profile: SigningProfileName) => Promise<R>,
): Promise<RedetectionOutcome<R>> {
  if (detection.profile === null || detection.profile === signedFor) {
    return { response: first, detection, changedTo: null, resent: false };
  }
  const changedTo = detection.profile;
  try {
    return { response: await resend(changedTo), detection, changedTo, resent: true };
  } catch (err) {
    if (err instanceof ProtocolError && !(err instanceof TransportError)) {
      return { response: first, detection, changedTo, resent: false, refusal: err };
    }
    throw err;
  }
}

export interface ProfileRedetectorOptions extends DetectionOptions {
  /** A detection is reused for this long (per store) instead of probing again; default 60 s. */
  reuseMs?: number;
  /** Stores remembered at most (oldest dropped). */
  maxStores?: number;
}

/**
 * redetectAfterInvalidSignature for a gateway that serves many requests: concurrent 401s of one store share one
 * detection, and a detection is reused for `reuseMs`, so a burst of failing requests after an upgrade costs 2-3
 * probes, not 2-3 per request. Keyed by the caller's store id. One per instance.
 */
export class ProfileRedetector {
  private readonly recent = new Map<string, { at: number; result: Promise<DetectionResult> }>();
  private readonly reuseMs: number;
  private readonly maxStores: number;
  private readonly clock: Clock;

  constructor(
    private readonly options: ProfileRedetectorOptions,
    private readonly detect: (options: DetectionOptions, store: StoreKeys) => Promise<DetectionResult> = detectSigningProfile,
  ) {
    this.reuseMs = options.reuseMs ?? 60_000;
    this.maxStores = options.maxStores ?? 10_000;
    this.clock = options.clock ?? systemClock;
  }

  async handle<R extends TransportResponse>(
    storeId: string,
    store: StoreCredentials,
    first: R,
    resend: (profile: SigningProfileName) => Promise<R>,
  ): Promise<RedetectionOutcome<R>> {
    if (!store.profile || !isInvalidSignatureAnswer(first)) return { response: first, detection: null, changedTo: null, resent: false };
    const detection = await this.detection(storeId, store);
    return resendFor(store.profile, detection, first, resend);
  }

  /** Drops a store's remembered detection (after its credentials changed). */
  forget(storeId: string): void {
    this.recent.delete(storeId);
  }

  private detection(storeId: string, store: StoreKeys): Promise<DetectionResult> {
    const now = this.clock.now().getTime();
    const hit = this.recent.get(storeId);
    if (hit && now - hit.at < this.reuseMs) return hit.result;
    if (this.recent.size >= this.maxStores) this.recent.delete(this.recent.keys().next().value!);
    const result = this.detect(this.options, store);
    this.recent.set(storeId, { at: now, result });
    // A failed detection is not kept: the next 401 tries again.
    result.then(
      (r) => {
        if (r.profile === null && this.recent.get(storeId)?.result === result) this.recent.delete(storeId);
      },
      () => {
        if (this.recent.get(storeId)?.result === result) this.recent.delete(storeId);
      },
    );
    return result;
  }
}

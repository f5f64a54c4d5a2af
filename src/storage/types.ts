// The persistence interface. Everything above it works with plain records; the Prisma implementation
// (prisma/, one file per repository) seals secrets on the way in and opens them on the way out, so no caller can store a secret
// in clear by mistake. Every state change that two instances could race on is `bindings.update(id, version, patch)`,
// a conditional update that succeeds for exactly one writer, usually through `bindings.modify` (which retries it).
import type { SigningProfileName } from '../protocol/signing-profiles.js';
import type { CredentialRepository, IdentityRepository, PasswordResetRepository } from './identity-types.js';

import type { OperatorAccountRepository, OperatorKeyRepository } from './operators.js';
import type { NewWebhookEvent, WebhookRepository } from './webhooks.js';
import type { ProbeRepository } from './probes.js';

export const BINDING_STATES = ['pending', 'request_token', 'active', 'failed', 'revoked'] as const;
export type BindingState = (typeof BINDING_STATES)[number];

/** What a merchant should do about a binding's last error, in Magento's own words (src/activation/fixes.ts). */
export const FIXES = ['activate_again', 'reauthorize', 'recreate_integration', 'check_store', 'contact_support'] as const;
export type Fix = (typeof FIXES)[number];

export const BINDING_STEPS = ['request_token', 'access_token'] as const;
export type BindingStep = (typeof BINDING_STEPS)[number];

export interface TokenPair {
  token: string;
  secret: string;
}

export interface HeldRequestToken extends TokenPair {
  /** The callback verifier this request token belongs to: the access-token call must present it. */
  verifier: string;
  at: Date;
}

export interface HeldAccessToken extends TokenPair {
  /** The callback verifier this access token was issued for (null for tokens stored before it was kept). */
  verifier: string | null;
}

export interface Binding {
  id: string;
  consumerKey: string;
  storeBaseUrl: string;
  state: BindingState;
  accountId: string | null;
  consumerSecret: string;
  /** Verifier of the newest callback, until it has been turned into a request token (or given up on). */
  verifier: string | null;
  /** When the newest accepted callback arrived: Magento's request-token window starts about then. */
  callbackAt: Date;
  requestToken: HeldRequestToken | null;
  accessToken: HeldAccessToken | null;
  activatedAt: Date | null;
  revokedAt: Date | null;
  /** A step one instance has claimed, until stepUntil; another instance may take it over after that. */
  step: BindingStep | null;
  stepUntil: Date | null;
  stepAttempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  fix: Fix | null;
  /**
   * The last access-token call may have reached Magento although its answer was lost: if Magento did issue the
   * token, it now shows the integration Active while we hold nothing, and only Reauthorize repairs that.
   */
  accessOutcomeUnknown: boolean;
  /** The store's signature verifier (docs/magento-protocol.md §7a), null until detected (the common form is used). */
  signingProfile: SigningProfileName | null;
  /** When signingProfile was detected. */
  profileDetectedAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type NewBinding = Pick<Binding, 'id' | 'consumerKey' | 'storeBaseUrl' | 'state' | 'consumerSecret' | 'verifier' | 'callbackAt'> &
  Partial<Pick<Binding, 'nextAttemptAt'>>;

export type BindingPatch = Partial<Omit<Binding, 'id' | 'consumerKey' | 'version' | 'createdAt' | 'updatedAt'>>;

/** Why a callback was refused (src/activation/callback.ts); decides the fix the popup offers. */
export type CallbackRefusalReason = 'private_store_url' | 'invalid_store_url' | 'invalid_field' | 'unexpected_field';

/** A refused callback, remembered briefly by the hash of its consumer key; nothing secret is kept. */
export interface CallbackRefusal {
  consumerKeyHash: string;
  reason: CallbackRefusalReason;
  /** The callback field that was refused, when one was. */
  field: string | null;
  /** What was wrong, as the callback's answer said it (never a field's value). */
  message: string;
  refusedAt: Date;
}

export const BINDING_EVENT_KINDS = [
  'callback_received',
  'callback_refused',
  'request_token',
  'access_token',
  'detection',
  'profile_changed',
  'revoked',
] as const;
export type BindingEventKind = (typeof BINDING_EVENT_KINDS)[number];

/** One step of a binding's activation timeline (support). `detail` is for a person, at most 500 characters, never a secret. */
export interface BindingEvent {
  id: string;
  bindingId: string;
  at: Date;
  kind: BindingEventKind;
  detail: string;
}

export interface Account {
  id: string;
  email: string;
  passwordHash: string;
  /** The CRM's own id for this tenant (operators' POST /api/accounts). */
  externalId: string | null;
  createdAt: Date;
}

export interface ApiKey {
  id: string;
  accountId: string;
  name: string;
  prefix: string;
  hash: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface Session {
  id: string;
  accountId: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface BindingRepository {
  /** Inserts; null when a binding with this consumer key already exists (the caller then treats it as a repeat). */
  create(binding: NewBinding): Promise<Binding | null>;
  byId(id: string): Promise<Binding | null>;
  byConsumerKey(consumerKey: string): Promise<Binding | null>;
  listByAccount(accountId: string): Promise<Binding[]>;
  list(): Promise<Binding[]>;
  /**
   * Conditional update: applies only if the row is still at `version`; returns the new row, or null if it moved on.
   * With `emit`, the lifecycle events `emit.events(emit.before, <the row as the update leaves it>)` returns are
   * written in the same database transaction as the update: a lost race writes none, a crash cannot split them.
   */
  update(id: string, version: number, patch: BindingPatch, emit?: { before: Binding; events: TransitionEvents }): Promise<Binding | null>;
  /**
   * Applies `change` to the freshest row: reads, computes the patch, updates conditionally, and starts over when
   * another writer moved the version on (so concurrent changes are merged, never overwritten). `change` returning
   * null leaves the row alone and returns it. `known`, a row the caller has just written, is tried first to save a
   * read. Null when there is no such binding. `events`: as for update, computed again for every attempt.
   */
  modify(id: string, change: (current: Binding) => BindingPatch | null, known?: Binding, events?: TransitionEvents): Promise<Binding | null>;
  /**
   * Deletes a binding (only the account's own when accountId is given); false when there was none. With `events`
   * (called with the row as it was and null), they are written in the same transaction as the deletion.
   */
  delete(id: string, accountId?: string, events?: TransitionEvents): Promise<boolean>;
  /** Bindings with request-token work to resume: nextAttemptAt <= now and no live claim (stepUntil null or <= now). */
  due(now: Date, limit: number): Promise<Binding[]>;
}

export interface BindingEventRepository {
  /**
   * Appends an event (detail cut to 500 characters) and keeps only the binding's newest `keep`. `first`: the
   * binding was created by the same step just before (the callback's new binding), so there is nothing to trim and
   * the trim's statement is skipped.
   */
  record(event: Omit<BindingEvent, 'id'>, bounds: { keep: number; first?: boolean }): Promise<void>;
  /** The binding's newest events, newest first. */
  recent(bindingId: string, limit: number): Promise<BindingEvent[]>;
}

/**
 * The lifecycle events a binding change emits (src/webhooks/events.ts bindingEvents): `after` is the row as the
 * change leaves it, null for a deletion. Usually none or one.
 */
export type TransitionEvents = (before: Binding, after: Binding | null) => Promise<(NewWebhookEvent & { id: string })[]>;

export interface AccountRepository {
  /** null when the (lower-cased) email is taken. */
  create(account: Pick<Account, 'id' | 'email' | 'passwordHash'>): Promise<Account | null>;
  byId(id: string): Promise<Account | null>;
  byEmail(email: string): Promise<Account | null>;
}

export interface ApiKeyRepository {
  create(key: Pick<ApiKey, 'id' | 'accountId' | 'name' | 'prefix' | 'hash'>): Promise<ApiKey>;
  /** A key that is not revoked, by the hash of its value. */
  activeByHash(hash: string): Promise<ApiKey | null>;
  listByAccount(accountId: string): Promise<ApiKey[]>;
  /** Revokes the account's key and returns it (its hash, to evict caches); null when there is no such live key. */
  revoke(id: string, accountId: string, at: Date): Promise<ApiKey | null>;
  touch(id: string, at: Date): Promise<void>;
}

export interface SessionRepository {
  create(session: Pick<Session, 'id' | 'accountId' | 'expiresAt'>): Promise<Session>;
  /** A session that has not expired at `now`. */
  live(id: string, now: Date): Promise<Session | null>;
  delete(id: string): Promise<void>;
  /** Housekeeping: removes sessions expired before `now`; how many. */
  deleteExpired(now: Date): Promise<number>;
}

export interface ThrottleRepository {
  /** Records one failure for `key` and returns the failures in the current window (fixed windows of windowMs). */
  hit(key: string, now: Date, windowMs: number): Promise<number>;
  /** Failures in the current window, without recording one. */
  count(key: string, now: Date, windowMs: number): Promise<number>;
  clear(key: string): Promise<void>;
  /** Housekeeping: removes counters whose window ended before `now`; how many. */
  deleteExpired(now: Date, windowMs: number): Promise<number>;
}

export interface CallbackRefusalRepository {
  /** Remembers the newest refusal for its key; forgets those before `keepSince` and all but the newest `max`. */
  record(refusal: CallbackRefusal, bounds: { keepSince: Date; max: number }): Promise<void>;
  /** The key's refusal if it happened at or after `since`. */
  latest(consumerKeyHash: string, since: Date): Promise<CallbackRefusal | null>;
}

export interface Storage {
  readonly provider: 'sqlite' | 'postgresql';
  bindings: BindingRepository;
  /** Each binding's activation timeline, bounded. */
  bindingEvents: BindingEventRepository;
  accounts: AccountRepository;
  apiKeys: ApiKeyRepository;
  sessions: SessionRepository;
  throttles: ThrottleRepository;
  callbackRefusals: CallbackRefusalRepository;
  // sign-in with an OpenID provider, password resets and changes (identity-types.ts)
  identities: IdentityRepository;
  passwordResets: PasswordResetRepository;
  credentials: CredentialRepository;
  // operator keys, operators' account operations, lifecycle webhooks (src/storage/operators.ts, webhooks.ts)
  operatorKeys: OperatorKeyRepository;
  operatorAccounts: OperatorAccountRepository;
  webhooks: WebhookRepository;
  /** Revocation probes' due times and last successful calls (src/storage/probes.ts). */
  probes: ProbeRepository;
  /** Throws when the database cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

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
export const FIXES = ['activate_again', 'reauthorize', 'recreate_integration', 'check_store', 'contact_support', 'paste_new_credentials'] as const;
export type Fix = (typeof FIXES)[number];

export const BINDING_STEPS = ['request_token', 'access_token'] as const;

/**
 * How a binding came to be: Magento's callback and the token exchange, or the integration's four credentials pasted
 * by the merchant or an operator (a store that cannot reach our Callback URL, src/activation/credentials.ts).
 */
export const BINDING_ORIGINS = ['callback', 'credentials'] as const;
export type BindingOrigin = (typeof BINDING_ORIGINS)[number];
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
  /** How the binding came to be; never changes. */
  origin: BindingOrigin;
  /**
   * The last revocation probe's warning (an answer that is no revocation: a 5xx, a timeout, a TLS error, a refused
   * signature), cleared by the next successful probe. Apart from lastError, which belongs to the activation.
   */
  probeWarning: string | null;
  probeWarningAt: Date | null;
  /**
   * Store availability as the instances' circuit breakers recorded it (src/webhooks/availability.ts): null while
   * available; when the store was marked unavailable, and the failure that did it. Changed together with its
   * lifecycle event (store.unavailable / store.available), by a conditional update.
   */
  unavailableSince: Date | null;
  unavailableReason: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type NewBinding = Pick<Binding, 'id' | 'consumerKey' | 'storeBaseUrl' | 'state' | 'consumerSecret' | 'verifier' | 'callbackAt'> &
  Partial<Pick<Binding, 'nextAttemptAt' | 'accountId' | 'origin'>>;

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
  // pasted credentials (src/activation/credentials.ts): connected with them, or a paste for this key refused
  'credentials_connected',
  'credentials_refused',
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

/** Where a page of a list starts: after this row, in creation order (createdAt, then id). */
export interface PageCursor {
  createdAt: Date;
  id: string;
}
export interface PageRequest {
  limit: number;
  after?: PageCursor | null;
}
/** One page in creation order; `next` is where the following page starts, null on the last one. */
export interface Page<T> {
  items: T[];
  next: PageCursor | null;
}

export interface BindingRepository {
  /** Inserts; null when a binding with this consumer key already exists (the caller then treats it as a repeat). */
  create(binding: NewBinding): Promise<Binding | null>;
  /**
   * Inserts a new binding already moved on by `patch` (a transition of the row `binding` describes, e.g. straight to
   * `active` with pasted credentials), with the lifecycle events `events(<binding as inserted before the patch>,
   * <binding after it>)` returns, in one database transaction: nothing is written when anything fails. Null when a
   * binding with this consumer key already exists.
   */
  insert(binding: NewBinding, patch: BindingPatch, events?: TransitionEvents): Promise<Binding | null>;
  byId(id: string): Promise<Binding | null>;
  byConsumerKey(consumerKey: string): Promise<Binding | null>;
  /** Lists (the account's, every, a page): a binding whose secrets cannot be opened is listed without them, lastError saying why. */
  listByAccount(accountId: string): Promise<Binding[]>;
  list(): Promise<Binding[]>;
  /** Every binding (or one account's) a page at a time, on the (createdAt, id) index: what the operator API lists. */
  page(request: PageRequest & { accountId?: string }): Promise<Page<Binding>>;
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
  /**
   * Bindings with request-token work to resume: nextAttemptAt <= now and no live claim (stepUntil null or <= now).
   * Plain columns only: nothing sealed is opened, so one row that cannot be opened does not stop the scan (issue 13).
   */
  due(now: Date, limit: number): Promise<DueBinding[]>;
  /**
   * For a binding whose sealed values cannot be opened (sealed under a key id no longer configured, or altered):
   * `change` is given the row with every sealed value it holds read as "" (none can be used; a transition only
   * looks at whether they are there) and its patch (plain fields only) is applied conditionally on the version, with
   * the events. False when there is no such row, it opens after all, `change` returns null or another writer moved
   * the row on.
   */
  modifyUnreadable(id: string, change: (cur: Binding) => BindingPatch | null, events?: TransitionEvents): Promise<boolean>;
  /**
   * How many bindings the account has (`all`, every state: the cap on stores per account) and how many of them never
   * completed (`pending`: never activated, not active), in one query.
   */
  countByAccount(accountId: string): Promise<{ all: number; pending: number }>;
  /**
   * The account's bindings that never completed (never activated, not active), beyond the newest `keep`, are
   * deleted with their secrets, oldest first; how many. Called when countByAccount says there are too many.
   */
  trimPending(accountId: string, keep: number): Promise<number>;
  /** Housekeeping: deletes never-activated bindings whose newest callback came before `before`; how many. */
  deleteAbandoned(before: Date): Promise<number>;
}

/** An account's activation token, as the account page and the operator API show it (issue 13). */
export interface ActivationToken {
  accountId: string;
  token: string;
  createdAt: Date;
}

export interface ActivationTokenRepository {
  /** The account's token, or null when it has none yet (accounts created before issue 13). */
  ofAccount(accountId: string): Promise<ActivationToken | null>;
  /** The tokens of these accounts (one query for a page of accounts); accounts without one are left out. */
  ofAccounts(accountIds: readonly string[]): Promise<ActivationToken[]>;
  /** Sets the token only if the account has none yet (a conditional update); the token it has afterwards. */
  setIfMissing(accountId: string, token: string, tokenHash: string, at: Date): Promise<ActivationToken | null>;
  /** Replaces the token (rotation): the old one stops matching at once. Null when there is no such account. */
  replace(accountId: string, token: string, tokenHash: string, at: Date): Promise<ActivationToken | null>;
  /** The account whose token hashes to `tokenHash`. */
  accountIdByHash(tokenHash: string): Promise<string | null>;
}

/** What remains of a deleted binding: its consumer key stays reserved for its secret and account (hashes only). */
export interface ConsumerKeyTombstone {
  consumerKeyHash: string;
  consumerSecretHash: string;
  accountId: string | null;
  deletedAt: Date;
}

export interface TombstoneRepository {
  byKeyHash(consumerKeyHash: string): Promise<ConsumerKeyTombstone | null>;
  /** Records (or refreshes) the tombstone of a binding being deleted. */
  put(tombstone: ConsumerKeyTombstone): Promise<void>;
}

/** What the resumer needs of a binding with work due (bindings.due). */
export type DueBinding = Pick<Binding, 'id' | 'consumerKey' | 'storeBaseUrl' | 'nextAttemptAt'>;

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
  activationTokens: ActivationTokenRepository;
  tombstones: TombstoneRepository;
  // sign-in with an OpenID provider, password resets and changes (identity-types.ts)
  identities: IdentityRepository;
  passwordResets: PasswordResetRepository;
  credentials: CredentialRepository;
  // operator keys, operators' account operations, lifecycle webhooks (interfaces in operators.ts, webhooks.ts)
  operatorKeys: OperatorKeyRepository;
  operatorAccounts: OperatorAccountRepository;
  webhooks: WebhookRepository;
  /** Revocation probes' due times and last successful calls (probes.ts). */
  probes: ProbeRepository;
  /** Throws when the database cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

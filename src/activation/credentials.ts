// Connecting a store whose Magento cannot reach our Callback URL (an outbound firewall, a staging store behind a VPN,
// a TLS-breaking proxy): the merchant creates the integration WITHOUT Callback and Identity Link URLs, Magento mints
// the four credentials itself on Activate (docs/magento-protocol.md §1: with only one URL, or none, it never calls
// us) and shows them under the integration's Integration Details, and they are pasted here.
//
// Nothing is stored until the values have been shown to work: each value's shape is checked (Magento's are 32
// characters of [0-9a-z], Magento\Framework\Oauth\Helper\Oauth), the store URL by the callback's own rules
// (parseStoreBaseUrl; the egress policy is the transport's, at connect time), then one signed check with them, the
// signing-profile detection (§7a), whose answers tell a working set from an unknown consumer, a refused token and a
// bad signature. A working set becomes an `active` binding of the account in one transaction with its
// `store.connected` event (bindings.insert + transitions.credentialsConnected). A consumer key bound already is
// refused, except the one repeat the callback accepts too (same consumer secret and store URL), here for the same
// account's store connected by a paste: its new access token (after Reauthorize in Magento) replaces the dead one
// (transitions.credentialsReconnected, `store.reauthorized`).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { ConnectorError } from '../errors.js';
import type { Logger } from '../log.js';
import { MagentoOAuthProblem } from '../protocol/magento-errors.js';
import { parseStoreBaseUrl } from '../protocol/store-url.js';
import type { TokenEndpoints } from '../protocol/token-endpoints.js';
import type { Transport } from '../protocol/transport.js';
import { detectSigningProfile, type DetectionResult } from '../protocol/verifier-detection.js';
import type { Binding, Storage } from '../storage/types.js';
import { consumerKeyHash } from './callback.js';
import { transitionEvents } from './deps.js';
import { recordActivationStep } from './timeline.js';
import { reservedAgainst } from './tombstone.js';
import { canReconnectWithCredentials, credentialsConnected, credentialsReconnected } from './transitions.js';

/** The fields of the form and of `POST /api/accounts/:id/stores`, as Magento's Integration Details label them. */
export const PASTED_FIELDS = {
  storeBaseUrl: 'Store URL',
  consumerKey: 'Consumer Key',
  consumerSecret: 'Consumer Secret',
  accessToken: 'Access Token',
  accessTokenSecret: 'Access Token Secret',
} as const;
export type PastedField = keyof typeof PASTED_FIELDS;
const CREDENTIAL_FIELDS = ['consumerKey', 'consumerSecret', 'accessToken', 'accessTokenSecret'] as const;

export type PastedCredentials = Record<PastedField, string>;

export type CredentialsErrorCode =
  /** A value does not have the shape Magento gives it (or the store URL breaks the callback's rules). */
  | 'invalid_pasted_credentials'
  /** Magento does not know the consumer key. */
  | 'consumer_key_rejected'
  /** Magento knows the consumer but refused the access token. */
  | 'token_rejected'
  /** Magento refused the signature: the consumer secret or the access token secret is wrong. */
  | 'signature_rejected'
  /** The store could not be reached (the transport's reason in the message). */
  | 'store_unreachable'
  /** Something answered at the URL, but not as a Magento store's REST API does. */
  | 'not_magento_store'
  /** Magento refused our timestamp: our clock is more than 600 s ahead of the store's (§6). */
  | 'store_clock_ahead'
  /** Magento answered as to a guest: something between us and Magento drops the Authorization header. */
  | 'authorization_not_seen'
  /** The consumer key is bound already (by an activation or by an earlier paste). */
  | 'consumer_key_bound'
  | 'consumer_key_reserved'
  | 'too_many_stores';

export class CredentialsError extends ConnectorError<CredentialsErrorCode> {
  constructor(
    code: CredentialsErrorCode,
    message: string,
    /** The field at fault, when one is (the form marks it, the API's message starts with it). */
    readonly field?: PastedField,
    options: { fix?: string } = {},
  ) {
    super(code, message, options);
  }
}

export interface CredentialsDeps {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  /** ALLOW_PRIVATE_STORE_URLS, as for the callback. */
  allowPrivateStoreUrls: boolean;
  /** MAX_STORES_PER_ACCOUNT, as for the callback. */
  maxStoresPerAccount: number;
  /** The egress-guarded transport and the per-probe timeout of the signing-profile detection. */
  detection: { transport: Transport; timeoutMs: number };
  /** Only to tell which secret is wrong after a refused signature (one extra call then). */
  tokenEndpoints: TokenEndpoints;
}

// Magento\Framework\Oauth\Helper\Oauth: LENGTH_CONSUMER_KEY, LENGTH_CONSUMER_SECRET, LENGTH_TOKEN and
// LENGTH_TOKEN_SECRET are 32; generateRandomString draws from CHARS_DIGITS . CHARS_LOWERS.
const MAGENTO_VALUE = /^[0-9a-z]{32}$/;
const INTEGRATION_DETAILS = 'System > Extensions > Integrations, Edit on the integration, Integration Details tab';

const refuse = (field: PastedField, problem: string): CredentialsError =>
  new CredentialsError('invalid_pasted_credentials', `${field}: ${problem}`, field);

/** The five values, trimmed and checked for shape; CredentialsError `invalid_pasted_credentials` naming the field. */
export function parsePastedCredentials(input: Partial<Record<PastedField, unknown>>, options: { allowPrivate: boolean }): PastedCredentials {
  const out = {} as PastedCredentials;
  for (const field of Object.keys(PASTED_FIELDS) as PastedField[]) {
    const raw = input[field];
    if (raw !== undefined && typeof raw !== 'string') throw refuse(field, `the ${PASTED_FIELDS[field]} must be given once, as text`);
    // Copying from the admin page often brings a space or a line break along.
    const value = (raw ?? '').trim();
    if (!value) throw refuse(field, `the ${PASTED_FIELDS[field]} is missing`);
    out[field] = value;
  }
  // The callback's rules for store_base_url (https, no credentials, no loopback or private literal...), reused.
  const url = parseStoreBaseUrl(out.storeBaseUrl, { allowPrivate: options.allowPrivate });
  if (!url.ok) {
    const onlyPrivate = !options.allowPrivate && parseStoreBaseUrl(out.storeBaseUrl, { allowPrivate: true }).ok;
    const message = url.message.replace(/^store_base_url/, 'the store URL');
    throw refuse(
      'storeBaseUrl',
      onlyPrivate
        ? `${message}. This connector only connects stores at a public https address.`
        : `${message}. Use the store's secure base URL (Stores > Configuration > General > Web > Base URLs (Secure)).`,
    );
  }
  out.storeBaseUrl = url.url;
  for (const field of CREDENTIAL_FIELDS) {
    const value = out[field];
    if (MAGENTO_VALUE.test(value)) continue;
    const label = PASTED_FIELDS[field];
    const hint =
      value.length !== 32
        ? `it has ${value.length} characters`
        : /[A-Z]/.test(value)
          ? 'it has upper-case letters'
          : 'it has characters other than letters and digits';
    throw refuse(field, `the ${label} must be the 32 lower-case letters and digits Magento shows (${hint}); copy it again from ${INTEGRATION_DETAILS}`);
  }
  // The same value in two fields cannot work, and says which field was pasted wrongly.
  for (let i = 0; i < CREDENTIAL_FIELDS.length; i++) {
    for (let j = i + 1; j < CREDENTIAL_FIELDS.length; j++) {
      const [a, b] = [CREDENTIAL_FIELDS[i]!, CREDENTIAL_FIELDS[j]!];
      if (out[a] === out[b]) {
        throw refuse(b, `the ${PASTED_FIELDS[b]} is the same as the ${PASTED_FIELDS[a]}; copy the ${PASTED_FIELDS[b]} from ${INTEGRATION_DETAILS}`);
      }
    }
  }
  return out;
}

export interface CredentialsConnection {
  /** As stored: active, origin `credentials`, with the detected signing profile. */
  binding: Binding;
  /** True when an existing binding took a new access token (a Reauthorize in Magento), false for a new binding. */
  reconnected: boolean;
}

/**
 * Connects the store for `accountId` with pasted credentials, or throws CredentialsError saying what is wrong (and
 * stores nothing).
 */
export async function connectWithCredentials(
  deps: CredentialsDeps,
  accountId: string,
  input: Partial<Record<PastedField, unknown>>,
): Promise<CredentialsConnection> {
  const { storage, clock, logger } = deps;
  const pasted = parsePastedCredentials(input, { allowPrivate: deps.allowPrivateStoreUrls });
  const keyHash = consumerKeyHash(pasted.consumerKey).slice(0, 12);
  const known = await storage.bindings.byConsumerKey(pasted.consumerKey);
  // A bound key is refused as a repeated callback with other values is, except where the callback rule accepts a
  // repeat too: the same consumer secret and store URL, here also the same account's store connected by a paste.
  if (known && !canReconnectWithCredentials(known, { accountId, ...pasted })) throw await alreadyBound(deps, known, keyHash);
  if (known?.accessToken?.token === pasted.accessToken) throw await alreadyBound(deps, known, keyHash, 'with these very credentials');
  if (!known) await checkRoomFor(deps, accountId, pasted, keyHash);

  const result = await detectSigningProfile(
    { transport: deps.detection.transport, clock, timeoutMs: deps.detection.timeoutMs },
    {
      storeBaseUrl: pasted.storeBaseUrl,
      consumerKey: pasted.consumerKey,
      consumerSecret: pasted.consumerSecret,
      accessToken: { key: pasted.accessToken, secret: pasted.accessTokenSecret },
    },
  );
  if (result.profile === null) {
    const err = await explain(deps, pasted, result);
    logger.info({ consumerKey: keyHash, storeBaseUrl: pasted.storeBaseUrl, reason: result.reason, code: err.code }, 'pasted credentials refused');
    throw err;
  }

  const now = clock.now();
  const event = { accountId, pair: { token: pasted.accessToken, secret: pasted.accessTokenSecret }, profile: result.profile, now };
  if (known) {
    const binding = await reconnect(deps, known, { ...event, consumerSecret: pasted.consumerSecret, storeBaseUrl: pasted.storeBaseUrl }, keyHash);
    return { binding, reconnected: true };
  }
  const created = await storage.bindings.insert(
    {
      id: randomUUID(),
      consumerKey: pasted.consumerKey,
      storeBaseUrl: pasted.storeBaseUrl,
      state: 'pending',
      consumerSecret: pasted.consumerSecret,
      verifier: null,
      callbackAt: now,
      origin: 'credentials',
    },
    credentialsConnected(event),
    transitionEvents(deps),
  );
  if (!created) {
    // A callback or another paste for this key won the insert while we were checking: refused like the first.
    const winner = await storage.bindings.byConsumerKey(pasted.consumerKey);
    throw winner ? await alreadyBound(deps, winner, keyHash) : new CredentialsError('consumer_key_bound', BOUND_MESSAGE);
  }
  logger.info({ bindingId: created.id, consumerKey: keyHash, accountId, profile: result.profile }, 'store connected with pasted credentials');
  await recordActivationStep(
    deps,
    created.id,
    'credentials_connected',
    `connected with pasted credentials (no callback) to account ${accountId}: a signed call verified, signing profile ${result.profile}`,
  );
  return { binding: created, reconnected: false };
}

/** The new access token of a store connected by a paste (Reauthorize in Magento): the same binding, reconnected. */
async function reconnect(
  deps: CredentialsDeps,
  known: Binding,
  event: Parameters<typeof credentialsReconnected>[1],
  keyHash: string,
): Promise<Binding> {
  const done = await deps.storage.bindings.modify(known.id, (cur) => credentialsReconnected(cur, event), known, transitionEvents(deps));
  if (!done || done.accessToken?.token !== event.pair.token) {
    // Deleted, or changed by someone else meanwhile: nothing of ours was written.
    throw done ? await alreadyBound(deps, done, keyHash) : new CredentialsError('consumer_key_bound', BOUND_MESSAGE);
  }
  deps.logger.info({ bindingId: done.id, consumerKey: keyHash, accountId: event.accountId, profile: event.profile }, 'store reconnected with pasted credentials');
  await recordActivationStep(deps, done.id, 'credentials_connected', `reconnected with a new pasted access token (Reauthorize in Magento): a signed call verified, signing profile ${event.profile}`);
  return done;
}

const BOUND_MESSAGE =
  'This consumer key is already connected to a store here (by an activation or by pasted credentials); nothing was ' +
  'changed.';

/** A new binding: the key is not reserved by a deleted store of another secret or account, and the account has room. */
async function checkRoomFor(deps: CredentialsDeps, accountId: string, pasted: { consumerKey: string; consumerSecret: string }, keyHash: string): Promise<void> {
  const [tomb, counts] = await Promise.all([
    deps.storage.tombstones.byKeyHash(consumerKeyHash(pasted.consumerKey)),
    deps.storage.bindings.countByAccount(accountId),
  ]);
  if (reservedAgainst(tomb, pasted.consumerSecret, accountId)) {
    deps.logger.warn({ reason: 'consumer_key_reserved', consumerKey: keyHash }, 'pasted credentials refused');
    throw new CredentialsError('consumer_key_reserved', RESERVED_MESSAGE, 'consumerKey');
  }
  if (counts.all >= deps.maxStoresPerAccount) {
    throw new CredentialsError(
      'too_many_stores',
      `This account already has ${deps.maxStoresPerAccount} stores, the most one account may have; remove stores you no longer use first.`,
      'storeBaseUrl',
    );
  }
}

const RESERVED_MESSAGE =
  'This consumer key belonged to a store that was removed; it stays reserved for that integration\'s own consumer ' +
  'secret and account, so nothing was stored. Create a new integration in the Magento admin (it gets a new consumer key) and paste its values.';

async function alreadyBound(deps: CredentialsDeps, known: Binding, keyHash: string, how?: string): Promise<CredentialsError> {
  deps.logger.warn({ reason: 'consumer_key_bound', bindingId: known.id, consumerKey: keyHash }, 'pasted credentials refused');
  await recordActivationStep(deps, known.id, 'credentials_refused', `pasted credentials for this consumer key were refused: the key is bound already${how ? ` ${how}` : ''}; nothing changed`);
  if (how) return new CredentialsError('consumer_key_bound', `This store is already connected ${how}; nothing was changed.`, 'accessToken');
  return new CredentialsError('consumer_key_bound', BOUND_MESSAGE, 'consumerKey', {
    fix:
      'A store connected with pasted credentials takes a new Access Token (after Reauthorize in Magento) pasted with ' +
      'the same store URL, Consumer Key and Consumer Secret by the same account. To connect it otherwise, disconnect ' +
      "it first (account page, Disconnect). To connect another store, create a new integration in that store's admin.",
  });
}

/** What an undetermined detection says about the pasted values, as the error the merchant sees. */
async function explain(deps: CredentialsDeps, pasted: PastedCredentials, result: Extract<DetectionResult, { profile: null }>): Promise<CredentialsError> {
  const url = pasted.storeBaseUrl;
  switch (result.reason) {
    case 'token_dead': {
      const message = deadMessage(result) ?? result.detail;
      if (/consumer/i.test(message) && !/token/i.test(message)) {
        return new CredentialsError(
          'consumer_key_rejected',
          `The store at ${url} does not know this consumer key ("${message}"). Check the Consumer Key, and that the ` +
            'store URL is the store where the integration was created.',
          'consumerKey',
          { fix: `Copy the Consumer Key again from ${INTEGRATION_DETAILS}.` },
        );
      }
      return new CredentialsError(
        'token_rejected',
        `The store knows the consumer key but refused the access token ("${message}"): the Access Token is not this ` +
          "integration's, or it was replaced (Reauthorize issues new ones) or the integration was deleted.",
        'accessToken',
        { fix: `Copy the Access Token and the Access Token Secret again from ${INTEGRATION_DETAILS}.` },
      );
    }
    case 'every_candidate_refused': {
      const wrong = await wrongSecret(deps, pasted);
      return new CredentialsError('signature_rejected', signatureMessage(wrong), wrong ?? 'consumerSecret', {
        fix: `Copy the ${wrong ? PASTED_FIELDS[wrong] : 'Consumer Secret and the Access Token Secret'} again from ${INTEGRATION_DETAILS}.`,
      });
    }
    case 'unreachable':
      return new CredentialsError('store_unreachable', `Could not reach the store at ${url}: ${result.detail}.`, 'storeBaseUrl', {
        fix: 'Check the store URL, and that the store answers over HTTPS from the internet (this connector calls it; Magento never has to call us).',
      });
    case 'clock':
      return new CredentialsError('store_clock_ahead', `The store refused the request's time: ${result.detail}.`, undefined, {
        fix: "Check the store server's clock (and ours): they must agree within 10 minutes.",
      });
    case 'authorization_not_seen':
      return new CredentialsError('authorization_not_seen', `The credentials could not be checked: ${result.detail}.`, undefined, {
        fix: "Make the store's web server pass the Authorization header to PHP (e.g. Apache: CGIPassAuth On, or the SetEnvIf rule of Magento's .htaccess).",
      });
    case 'unexpected_answer':
    case 'inconsistent':
      return new CredentialsError('not_magento_store', `${url} did not answer as a Magento store: ${result.detail}.`, 'storeBaseUrl', {
        fix: "Use the store's base URL as Magento has it (Stores > Configuration > General > Web > Base URLs (Secure)); it ends in index.php/ on stores without URL rewrites.",
      });
  }
}

function deadMessage(result: DetectionResult): string | undefined {
  for (const e of result.evidence) if (e.answer.kind === 'token_dead') return e.answer.message;
  return undefined;
}

// After a refused signature the consumer key and the access token are known to Magento (it checks both before the
// signature), so one of the two secrets is wrong. The request-token endpoint is signed with the consumer secret
// alone and checks it before looking at the integration's token rows (§4): "not a verifier token" means the consumer
// secret verified, so the token secret is the wrong one. It answers only within 300 s of the integration's last
// consumer update ("Consumer key has expired"); then we cannot tell. One call, only on this failure; an integration
// that has an access token holds no verifier row for it to use up (§4a).
async function wrongSecret(deps: CredentialsDeps, pasted: PastedCredentials): Promise<'consumerSecret' | 'accessTokenSecret' | null> {
  try {
    await deps.tokenEndpoints.requestToken({ storeBaseUrl: pasted.storeBaseUrl, consumerKey: pasted.consumerKey, consumerSecret: pasted.consumerSecret });
    return null;
  } catch (err) {
    if (!(err instanceof MagentoOAuthProblem)) return null;
    if (/signature is invalid/i.test(err.problem)) return 'consumerSecret';
    if (/not a verifier token/i.test(err.problem)) return 'accessTokenSecret';
    return null;
  }
}

function signatureMessage(wrong: 'consumerSecret' | 'accessTokenSecret' | null): string {
  const base =
    'The store knows the consumer key and the access token but refused the signature made with the two secrets ' +
    '("The signature is invalid"), for every Magento signature verifier: ';
  if (wrong === 'consumerSecret') return `${base}the Consumer Secret is wrong (the store refused it on its own).`;
  if (wrong === 'accessTokenSecret') {
    return `${base}the Consumer Secret is right (the store accepted it on its own), so the Access Token Secret is wrong.`;
  }
  return `${base}the Consumer Secret or the Access Token Secret is wrong (most often one copied incompletely, or into the other's field).`;
}

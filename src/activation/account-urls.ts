// Issue 13: every account has its own Callback URL and Identity Link URL, carrying an unguessable token in the path
// (Magento appends ?oauth_consumer_key=... to the identity link, so the token cannot be a query parameter). The token
// is 256 random bits; the database keeps its SHA-256 to find the account and a sealed copy to show the URLs again
// (the account page, GET /api/accounts/:id). Rotation replaces it: old URLs stop accepting new activations, existing
// bindings are untouched (they belong to the account, not to the URL).
import { randomBytes } from 'node:crypto';
import { sha256 } from '../secrets/digest.js';
import type { Clock } from '../clock.js';
import type { Storage } from '../storage/types.js';

export interface ActivationUrls {
  callbackUrl: string;
  identityLinkUrl: string;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function newActivationToken(): string {
  return randomBytes(32).toString('base64url');
}

export function activationTokenHash(token: string): string {
  return sha256(token);
}

export function urlsFor(token: string, publicUrl: string): ActivationUrls {
  const base = publicUrl.replace(/\/+$/, '');
  return { callbackUrl: `${base}/magento/callback/${token}`, identityLinkUrl: `${base}/magento/identity/${token}` };
}

type Deps = { storage: Storage; clock: Clock };

/** The account's token, created on first need (accounts from before issue 13 get theirs here, race-safe). */
export async function accountActivationToken({ storage, clock }: Deps, accountId: string): Promise<string> {
  const held = await storage.activationTokens.ofAccount(accountId);
  if (held) return held.token;
  const token = newActivationToken();
  const after = await storage.activationTokens.setIfMissing(accountId, token, activationTokenHash(token), clock.now());
  if (!after) throw new Error(`account ${accountId} does not exist`);
  return after.token;
}

/** The account's two URLs to paste into Magento. The one function the account page and the operator API use. */
export async function activationUrls(deps: Deps, accountId: string, publicUrl: string): Promise<ActivationUrls> {
  return urlsFor(await accountActivationToken(deps, accountId), publicUrl);
}

/**
 * The URLs of a page of accounts, in the order given: one query for the tokens held, then one creation per account
 * still without.
 */
export async function activationUrlsOf(deps: Deps, accountIds: readonly string[], publicUrl: string): Promise<ActivationUrls[]> {
  const held = new Map((await deps.storage.activationTokens.ofAccounts(accountIds)).map((t) => [t.accountId, t.token]));
  const urls: ActivationUrls[] = [];
  for (const id of accountIds) urls.push(urlsFor(held.get(id) ?? (await accountActivationToken(deps, id)), publicUrl));
  return urls;
}

/** A new token for the account; the old URLs stop accepting new activations at once. */
export async function rotateActivationUrls({ storage, clock }: Deps, accountId: string, publicUrl: string): Promise<ActivationUrls> {
  const token = newActivationToken();
  const after = await storage.activationTokens.replace(accountId, token, activationTokenHash(token), clock.now());
  if (!after) throw new Error(`account ${accountId} does not exist`);
  return urlsFor(after.token, publicUrl);
}

const TOKEN_IN_PATH = /^(\/magento\/(?:callback|identity)\/)([^/]+)/;

/**
 * A request path with an activation token in it, as logs may show it: the token is a credential (it takes stores
 * into its account), so only the first characters of its SHA-256 remain, enough to correlate.
 */
export function redactActivationToken(path: string): string {
  return path.replace(TOKEN_IN_PATH, (_all, prefix: string, token: string) =>
    ['login', 'signup', 'oidc'].includes(token) ? `${prefix}${token}` : `${prefix}~${activationTokenHash(token).slice(0, 12)}`,
  );
}

/** The account an activation URL's token belongs to, or null (malformed, unknown, rotated away). */
export async function accountForToken({ storage }: Pick<Deps, 'storage'>, token: string): Promise<string | null> {
  if (!TOKEN.test(token)) return null;
  return storage.activationTokens.accountIdByHash(activationTokenHash(token));
}

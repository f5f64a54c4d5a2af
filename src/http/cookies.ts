// Cookie settings in one place: HttpOnly, SameSite=Lax, Secure when PUBLIC_URL is https.
import type { Context } from 'koa';
import type { Config } from '../config.js';
import { hmacToken, randomToken, safeEqual, sha256 } from '../accounts/tokens.js';

export const SESSION_COOKIE = 'mc_session';
export const CSRF_COOKIE = 'mc_csrf';

// The session cookie this response sets (sign-in, sign-out), which the next request will carry: a form rendered in
// the same response must be bound to it, not to the one the request came with.
const SESSION_SET = Symbol('session cookie set by this response');

export function setCookie(ctx: Context, config: Config, name: string, value: string, expires?: Date): void {
  if (name === SESSION_COOKIE) (ctx.state as Record<symbol, string>)[SESSION_SET] = value;
  const secure = config.publicUrl.startsWith('https:');
  // Behind a TLS-terminating proxy the request itself may look plain; PUBLIC_URL says how browsers reach us.
  if (secure) ctx.cookies.secure = true;
  ctx.cookies.set(name, value, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires, overwrite: true });
}

export function clearCookie(ctx: Context, config: Config, name: string): void {
  setCookie(ctx, config, name, '', new Date(0));
}

/** The session cookie the browser will send with the next form: the one set by this response, else the request's. */
function sessionOf(ctx: Context): string {
  const set = (ctx.state as Record<symbol, string | undefined>)[SESSION_SET];
  const value = set ?? ctx.cookies.get(SESSION_COOKIE) ?? '';
  return value.length > 100 ? '' : value;
}

/**
 * CSRF protection without server state: a random HttpOnly cookie (the pre-session cookie), and in each form an HMAC
 * under a key all instances share of that cookie AND the session cookie. A forged cross-site form cannot read the
 * cookies, so it cannot produce the HMAC; and a seed cookie planted in the victim's browser (from a sibling host, or
 * over plain http) with a token the attacker got for it does not help either: the token also names the session,
 * which the attacker does not know. Signed out, the forms (sign-in, sign-up) are bound to the seed alone.
 */
export function csrfToken(ctx: Context, config: Config, key: Buffer): string {
  let seed = ctx.cookies.get(CSRF_COOKIE);
  if (!seed || seed.length > 100) {
    seed = randomToken(24);
    setCookie(ctx, config, CSRF_COOKIE, seed);
  }
  return hmacToken(key, csrfInput(seed, sessionOf(ctx)));
}

export function csrfValid(ctx: Context, key: Buffer, submitted: string | undefined): boolean {
  const seed = ctx.cookies.get(CSRF_COOKIE);
  if (!seed || !submitted || seed.length > 100) return false;
  const session = ctx.cookies.get(SESSION_COOKIE) ?? '';
  return safeEqual(submitted, hmacToken(key, csrfInput(seed, session.length > 100 ? '' : session)));
}

// The session's hash, not the session itself, goes into the MAC: nothing derived from the bearer value needs to be
// reversible, and a separator that cannot occur in a cookie value keeps the two parts apart.
function csrfInput(seed: string, session: string): string {
  return `${seed}\n${session ? sha256(session) : ''}`;
}

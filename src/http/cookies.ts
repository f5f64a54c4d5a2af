// Cookie settings in one place: HttpOnly, SameSite=Lax, Secure when PUBLIC_URL is https.
import type { Context } from 'koa';
import type { Config } from '../config.js';
import { hmacToken, randomToken, safeEqual } from '../accounts/tokens.js';

export const SESSION_COOKIE = 'mc_session';
export const CSRF_COOKIE = 'mc_csrf';

export function setCookie(ctx: Context, config: Config, name: string, value: string, expires?: Date): void {
  const secure = config.publicUrl.startsWith('https:');
  // Behind a TLS-terminating proxy the request itself may look plain; PUBLIC_URL says how browsers reach us.
  if (secure) ctx.cookies.secure = true;
  ctx.cookies.set(name, value, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires, overwrite: true });
}

export function clearCookie(ctx: Context, config: Config, name: string): void {
  setCookie(ctx, config, name, '', new Date(0));
}

/**
 * CSRF protection without server state: a random HttpOnly cookie, and in each form an HMAC of it under a key all
 * instances share. A forged cross-site form cannot read the cookie, so it cannot produce the HMAC.
 */
export function csrfToken(ctx: Context, config: Config, key: Buffer): string {
  let seed = ctx.cookies.get(CSRF_COOKIE);
  if (!seed || seed.length > 100) {
    seed = randomToken(24);
    setCookie(ctx, config, CSRF_COOKIE, seed);
  }
  return hmacToken(key, seed);
}

export function csrfValid(ctx: Context, key: Buffer, submitted: string | undefined): boolean {
  const seed = ctx.cookies.get(CSRF_COOKIE);
  if (!seed || !submitted || seed.length > 100) return false;
  return safeEqual(submitted, hmacToken(key, seed));
}

// Random bearer values (API keys, session cookies) and their stored form: only a SHA-256 of a value is stored.
// These values carry 256 bits of randomness, so a fast hash is enough (no password-style stretching needed).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256 } from '../secrets/digest.js';

export { sha256 };

export const API_KEY_PREFIX = 'mck_';

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function newApiKey(): { key: string; hash: string; prefix: string } {
  const key = API_KEY_PREFIX + randomToken(32);
  return { key, hash: sha256(key), prefix: key.slice(0, API_KEY_PREFIX.length + 6) };
}

/** HMAC-based tokens (CSRF): `hmacToken(key, value)` proves the holder saw `value` under our key. */
export function hmacToken(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

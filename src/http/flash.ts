// A one-time message carried across a POST-redirect-GET: the form's answer (e.g. a new API key, shown once) is sealed
// into a short-lived cookie, the POST redirects, and the next GET shows it and clears it. A reload of that page shows
// the page without it and repeats nothing. Sealed (AES-256-GCM under a key every instance derives alike), so the
// value is neither readable nor forgeable in the browser's cookie store, and it expires within a minute.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { clearCookie, setCookie } from './cookies.js';

export const FLASH_COOKIE = 'mc_flash';
export const FLASH_LIFE_MS = 60_000;

export interface Flash {
  /** A just-created API key, shown once. */
  newKey?: string;
  /** A line saying what the form did. */
  notice?: string;
}

export class FlashMessages {
  private readonly key: Buffer;

  constructor(
    secret: Buffer,
    private readonly config: Config,
    private readonly clock: Clock,
  ) {
    this.key = createHmac('sha256', secret).update('flash message v1').digest();
  }

  set(ctx: Context, flash: Flash): void {
    const expires = this.clock.now().getTime() + FLASH_LIFE_MS;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(JSON.stringify({ flash, expires }), 'utf8'), cipher.final()]);
    const value = Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    // A session cookie: its expiry is the sealed one, checked against our clock (a browser's clock may differ).
    setCookie(ctx, this.config, FLASH_COOKIE, value);
  }

  /** The flash for this page, once: it is cleared as it is read. Null when there is none, it expired or was forged. */
  take(ctx: Context): Flash | null {
    const value = ctx.cookies.get(FLASH_COOKIE);
    if (!value) return null;
    clearCookie(ctx, this.config, FLASH_COOKIE);
    if (value.length > 4096) return null;
    try {
      const raw = Buffer.from(value, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const { flash, expires } = JSON.parse(text) as { flash: Flash; expires: number };
      return expires > this.clock.now().getTime() ? flash : null;
    } catch {
      return null; // tampered with, or sealed under another key
    }
  }
}

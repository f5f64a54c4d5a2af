// oauth_nonce and oauth_timestamp (docs/magento-protocol.md §6): a fresh CSPRNG nonce of at most 32 characters for
// every attempt (Magento burns a nonce even when the signature fails), and whole seconds from the injected clock.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { SigningError } from './errors.js';

/** Tests only: a fixed nonce and timestamp. Left out, each call gets a fresh CSPRNG nonce and the clock's seconds. */
export interface FixedNonce {
  /** 1 to 32 characters of A-Z a-z 0-9 . _ ~ - (Magento stores nonces in a varchar(32)). */
  nonce?: string;
  /** Seconds since the epoch, a positive integer. */
  timestamp?: number;
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NONCE_LENGTH = 32;
// Random bytes are drawn in blocks (one randomBytes call per ~30 nonces instead of one per nonce). Bytes >= 248 are
// skipped so that every character is equally likely (248 = 4 * 62).
let pool = Buffer.alloc(0);
let poolAt = 0;

/** 32 characters of [A-Za-z0-9] from the CSPRNG. */
export function generateNonce(): string {
  let nonce = '';
  while (nonce.length < NONCE_LENGTH) {
    if (poolAt >= pool.length) {
      pool = randomBytes(1024);
      poolAt = 0;
    }
    const byte = pool[poolAt++]!;
    if (byte < 248) nonce += NONCE_ALPHABET[byte % 62];
  }
  return nonce;
}

const NONCE_SHAPE = /^[A-Za-z0-9._~-]{1,32}$/;

export function nonceFor(fixed: FixedNonce): string {
  if (fixed.nonce === undefined) return generateNonce();
  if (typeof fixed.nonce !== 'string' || !NONCE_SHAPE.test(fixed.nonce)) {
    throw new SigningError('invalid_nonce', 'a fixed nonce must be 1 to 32 characters of A-Z a-z 0-9 . _ ~ -');
  }
  return fixed.nonce;
}

export function timestampFor(fixed: FixedNonce, clock: Clock): number {
  if (fixed.timestamp === undefined) return Math.floor(clock.now().getTime() / 1000);
  if (!Number.isSafeInteger(fixed.timestamp) || fixed.timestamp <= 0) {
    throw new SigningError('invalid_timestamp', 'a fixed timestamp must be a positive whole number of seconds');
  }
  return fixed.timestamp;
}

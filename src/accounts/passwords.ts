// Password hashing with scrypt from node:crypto (memory-hard; no native add-on to build). The stored string carries
// its own parameters, so they can be raised later without invalidating existing hashes.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { createRequire } from 'node:module';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

// N=2^15, r=8: 32 MiB per hash, about 100 ms here. OWASP's scrypt guidance is N>=2^17 at r=8 for p=1 or this
// with p>1; we trade a little for the sign-in latency of a popup. Raise N here; old hashes keep verifying.
const DEFAULT = { N: 2 ** 15, r: 8, p: 1, keylen: 32 };

/** Length bounds in characters (Unicode code points: an emoji is one, as a person counts it). */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

// The shipped list of common passwords (zxcvbn's, ~49,000 entries from breach corpora): a guesser tries these first,
// whatever the length rule says. Read on the first check, kept as one lower-cased string of lines (one object for
// the GC to mark, where a Set held 49,000), and the package dropped again: it holds all of zxcvbn's dictionaries,
// about 2.7 MB of a server's heap that every full GC marked (issue 16; src/heap.ts).
let common: string | undefined;
function isCommon(candidate: string): boolean {
  if (candidate.includes('\n')) return false; // no entry holds a line break
  common ??= commonPasswordLines();
  return common.includes(`\n${candidate}\n`);
}
function commonPasswordLines(): string {
  const require = createRequire(import.meta.url);
  const before = new Set(Object.keys(require.cache));
  const { dictionary } = require('@zxcvbn-ts/language-common') as { dictionary: Record<string, string[]> };
  // Every module this require loaded leaves the cache again, the package's own and those of other packages it
  // required (@zxcvbn-ts/dictionary-compression): a module left cached keeps its parent, and with it the
  // dictionaries, alive (sixteenth session: a heap snapshot still held the 49,236 passwords that way).
  for (const key of Object.keys(require.cache)) if (!before.has(key)) delete require.cache[key];
  return `\n${dictionary['passwords-common']!.map((p) => p.toLowerCase()).join('\n')}\n`;
}

/**
 * The one password policy (sign-up, the CLI, password reset and change): what is wrong with `password`, in words
 * that say what to do, or null when it is acceptable.
 */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) return `Choose a password of ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`;
  if (password.trim() === '') return 'A password of only spaces is too easy to guess: choose one with letters, digits or words.';
  if (new Set(password).size === 1) return 'A password of one repeated character is too easy to guess: choose a mix of characters or several words.';
  if (isCommon(password.toLowerCase()) || isCommon(password.trim().toLowerCase())) {
    return 'This password is on the list of common passwords that attackers try first: choose another one (several unrelated words work well).';
  }
  return null;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keylen } = DEFAULT;
  const key = await scrypt(password, salt, keylen, { N, r, p, maxmem: 256 * N * r });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  const key = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r });
  return timingSafeEqual(key, expected);
}

/** A hash to verify against when the account does not exist, so timing does not reveal which emails are taken. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

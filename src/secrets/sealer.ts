// Secrets at rest: AES-256-GCM with key ids, so keys can rotate. A sealed value reads
// `<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts; the key id is authenticated too). SECRETS_KEY holds
// `id:key` pairs separated by commas: the first key seals, every key opens. Without SECRETS_KEY (a laptop), a key is
// generated once into <dataDir>/secrets.key and reused.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectorError } from '../errors.js';
import type { Logger } from '../log.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/; // standard or url-safe alphabet
const BASE64URL_PART = /^[A-Za-z0-9_-]*$/;
const GENERATED_KEY_ID = 'local';
export const KEY_FILE_NAME = 'secrets.key';

const EXPECTED_FORMAT =
  'SECRETS_KEY must be one or more id:key pairs separated by commas (the first seals, all open), ' +
  'each key 32 random bytes in base64, e.g. SECRETS_KEY="k1:$(openssl rand -base64 32)"';

/** SECRETS_KEY (or the key file) is unusable, or a sealed value names a key that is not configured. */
export class SecretsKeyError extends ConnectorError<'secrets_key_invalid'> {
  constructor(
    message: string,
    /** The key id a sealed value asked for, when that is the problem. */
    readonly keyId?: string,
  ) {
    super('secrets_key_invalid', message);
  }
}

/** A value is not a sealed value, or failed authentication (tampered, truncated, or sealed with another key). */
export class SealedValueError extends ConnectorError<'sealed_value_invalid'> {
  constructor(message: string) {
    super('sealed_value_invalid', message);
  }
}

export interface SealingKey {
  id: string;
  key: Buffer;
}

export class Sealer {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #sealing: SealingKey;

  /** The first key seals; all of them open. */
  constructor(keys: readonly SealingKey[]) {
    const first = keys[0];
    if (!first) throw new SecretsKeyError(`no sealing key given. ${EXPECTED_FORMAT}`);
    const map = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id)) throw new SecretsKeyError(`key id "${id.slice(0, 64)}" may hold only letters, digits, _ and -. ${EXPECTED_FORMAT}`);
      if (key.length !== KEY_BYTES) throw new SecretsKeyError(`key "${id}" is ${key.length} bytes, not ${KEY_BYTES}. ${EXPECTED_FORMAT}`);
      if (map.has(id)) throw new SecretsKeyError(`key id "${id}" appears twice. ${EXPECTED_FORMAT}`);
      map.set(id, Buffer.from(key));
    }
    this.#keys = map;
    this.#sealing = { id: first.id, key: map.get(first.id)! };
  }

  /** The id of the key that seals new values. */
  get keyId(): string {
    return this.#sealing.id;
  }

  /** Ids of every key that can open, the sealing key first. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  seal(plain: string): string {
    const { id, key } = this.#sealing;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 4 || !parts.every((p) => BASE64URL_PART.test(p))) {
      throw new SealedValueError('not a sealed value (expected keyId.iv.ciphertext.tag)');
    }
    const [id, ivPart, ciphertextPart, tagPart] = parts as [string, string, string, string];
    const key = this.#keys.get(id);
    if (!key) {
      throw new SecretsKeyError(
        `this value was sealed with key "${id}", which is not configured: add "${id}:<that key>" to SECRETS_KEY ` +
          `after the sealing key (configured: ${this.keyIds.join(', ')})`,
        id,
      );
    }
    const iv = Buffer.from(ivPart, 'base64url');
    const tag = Buffer.from(tagPart, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new SealedValueError(`sealed value (key "${id}") is truncated or malformed`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(id, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ciphertextPart, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedValueError(`sealed value (key "${id}") failed authentication: it was altered, or sealed with a different key under the same id`);
    }
  }

  /**
   * A 32-byte key for one purpose (CSRF tokens, signed cookies...), derived with HKDF-SHA256 from the sealing key.
   * Different purposes get unrelated keys; rotating the sealing key changes every derived key.
   */
  deriveKey(purpose: string): Buffer {
    if (!purpose) throw new Error('deriveKey needs a purpose');
    return Buffer.from(hkdfSync('sha256', this.#sealing.key, Buffer.alloc(0), `magento-connector:${purpose}`, KEY_BYTES));
  }
}

/** Parses SECRETS_KEY (`id:base64key[,id:base64key...]`). Errors never repeat key material. */
export function parseSecretsKey(value: string, source = 'SECRETS_KEY'): SealingKey[] {
  const entries = value.split(',').map((e) => e.trim());
  return entries.map((entry, i) => {
    const where = `${source} entry ${i + 1} of ${entries.length}`;
    if (!entry) throw new SecretsKeyError(`${where} is empty. ${EXPECTED_FORMAT}`);
    const colon = entry.indexOf(':');
    if (colon < 0) throw new SecretsKeyError(`${where} has no key id (write it as id:key). ${EXPECTED_FORMAT}`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new SecretsKeyError(`${where}: a key id may hold only letters, digits, _ and - (1 to 64). ${EXPECTED_FORMAT}`);
    const key = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : null; // Node's base64 reads both alphabets
    if (!key || key.length !== KEY_BYTES) {
      throw new SecretsKeyError(`${where} (id "${id}"): the key is not ${KEY_BYTES} bytes of base64. ${EXPECTED_FORMAT}`);
    }
    return { id, key };
  });
}

export interface LoadSealerOptions {
  /** SECRETS_KEY; undefined or empty means "use or create <dataDir>/secrets.key". */
  secretsKey: string | undefined;
  dataDir: string;
  logger?: Pick<Logger, 'warn'>;
  /**
   * One sealed value the database already holds (null: it holds none). With one, a missing key file is an error,
   * never a reason to generate a key, and the keys must open it (see checkOpens).
   */
  sealedSample?: string | null;
}

let warnedAboutKeyFile = false;

export function loadSealer({ secretsKey, dataDir, logger, sealedSample }: LoadSealerOptions): Sealer {
  const path = join(dataDir, KEY_FILE_NAME);
  if (secretsKey) return checkOpens(new Sealer(parseSecretsKey(secretsKey)), sealedSample, 'SECRETS_KEY', path);
  if (sealedSample && tryRead(path) === null) {
    const id = keyIdOf(sealedSample);
    throw new SecretsKeyError(
      `${path} is missing, and the database holds secrets sealed with key "${id}": restore that file from a backup, ` +
        `or set SECRETS_KEY to "${id}:<that key>". No new key is generated: it could not open them.`,
      id,
    );
  }
  const { keys, created } = readOrCreateKeyFile(path);
  if (!warnedAboutKeyFile) {
    warnedAboutKeyFile = true;
    const message =
      `SECRETS_KEY is not set: secrets are sealed with a key ${created ? 'just generated into' : 'read from'} ${path}. ` +
      'Production must set SECRETS_KEY; to keep what is sealed readable, include this file\'s id:key line in it ' +
      '(after a new sealing key, if you add one)';
    if (logger) logger.warn({ keyFile: path }, message);
    else process.emitWarning(message);
  }
  return checkOpens(new Sealer(keys), sealedSample, path, path);
}

function keyIdOf(sealed: string): string {
  return sealed.split('.')[0] || '(none)';
}

/**
 * Refuses keys that cannot open what the database holds: starting anyway would seal new values with them and fail
 * every popup and API call on the old ones. `source` names where the keys came from, `keyFile` the laptop key file.
 */
export function checkOpens(sealer: Sealer, sealedSample: string | null | undefined, source: string, keyFile: string): Sealer {
  if (!sealedSample) return sealer;
  const id = keyIdOf(sealedSample);
  try {
    sealer.open(sealedSample);
    return sealer;
  } catch (error) {
    if (error instanceof SecretsKeyError) {
      throw new SecretsKeyError(
        `the database holds secrets sealed with key "${id}", which ${source} does not have (it has: ${sealer.keyIds.join(', ')}): ` +
          `add "${id}:<that key>" to SECRETS_KEY after the sealing key${source === 'SECRETS_KEY' ? `, or restore ${keyFile} and unset SECRETS_KEY` : ''}`,
        id,
      );
    }
    if (error instanceof SealedValueError) {
      throw new SecretsKeyError(
        `the key "${id}" in ${source} does not open the secrets in the database (they were sealed with another key under ` +
          `the same id): configure the original key "${id}"`,
        id,
      );
    }
    throw error;
  }
}

function readOrCreateKeyFile(path: string): { keys: SealingKey[]; created: boolean } {
  let created = false;
  let text = tryRead(path);
  if (text === null) {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    // Written aside, then linked into place: link fails if another process won the race, and nobody ever reads a
    // half-written file.
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, `${GENERATED_KEY_ID}:${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, path);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temp);
    }
    text = readFileSync(path, 'utf8');
  } else if ((statSync(path).mode & 0o077) !== 0) {
    // Readable by others: tighten it rather than keep a world-readable key around.
    chmodSync(path, 0o600);
  }
  return { keys: parseSecretsKey(text.trim(), path), created };
}

function tryRead(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Tests only: lets a test see the once-per-process warning again. */
export function resetKeyFileWarningForTests(): void {
  warnedAboutKeyFile = false;
}

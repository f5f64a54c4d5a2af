import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { KEY_FILE_NAME, loadSealer, parseSecretsKey, SealedValueError, Sealer, SecretsKeyError } from '../../src/secrets/index.js';
import { resetKeyFileWarningForTests } from '../../src/secrets/sealer.js';

const key = () => randomBytes(32).toString('base64');
const tempDir = () => mkdtempSync(join(tmpdir(), 'sealer-'));

function recordingLogger() {
  const warnings: string[] = [];
  return {
    warnings,
    logger: {
      warn: (...args: unknown[]) => {
        warnings.push(args.filter((a) => typeof a === 'string').join(' '));
      },
    } as never, // a pino-shaped stand-in: only warn(obj, msg) is used
  };
}

test('seal then open returns the plaintext, in the documented format', (t) => {
  const sealer = loadSealer({ secretsKey: `k1:${key()}`, dataDir: tempDir() });
  for (const plain of ['', 'a', 'consumer-secret-0123456789abcdef', 'ünïcødé ✓ 🔑', 'x'.repeat(10_000)]) {
    const sealed = sealer.seal(plain);
    t.regex(sealed, /^k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/);
    t.is(sealer.open(sealed), plain);
  }
});

test('the sealed output never contains the plaintext, and sealing twice differs (random IV)', (t) => {
  const sealer = new Sealer([{ id: 'k1', key: randomBytes(32) }]);
  const plain = 'very-secret-token-value';
  const a = sealer.seal(plain);
  const b = sealer.seal(plain);
  t.not(a, b);
  for (const sealed of [a, b]) {
    t.false(sealed.includes(plain));
    t.false(sealed.includes(Buffer.from(plain).toString('base64url')));
    t.false(Buffer.from(sealed.split('.')[2]!, 'base64url').toString('utf8').includes(plain));
  }
});

test('any change to a sealed value is detected', (t) => {
  const sealer = new Sealer([{ id: 'k1', key: randomBytes(32) }]);
  const sealed = sealer.seal('secret value');
  const parts = sealed.split('.');
  const flip = (s: string) => {
    const bytes = Buffer.from(s, 'base64url');
    bytes[0] = bytes[0]! ^ 1;
    return bytes.toString('base64url');
  };
  for (const i of [1, 2, 3]) {
    const tampered = parts.map((p, j) => (j === i ? flip(p) : p)).join('.');
    t.throws(() => sealer.open(tampered), { instanceOf: SealedValueError });
  }
  t.throws(() => sealer.open(sealed.slice(0, -2)), { instanceOf: SealedValueError });
  t.throws(() => sealer.open('not sealed at all'), { instanceOf: SealedValueError });
  t.throws(() => sealer.open(`${sealed}.extra`), { instanceOf: SealedValueError });
  // Same id, other key: the tag does not verify.
  const impostor = new Sealer([{ id: 'k1', key: randomBytes(32) }]);
  t.throws(() => impostor.open(sealed), { instanceOf: SealedValueError, message: /k1.*failed authentication/ });
});

test('the key id is authenticated: relabelling a value for another configured key fails', (t) => {
  const k = randomBytes(32);
  const sealer = new Sealer([
    { id: 'a', key: k },
    { id: 'b', key: k },
  ]);
  const sealed = sealer.seal('secret');
  t.throws(() => sealer.open(sealed.replace(/^a\./, 'b.')), { instanceOf: SealedValueError });
});

test('rotation: the first key seals, older keys still open', (t) => {
  const oldKey = key();
  const newKey = key();
  const before = loadSealer({ secretsKey: `old:${oldKey}`, dataDir: tempDir() });
  const sealedBefore = before.seal('kept across rotation');
  const after = loadSealer({ secretsKey: `new:${newKey}, old:${oldKey}`, dataDir: tempDir() });
  t.is(after.keyId, 'new');
  t.deepEqual(after.keyIds, ['new', 'old']);
  t.is(after.open(sealedBefore), 'kept across rotation');
  const sealedAfter = after.seal('new value');
  t.true(sealedAfter.startsWith('new.'));
  t.is(after.open(sealedAfter), 'new value');
});

test('a value sealed with a key that is not configured names that key', (t) => {
  const retired = new Sealer([{ id: 'k2024', key: randomBytes(32) }]);
  const current = new Sealer([{ id: 'k2026', key: randomBytes(32) }]);
  const error = t.throws(() => current.open(retired.seal('x')), { instanceOf: SecretsKeyError });
  t.is(error?.keyId, 'k2024');
  t.regex(error!.message, /"k2024".*not configured.*SECRETS_KEY/);
});

test('a malformed SECRETS_KEY says the expected format and never echoes key material', (t) => {
  const valid = key();
  const cases = [
    valid, // no id
    `k1:${randomBytes(16).toString('base64')}`, // 16 bytes
    `k1:not base64!!`,
    `k.1:${valid}`, // dot in id
    `k1:${valid},`, // empty entry
    `k1:${valid},k1:${key()}`, // duplicate id
    `:${valid}`,
  ];
  for (const secretsKey of cases) {
    const error = t.throws(() => loadSealer({ secretsKey, dataDir: tempDir() }), { instanceOf: SecretsKeyError }, secretsKey.slice(0, 8));
    t.regex(error!.message, /32 random bytes in base64.*openssl rand -base64 32/);
    t.false(error!.message.includes(valid));
  }
  t.is(parseSecretsKey(`a:${valid},b:${Buffer.from(valid, 'base64').toString('base64url')}`).length, 2);
});

test('without SECRETS_KEY a key file is generated once (0600), reused, and a warning is logged once per process', (t) => {
  resetKeyFileWarningForTests();
  const dataDir = join(tempDir(), 'nested', 'data');
  const { logger, warnings } = recordingLogger();
  const first = loadSealer({ secretsKey: undefined, dataDir, logger });
  const file = join(dataDir, KEY_FILE_NAME);
  t.is(statSync(file).mode & 0o777, 0o600);
  const contents = readFileSync(file, 'utf8');
  t.regex(contents, /^local:[A-Za-z0-9+/]{43}=\n$/);

  const second = loadSealer({ secretsKey: '', dataDir, logger });
  t.is(readFileSync(file, 'utf8'), contents);
  t.is(second.open(first.seal('survives a restart')), 'survives a restart');
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /SECRETS_KEY/);
  t.regex(warnings[0]!, /[Pp]roduction must set SECRETS_KEY/);
  t.false(warnings[0]!.includes(contents.trim().split(':')[1]!));

  // The file's line works as SECRETS_KEY: moving a laptop setup to production keeps sealed data readable.
  const fromEnv = loadSealer({ secretsKey: contents.trim(), dataDir: tempDir() });
  t.is(fromEnv.open(first.seal('portable')), 'portable');
});

test('a key file readable by others is tightened to 0600; a corrupt one is an error naming the file', (t) => {
  resetKeyFileWarningForTests();
  const dataDir = tempDir();
  const file = join(dataDir, KEY_FILE_NAME);
  writeFileSync(file, `local:${key()}\n`, { mode: 0o644 });
  loadSealer({ secretsKey: undefined, dataDir, logger: recordingLogger().logger });
  t.is(statSync(file).mode & 0o777, 0o600);
  writeFileSync(file, 'garbage\n');
  t.throws(() => loadSealer({ secretsKey: undefined, dataDir }), { instanceOf: SecretsKeyError, message: new RegExp(KEY_FILE_NAME) });
});

test('deriveKey: 32 bytes, stable per purpose and key, different across purposes and keys', (t) => {
  const k = randomBytes(32);
  const a = new Sealer([{ id: 'k1', key: k }]);
  const b = new Sealer([{ id: 'k1', key: k }]);
  const other = new Sealer([{ id: 'k1', key: randomBytes(32) }]);
  t.is(a.deriveKey('csrf').length, 32);
  t.deepEqual(a.deriveKey('csrf'), b.deriveKey('csrf'));
  t.notDeepEqual(a.deriveKey('csrf'), a.deriveKey('cookie'));
  t.notDeepEqual(a.deriveKey('csrf'), other.deriveKey('csrf'));
  t.notDeepEqual(a.deriveKey('csrf'), k);
  t.throws(() => a.deriveKey(''));
});

test('with sealed data in the database: a missing key file is an error naming the key id, and no key is generated', (t) => {
  const dir = tempDir();
  const original = new Sealer([{ id: 'local', key: randomBytes(32) }]);
  const sample = original.seal('a consumer secret');
  const error = t.throws(() => loadSealer({ secretsKey: undefined, dataDir: dir, sealedSample: sample }), { instanceOf: SecretsKeyError });
  t.is(error?.keyId, 'local');
  t.regex(error!.message, /secrets\.key is missing, and the database holds secrets sealed with key "local": restore that file/);
  t.throws(() => statSync(join(dir, KEY_FILE_NAME)), { code: 'ENOENT' }, 'no key file was written');
  // Without sealed data the key is generated as before.
  t.true(loadSealer({ secretsKey: undefined, dataDir: dir, sealedSample: null }).keyIds.includes('local'));
});

test('with sealed data in the database: keys that cannot open it are refused, naming the key id', (t) => {
  const k1 = key();
  const sample = new Sealer(parseSecretsKey(`k1:${k1}`)).seal('x');
  const missing = t.throws(() => loadSealer({ secretsKey: `k2:${key()}`, dataDir: tempDir(), sealedSample: sample }), { instanceOf: SecretsKeyError });
  t.is(missing?.keyId, 'k1');
  t.regex(missing!.message, /sealed with key "k1", which SECRETS_KEY does not have \(it has: k2\)/);
  const wrong = t.throws(() => loadSealer({ secretsKey: `k1:${key()}`, dataDir: tempDir(), sealedSample: sample }), { instanceOf: SecretsKeyError });
  t.regex(wrong!.message, /the key "k1" in SECRETS_KEY does not open the secrets in the database/);
  t.is(loadSealer({ secretsKey: `k2:${key()},k1:${k1}`, dataDir: tempDir(), sealedSample: sample }).keyId, 'k2');
});

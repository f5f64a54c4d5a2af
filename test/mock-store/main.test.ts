// `npm run mock-store` as a real process: MOCK_STORE_VERIFIER picks the store's verifier; a wrong value is refused.
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { json, raw } from './helpers.js';

const main = fileURLToPath(new URL('../../src/mock-store/main.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

function start(env: Record<string, string>) {
  const child = spawn(tsx, [main], { env: { ...process.env, MOCK_STORE_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /Mock Magento store: (\S+)/.exec(out);
      if (m && /Signature verifier: /.test(out)) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  started.catch(() => undefined); // a test that expects the exit does not await it

  return { child, started, exited, output: () => out, errors: () => err };
}

test('MOCK_STORE_VERIFIER=native starts a native store and says so', async (t) => {
  const p = start({ MOCK_STORE_VERIFIER: 'native' });
  t.teardown(() => {
    p.child.kill('SIGTERM');
  });
  const baseUrl = await p.started;
  t.regex(p.output(), /Signature verifier: native \(Magento 2\.4\.8 and later\)/);
  const res = await raw({ method: 'GET', url: `${baseUrl}__mock/verifier` });
  t.deepEqual(json(res), { verifier: 'native' });
});

test('a wrong MOCK_STORE_VERIFIER is refused with the allowed names', async (t) => {
  const p = start({ MOCK_STORE_VERIFIER: 'zend' });
  t.is(await p.exited, 1);
  t.regex(p.errors(), /MOCK_STORE_VERIFIER must be one of laminas, laminas-double-encoding, native, got "zend"/);
});

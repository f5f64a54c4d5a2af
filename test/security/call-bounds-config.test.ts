// The issue-13 bounds' settings: read from the environment with their defaults, and refused when they cannot work.
import test from 'ava';
import { checkConfig, ConfigError, DEFAULT_LIMITS, loadConfig } from '../../src/config.js';

const MIB = 1024 * 1024;

test('MAX_CALLS_PER_ACCOUNT, MAX_CALLS and the response buffers: defaults, and values from the environment', (t) => {
  const defaults = loadConfig({}).limits;
  t.is(defaults.callsPerAccount, 64);
  t.is(defaults.callsInFlight, 1024);
  t.is(defaults.responseBufferBytesPerAccount, 64 * MIB);
  t.is(defaults.responseBufferBytes, 256 * MIB);
  t.like(DEFAULT_LIMITS, { callsPerAccount: 64, callsInFlight: 1024 });

  const set = loadConfig({ MAX_CALLS_PER_ACCOUNT: '8', MAX_CALLS: '100', MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT: '40', MAX_RESPONSE_BUFFER_MB: '512' }).limits;
  t.like(set, { callsPerAccount: 8, callsInFlight: 100, responseBufferBytesPerAccount: 40 * MIB, responseBufferBytes: 512 * MIB });
  t.throws(() => loadConfig({ MAX_CALLS: '0' }), { instanceOf: ConfigError, message: /MAX_CALLS/ });
  t.throws(() => loadConfig({ MAX_RESPONSE_BUFFER_MB: 'lots' }), { instanceOf: ConfigError, message: /MAX_RESPONSE_BUFFER_MB/ });
});

test('checkConfig refuses a buffer smaller than one answer may be, and fewer calls in all than per account', (t) => {
  t.notThrows(() => checkConfig(loadConfig({})));
  t.throws(() => checkConfig(loadConfig({ MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT: '10' })), { instanceOf: ConfigError, message: /at least the response cap \(20 MiB\)/ });
  t.throws(() => checkConfig(loadConfig({ MAX_RESPONSE_BUFFER_MB_PER_ACCOUNT: '100', MAX_RESPONSE_BUFFER_MB: '50' })), { instanceOf: ConfigError, message: /MAX_RESPONSE_BUFFER_MB \(50 MiB\)/ });
  t.throws(() => checkConfig(loadConfig({ MAX_CALLS_PER_ACCOUNT: '100', MAX_CALLS: '10' })), { instanceOf: ConfigError, message: /MAX_CALLS \(10\) must be at least MAX_CALLS_PER_ACCOUNT \(100\)/ });
});

test('PER_STORE_CONCURRENCY: the per-store cap, 8 by default, from the environment, refused when not a count', (t) => {
  t.is(loadConfig({}).limits.perStoreConcurrency, 8);
  t.is(DEFAULT_LIMITS.perStoreConcurrency, 8);
  t.is(loadConfig({ PER_STORE_CONCURRENCY: '32' }).limits.perStoreConcurrency, 32);
  for (const bad of ['0', '-1', '2.5', 'many']) {
    t.throws(() => loadConfig({ PER_STORE_CONCURRENCY: bad }), { instanceOf: ConfigError, message: /PER_STORE_CONCURRENCY/ }, bad);
  }
});

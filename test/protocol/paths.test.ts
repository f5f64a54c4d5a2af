// The REST path checks and the canonical path, on both sides of their fast paths (a plain path is returned as it
// is; anything with a dot, a backslash or an escape goes through the full reading).
import test from 'ava';
import { ProtocolError } from '../../src/protocol/errors.js';
import { restPath } from '../../src/protocol/rest-client.js';
import { canonicalPath } from '../../src/protocol/url.js';

test('restPath: plain paths pass as they are, with their query', (t) => {
  t.is(restPath('V1/products/24-MB01'), 'V1/products/24-MB01');
  t.is(restPath('default/V1/orders?searchCriteria[pageSize]=5'), 'default/V1/orders?searchCriteria[pageSize]=5');
  t.is(restPath('V1/products/a.b'), 'V1/products/a.b'); // a dot inside a segment is no dot segment
});

test('restPath: dot segments are refused however they are spelt; a backslash is sent escaped', (t) => {
  for (const path of ['V1/../admin', 'V1/./x', 'V1/%2e%2E/x', 'V1/.%2e', '..']) {
    const err = t.throws(() => restPath(path), { instanceOf: ProtocolError });
    t.is(err.code, 'invalid_path', path);
  }
  t.is(restPath('V1/a\\b'), 'V1/a%5Cb');
  t.is(restPath('V1/a%20b?x=..'), 'V1/a%20b?x=..'); // the query is not a path
});

test('canonicalPath: a plain path is its own canonical form; escapes and other characters are read', (t) => {
  for (const path of ['/rest/V1/products/24-MB01', '/rest/V1/a+b:c@d&e=f$g,h;i~j_k.l', '/', '']) t.is(canonicalPath(path), path);
  t.is(canonicalPath('/rest/V1/a%41%7e'), '/rest/V1/aA~');
  t.is(canonicalPath('/rest/V1/a b'), '/rest/V1/a%20b');
  t.is(canonicalPath('/rest/V1/%c3%a9'), '/rest/V1/%C3%A9');
  t.is(canonicalPath('/rest/V1/100%'), '/rest/V1/100%');
});

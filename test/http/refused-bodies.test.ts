// A refused body still gets its answer: a 2 MiB callback (the limit is 16 KiB), a form of the wrong type, an API
// body over its limit. The connector reads and drops what the client is still sending before it answers, so the
// client sees the 413/415 rather than a connection reset. Many at once, so a race would show; no timing asserted.
import { connect } from 'node:net';
import test from 'ava';
import { activationUrlsFor, startConnector } from '../helpers/connector.js';

interface Outcome {
  status?: number;
  code?: string | null;
  body?: string;
  error?: string;
}

/**
 * One POST from a client that writes its whole request before it reads anything (as many simple clients do). A
 * server that answers and closes while the body is still coming resets the connection: the writes fail and the
 * answer is lost. Any socket error, at any point, is the outcome.
 */
function post(url: string, body: Buffer, headers: Record<string, string>, chunked = false): Promise<Outcome> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    let failed: string | undefined;
    socket.on('error', (err: NodeJS.ErrnoException) => (failed ??= err.code ?? err.message));
    socket.on('close', () => {
      if (failed) return resolve({ error: failed });
      const text = Buffer.concat(received).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const code = /^x-connector-error: *(.*)$/im.exec(head)?.[1]?.trim() ?? null;
      resolve({ status, code, body: rest.join('\r\n\r\n') });
    });
    const lines = [`POST ${pathname} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close'];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    lines.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    const piece = 64 * 1024;
    for (let offset = 0; offset < body.length; offset += piece) {
      const part = body.subarray(offset, offset + piece);
      socket.write(chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
    }
    // Only once everything is written does the client start reading.
    socket.pause();
    socket.write(chunked ? '0\r\n\r\n' : '', () => {
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.resume();
    });
  });
}

const PARALLEL = 4;
const TWO_MIB = Buffer.alloc(2 * 1024 * 1024, 'a');
// More than the kernel buffers a loopback connection with (a few MiB), so the client is certainly still writing
// when the server answers: without draining, the close resets the connection every time, not only under load.
const TWELVE_MIB = Buffer.alloc(12 * 1024 * 1024, 'a');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

// Nothing here depends on the database: one backend is enough.
const backend = 'sqlite';

{
  test('2 MiB and 12 MiB callback bodies, sent many times at once, get 413 body_too_large every time (no reset)', async (t) => {
    const connector = await startConnector(backend, t);
    const { callbackUrl } = await activationUrlsFor(connector); // an account's own Callback URL (issue 13)
    const form = (filler: Buffer) => Buffer.concat([Buffer.from('oauth_consumer_key='), filler]);
    const cases = [
      { body: form(TWO_MIB), chunked: false },
      { body: form(TWO_MIB), chunked: true },
      { body: form(TWELVE_MIB), chunked: false },
    ];
    const outcomes = await Promise.all(
      cases.flatMap(({ body, chunked }) => Array.from({ length: PARALLEL }, () => post(callbackUrl, body, FORM, chunked))),
    );
    for (const [i, outcome] of outcomes.entries()) {
      const { body, chunked } = cases[Math.floor(i / PARALLEL)]!;
      const what = `${body.length >> 20} MiB, ${chunked ? 'chunked' : 'with Content-Length'} #${i % PARALLEL}`;
      t.is(outcome.error, undefined, what);
      t.is(outcome.status, 413, what);
      t.is(outcome.code, 'body_too_large', what);
      t.deepEqual(JSON.parse(outcome.body ?? 'null'), { error: { code: 'body_too_large', message: 'The request body is too large.' } }, what);
    }
    // The connection stayed usable: the server answers the next request normally.
    t.is((await fetch(`${connector.url}/healthz`)).status, 200);
  });

  test('a large body of the wrong type (callback, popup form) gets its 415, and the popup\'s is a page', async (t) => {
    const connector = await startConnector(backend, t);
    const { callbackUrl, identityLinkUrl } = await activationUrlsFor(connector); // an account's own (issue 13)
    const outcomes = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        post(i % 2 ? callbackUrl : `${identityLinkUrl}/login`, TWELVE_MIB, { 'content-type': 'application/json' }),
      ),
    );
    for (const [i, outcome] of outcomes.entries()) {
      t.is(outcome.error, undefined, `#${i}`);
      t.is(outcome.status, 415, `#${i}`);
      if (i % 2) {
        t.is(outcome.code, 'unsupported_media_type');
      } else {
        t.is(outcome.code, null, 'a page, not the API shape');
        t.regex(outcome.body ?? '', /<!doctype html>[\s\S]*Send the form as application\/x-www-form-urlencoded/);
      }
    }
  });

  test('an API request refused for its key while a 12 MiB body is still coming gets its 401 (no reset)', async (t) => {
    const connector = await startConnector(backend, t, { limits: { maxRequestBodyBytes: 64 * 1024 } });
    const outcomes = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        post(`${connector.url}/api/stores/x/rest/V1/products`, TWELVE_MIB, { 'content-type': 'application/json', authorization: 'Bearer nope' }),
      ),
    );
    for (const [i, outcome] of outcomes.entries()) {
      t.is(outcome.error, undefined, `#${i}`);
      // The key is checked first: a wrong one is refused whatever the body, and the body is still drained.
      t.is(outcome.status, 401, `#${i}`);
      t.is(outcome.code, 'unauthorized', `#${i}`);
    }
  });
}

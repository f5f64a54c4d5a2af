import test from 'ava';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createLogger } from '../../src/log.js';
import { parseStoreBaseUrl } from '../../src/protocol/store-url.js';
import { createTransport, type Transport, type TransportOptions } from '../../src/protocol/transport.js';
import {
  EgressDeniedError,
  InvalidRequestError,
  RequestAbortedError,
  RequestTooLargeError,
  ResponseTooLargeError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../../src/protocol/transport-errors.js';

// Self-signed, CN/SAN rebind.example: trusted by nobody, so TLS verification must refuse it.
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgw4QDZbiMfmogCJ7A
StrwvsdKetVnuGdUCnVRmQ6wmHahRANCAASiaYwyN9hbMcs+gI68J8OrfKIMQ385
N+GBP4dMWeB2haQBBsykuzGC4IlJs7sYE8q5nJaKR36+BRrz1cVIC431
-----END PRIVATE KEY-----
`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBozCCAUqgAwIBAgIUCIr5sbb9F2EsL7MD+Khyzr2Uv1kwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOcmViaW5kLmV4YW1wbGUwIBcNMjYxMTI3MTc1ODA3WhgPMjEy
NjExMDMxNzU4MDdaMBkxFzAVBgNVBAMMDnJlYmluZC5leGFtcGxlMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEommMMjfYWzHLPoCOvCfDq3yiDEN/OTfhgT+HTFng
doWkAQbMpLsxguCJSbO7GBPKuZyWikd+vgUa89XFSAuN9aNuMGwwHQYDVR0OBBYE
FA1vvZXW9lzZukeHd4OypM1dJNnHMB8GA1UdIwQYMBaAFA1vvZXW9lzZukeHd4Oy
pM1dJNnHMA8GA1UdEwEB/wQFMAMBAf8wGQYDVR0RBBIwEIIOcmViaW5kLmV4YW1w
bGUwCgYIKoZIzj0EAwIDRwAwRAIgLnmezliKQpUCZ5UdO6OlVkFy8UsaZmEsQKMy
mXEO8P4CIAQJYO5uQvjZL99Jj1q9WY8MchtgMCHZwXqORazL8Dt2
-----END CERTIFICATE-----
`;

interface TestServer {
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  requests: http.IncomingMessage[];
  url(path?: string): string;
}

async function startServer(
  t: { teardown(fn: () => void): void },
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  tls = false,
): Promise<TestServer> {
  const server = tls ? https.createServer({ key: TLS_KEY, cert: TLS_CERT }, handler) : http.createServer(handler);
  const state: TestServer = {
    port: 0,
    connections: 0,
    requests: [],
    url: (path = '/') => `${tls ? 'https' : 'http'}://127.0.0.1:${state.port}${path}`,
  };
  server.on(tls ? 'secureConnection' : 'connection', () => state.connections++);
  if (tls) server.on('connection', () => state.connections++);
  server.on('request', (req: http.IncomingMessage) => state.requests.push(req));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return state;
}

const DEFAULTS: TransportOptions = {
  allowPrivate: true,
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 10_000,
  maxResponseBytes: 1024 * 1024,
};

function transport(t: { teardown(fn: () => void): void }, options: Partial<TransportOptions> = {}): Transport {
  const created = createTransport({ ...DEFAULTS, ...options });
  t.teardown(() => created.close());
  return created;
}

const to127 = async (): Promise<string[]> => ['127.0.0.1'];

// ---------------------------------------------------------------------------------------------------------------
// Responses

test('any status is a response: 200, 404, 500 with body and lower-case headers', async (t) => {
  const server = await startServer(t, (req, res) => {
    const status = Number(req.url?.slice(1));
    res.writeHead(status, { 'X-Magento-Thing': 'yes', 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status }));
  });
  const tr = transport(t);
  for (const status of [200, 404, 500]) {
    const res = await tr.request({ method: 'GET', url: server.url(`/${status}`), headers: {} });
    t.is(res.status, status);
    t.true(Buffer.isBuffer(res.body));
    t.deepEqual(JSON.parse(res.body.toString()), { status });
    t.is(res.headers['x-magento-thing'], 'yes');
    t.is(res.headers['content-type'], 'application/json');
  }
});

test('a 302 is returned as is, with its Location, and never followed', async (t) => {
  const elsewhere = await startServer(t, (_req, res) => res.end('should not be reached'));
  const server = await startServer(t, (_req, res) => {
    res.writeHead(302, { Location: elsewhere.url('/target') });
    res.end();
  });
  const res = await transport(t).request({ method: 'POST', url: server.url('/oauth/token/request'), headers: {} });
  t.is(res.status, 302);
  t.is(res.headers.location, elsewhere.url('/target'));
  t.is(elsewhere.connections, 0);
});

test('method, headers and body reach the server; the log has neither the body nor Authorization', async (t) => {
  let seen: { method?: string; authorization?: string; contentType?: string; body: string } | undefined;
  const server = await startServer(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen = {
        method: req.method,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString(),
      };
      res.end('oauth_token=t0k3n&oauth_token_secret=s3cr3t');
    });
  });
  const lines: string[] = [];
  const logger = {
    debug: (obj: object, msg: string) => lines.push(JSON.stringify(obj) + msg),
    warn: (obj: object, msg: string) => lines.push(JSON.stringify(obj) + msg),
  };
  const res = await transport(t, { logger }).request({
    method: 'POST',
    url: server.url('/oauth/token/request'),
    headers: { Authorization: 'OAuth oauth_signature="SIGNATURE-VALUE"', 'Content-Type': 'application/json' },
    body: '{"secret":"BODY-VALUE"}',
  });
  t.is(res.status, 200);
  t.deepEqual(seen, {
    method: 'POST',
    authorization: 'OAuth oauth_signature="SIGNATURE-VALUE"',
    contentType: 'application/json',
    body: '{"secret":"BODY-VALUE"}',
  });
  t.true(lines.length > 0);
  const log = lines.join('\n');
  t.false(log.includes('SIGNATURE-VALUE'));
  t.false(log.includes('BODY-VALUE'));
  t.false(log.includes('s3cr3t'));
});

test('a pino logger fits the logger option', async (t) => {
  const server = await startServer(t, (_req, res) => res.end('ok'));
  const res = await transport(t, { logger: createLogger('silent') }).request({ method: 'GET', url: server.url() });
  t.is(res.body.toString(), 'ok');
});

test('gzip responses are decompressed; the stale encoding and length headers are dropped', async (t) => {
  const payload = 'x'.repeat(10_000);
  const server = await startServer(t, (_req, res) => {
    const gz = gzipSync(payload);
    res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': gz.length });
    res.end(gz);
  });
  const res = await transport(t).request({ method: 'GET', url: server.url() });
  t.is(res.body.toString(), payload);
  t.is(res.headers['content-encoding'], undefined);
  t.is(res.headers['content-length'], undefined);
});

// ---------------------------------------------------------------------------------------------------------------
// Limits and timeouts

test('a response over the cap rejects with ResponseTooLargeError', async (t) => {
  const server = await startServer(t, (_req, res) => res.end(Buffer.alloc(5000, 'a')));
  const err = await t.throwsAsync(
    transport(t, { maxResponseBytes: 1000 }).request({ method: 'GET', url: server.url() }),
    { instanceOf: ResponseTooLargeError },
  );
  t.is(err?.code, 'response_too_large');
});

test('the cap counts decompressed bytes: a small gzip bomb is refused', async (t) => {
  const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
  const server = await startServer(t, (_req, res) => {
    res.writeHead(200, { 'Content-Encoding': 'gzip' });
    res.end(bomb);
  });
  t.true(bomb.length < 64 * 1024);
  await t.throwsAsync(transport(t, { maxResponseBytes: 64 * 1024 }).request({ method: 'GET', url: server.url() }), {
    instanceOf: ResponseTooLargeError,
  });
});

test('a request body over the cap is refused before connecting', async (t) => {
  const server = await startServer(t, (_req, res) => res.end());
  const err = await t.throwsAsync(
    transport(t, { maxRequestBodyBytes: 10 }).request({ method: 'POST', url: server.url(), body: 'x'.repeat(11) }),
    { instanceOf: RequestTooLargeError },
  );
  t.is(err?.code, 'request_too_large');
  t.is(server.connections, 0);
});

/**
 * A total timeout the test fires itself, once the server has the request: no test depends on how fast a loaded
 * machine connects. `asked` records the timeout each request was given.
 */
function manualTimeout() {
  const controllers: AbortController[] = [];
  const asked: number[] = [];
  return {
    asked,
    timeoutSignal: (ms: number): AbortSignal => {
      asked.push(ms);
      const controller = new AbortController();
      controllers.push(controller);
      return controller.signal;
    },
    fire: () => {
      for (const c of controllers) c.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    },
  };
}

/** A server that never answers and says when a request has arrived. */
async function silentServer(t: { teardown(fn: () => void): void }) {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
  const server = await startServer(t, () => arrived());
  return { server, requestArrived };
}

test('a server that never answers hits the total timeout (phase response)', async (t) => {
  const { server, requestArrived } = await silentServer(t);
  const timeout = manualTimeout();
  const pending = transport(t, { totalTimeoutMs: 200, timeoutSignal: timeout.timeoutSignal }).request({ method: 'GET', url: server.url() });
  await requestArrived;
  timeout.fire();
  const err = await t.throwsAsync(pending, { instanceOf: UpstreamTimeoutError });
  t.is(err?.code, 'upstream_timeout');
  t.is(err?.phase, 'response');
  t.is(err?.message, `127.0.0.1:${server.port} did not send a complete response within 200 ms`);
  t.deepEqual(timeout.asked, [200]);
  t.is(server.requests.length, 1);
});

test('a per-request timeoutMs overrides the total timeout', async (t) => {
  const { server, requestArrived } = await silentServer(t);
  const timeout = manualTimeout();
  const pending = transport(t, { totalTimeoutMs: 60_000, timeoutSignal: timeout.timeoutSignal }).request({
    method: 'GET',
    url: server.url(),
    timeoutMs: 100,
  });
  await requestArrived;
  timeout.fire();
  const err = await t.throwsAsync(pending, { instanceOf: UpstreamTimeoutError });
  t.is(err?.timeoutMs, 100);
  t.deepEqual(timeout.asked, [100]);
});

test('the real total timeout fires by itself (AbortSignal.timeout)', async (t) => {
  const { server } = await silentServer(t);
  // Whatever the machine's load, the timeout fires: only its kind is asserted, not when or in which phase.
  const err = await t.throwsAsync(transport(t, { totalTimeoutMs: 100 }).request({ method: 'GET', url: server.url() }), {
    instanceOf: UpstreamTimeoutError,
  });
  t.is(err?.timeoutMs, 100);
});

test('a slow body still hits the total timeout (it is not reset by each chunk)', async (t) => {
  const server = await startServer(t, (_req, res) => {
    res.writeHead(200);
    const timer = setInterval(() => res.write('.'), 20);
    res.on('close', () => clearInterval(timer));
  });
  await t.throwsAsync(transport(t, { totalTimeoutMs: 300 }).request({ method: 'GET', url: server.url() }), {
    instanceOf: UpstreamTimeoutError,
  });
});

test('no connection within the connect timeout: UpstreamTimeoutError phase connect', async (t) => {
  const tr = transport(t, {
    connectTimeoutMs: 100,
    totalTimeoutMs: 60_000,
    resolve: () => new Promise<string[]>(() => {}), // a DNS server that never answers
  });
  const err = await t.throwsAsync(tr.request({ method: 'GET', url: 'https://slow-dns.example/' }), {
    instanceOf: UpstreamTimeoutError,
  });
  t.is(err?.phase, 'connect');
  t.is(
    err?.message,
    'could not connect to slow-dns.example:443 within 100 ms; check that the store is up and reachable',
  );
});

test('a caller abort rejects with RequestAbortedError', async (t) => {
  const { server, requestArrived } = await silentServer(t);
  const controller = new AbortController();
  const pending = transport(t).request({ method: 'GET', url: server.url(), signal: controller.signal });
  await requestArrived;
  controller.abort();
  const err = await t.throwsAsync(pending, { instanceOf: RequestAbortedError });
  t.is(err?.code, 'request_aborted');
});

test('a caller abort is told from the timeout by its reason, even when the caller gives a TimeoutError', async (t) => {
  const { server, requestArrived } = await silentServer(t);
  const timeout = manualTimeout();
  const controller = new AbortController();
  const pending = transport(t, { timeoutSignal: timeout.timeoutSignal }).request({ method: 'GET', url: server.url(), signal: controller.signal });
  await requestArrived;
  controller.abort(new DOMException('the caller gave up', 'TimeoutError'));
  await t.throwsAsync(pending, { instanceOf: RequestAbortedError });
});

test('an already aborted signal sends nothing', async (t) => {
  const server = await startServer(t, (_req, res) => res.end());
  const err = await t.throwsAsync(transport(t).request({ method: 'GET', url: server.url(), signal: AbortSignal.abort() }), {
    instanceOf: RequestAbortedError,
  });
  t.is(err?.message, `the request to 127.0.0.1:${server.port} was cancelled`);
  t.is(server.connections, 0);
});

// ---------------------------------------------------------------------------------------------------------------
// Unreachable

test('connection refused: UpstreamUnreachableError naming host, port and reason', async (t) => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const err = await t.throwsAsync(transport(t).request({ method: 'GET', url: `http://127.0.0.1:${port}/` }), {
    instanceOf: UpstreamUnreachableError,
  });
  t.is(err?.code, 'upstream_unreachable');
  t.is(err?.phase, 'connect');
  t.is(
    err?.message,
    `could not connect to 127.0.0.1:${port}: connection refused (is the store running and listening on this port?)`,
  );
});

test('unknown host: UpstreamUnreachableError saying so', async (t) => {
  const resolve = async (): Promise<string[]> => {
    throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' });
  };
  const err = await t.throwsAsync(
    transport(t, { resolve }).request({ method: 'GET', url: 'https://nowhere.example/' }),
    { instanceOf: UpstreamUnreachableError },
  );
  t.is(
    err?.message,
    "could not connect to nowhere.example:443: host name not found in DNS; check the store's host name",
  );
});

test('a connection lost mid-response: UpstreamUnreachableError phase response', async (t) => {
  const server = await startServer(t, (_req, res) => {
    res.writeHead(200, { 'Content-Length': 100 });
    res.write('only ten b');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const err = await t.throwsAsync(transport(t).request({ method: 'GET', url: server.url() }), {
    instanceOf: UpstreamUnreachableError,
  });
  t.is(err?.phase, 'response');
});

test('TLS certificates are verified: a self-signed store certificate is refused', async (t) => {
  const server = await startServer(t, (_req, res) => res.end('should not be reached'), true);
  const err = await t.throwsAsync(
    transport(t, { resolve: to127 }).request({ method: 'GET', url: `https://rebind.example:${server.port}/` }),
    { instanceOf: UpstreamUnreachableError },
  );
  t.is(err?.phase, 'connect');
  t.regex(err?.message ?? '', /^could not connect to rebind\.example:\d+: TLS handshake failed \(.*certificate.*\)/);
  t.is(server.requests.length, 0);
});

// ---------------------------------------------------------------------------------------------------------------
// Egress

const deny = { allowPrivate: false } as const;

test('egress: a loopback IP literal is refused before any byte reaches the server', async (t) => {
  const server = await startServer(t, (_req, res) => res.end());
  const err = await t.throwsAsync(transport(t, deny).request({ method: 'GET', url: server.url() }), {
    instanceOf: EgressDeniedError,
  });
  t.is(err?.code, 'egress_denied');
  t.is(
    err?.message,
    `refused to connect to 127.0.0.1:${server.port}: it is a loopback, private, link-local or otherwise ` +
      'non-public address; the store must be reachable at a public address',
  );
  t.is(server.connections, 0);
});

test('egress: every spelling of an internal literal is refused', async (t) => {
  const tr = transport(t, deny);
  for (const url of [
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f.0.0.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://0.0.0.0/',
  ]) {
    await t.throwsAsync(tr.request({ method: 'GET', url }), { instanceOf: EgressDeniedError }, url);
  }
});

test('egress: localhost (real DNS lookup) is refused before any byte reaches the server', async (t) => {
  const server = await startServer(t, (_req, res) => res.end());
  await t.throwsAsync(
    transport(t, deny).request({ method: 'GET', url: `http://localhost:${server.port}/` }),
    { instanceOf: EgressDeniedError },
  );
  t.is(server.connections, 0);
});

test('egress: a name that passes URL validation but resolves to 127.0.0.1 at connect time is refused', async (t) => {
  const server = await startServer(t, (_req, res) => res.end());
  const base = parseStoreBaseUrl('https://rebind.example/', { allowPrivate: false });
  t.deepEqual(base, { ok: true, url: 'https://rebind.example/' });
  const lookups: string[] = [];
  const resolve = async (host: string): Promise<string[]> => {
    lookups.push(host);
    return ['127.0.0.1'];
  };
  const tr = transport(t, { ...deny, resolve });
  const err = await t.throwsAsync(tr.request({ method: 'GET', url: `http://rebind.example:${server.port}/` }), {
    instanceOf: EgressDeniedError,
  });
  t.is(err?.address, '127.0.0.1');
  t.is(
    err?.message,
    `refused to connect to rebind.example:${server.port}: it resolves to a loopback, private, link-local or ` +
      'otherwise non-public address; the store must be reachable at a public address',
  );
  t.deepEqual(lookups, ['rebind.example']);
  t.is(server.connections, 0);
});

test('egress: the same holds for https (checked before the TLS handshake)', async (t) => {
  const server = await startServer(t, (_req, res) => res.end(), true);
  await t.throwsAsync(
    transport(t, { ...deny, resolve: to127 }).request({ method: 'GET', url: `https://rebind.example:${server.port}/` }),
    { instanceOf: EgressDeniedError },
  );
  t.is(server.connections, 0);
});

test('egress: one internal address among public ones is enough to refuse', async (t) => {
  const server = await startServer(t, (_req, res) => res.end());
  const resolve = async (): Promise<string[]> => ['93.184.215.14', '2606:4700::1', '127.0.0.1'];
  await t.throwsAsync(
    transport(t, { ...deny, resolve }).request({ method: 'GET', url: `http://mixed.example:${server.port}/` }),
    { instanceOf: EgressDeniedError },
  );
  t.is(server.connections, 0);
});

test('egress: every new connection resolves and checks the name again (no cached verdict)', async (t) => {
  const server = await startServer(t, (_req, res) => res.end('ok'));
  const answers = [['127.0.0.1'], ['127.0.0.1'], ['10.0.0.7']];
  let calls = 0;
  const resolve = async (): Promise<string[]> => answers[calls++] ?? [];
  // Two transports over one resolver: the first allows loopback (so a connection can be made at all in a test),
  // the second does not; what matters is that each connection asks the resolver and judges its fresh answer.
  const lenient = transport(t, { resolve });
  const strict = transport(t, { ...deny, resolve });
  for (let i = 0; i < 2; i++) {
    const url = `http://rebind.example:${server.port}/`;
    const res = await lenient.request({ method: 'GET', url, headers: { Connection: 'close' } });
    t.is(res.status, 200);
  }
  await t.throwsAsync(strict.request({ method: 'GET', url: `http://rebind.example:${server.port}/` }), {
    instanceOf: EgressDeniedError,
  });
  t.is(calls, 3);
  t.is(server.connections, 2);
});

test('egress: with allowPrivate, loopback literals and names resolving to loopback pass', async (t) => {
  const server = await startServer(t, (_req, res) => res.end('ok'));
  const tr = transport(t, { allowPrivate: true, resolve: to127 });
  t.is((await tr.request({ method: 'GET', url: server.url() })).status, 200);
  t.is((await tr.request({ method: 'GET', url: `http://rebind.example:${server.port}/` })).status, 200);
});

test('only http(s) URLs without credentials are accepted', async (t) => {
  const tr = transport(t);
  for (const url of ['data:text/plain,hello', 'file:///etc/passwd', 'ftp://shop.example.com/', 'not a url']) {
    await t.throwsAsync(tr.request({ method: 'GET', url }), { instanceOf: InvalidRequestError }, url);
  }
  const server = await startServer(t, (_req, res) => res.end());
  await t.throwsAsync(tr.request({ method: 'GET', url: `http://user:pw@127.0.0.1:${server.port}/` }), {
    instanceOf: InvalidRequestError,
  });
  t.is(server.connections, 0);
});

test('an invalid header value is an InvalidRequestError, nothing is sent', async (t) => {
  const server = await startServer(t, (_req, res) => res.end());
  await t.throwsAsync(
    transport(t).request({ method: 'GET', url: server.url(), headers: { 'X-Evil': 'a\r\nInjected: yes' } }),
    { instanceOf: InvalidRequestError },
  );
  t.is(server.requests.length, 0);
});

// ---------------------------------------------------------------------------------------------------------------
// Connection reuse

test('keep-alive: sequential requests to one store share one connection', async (t) => {
  const server = await startServer(t, (_req, res) => res.end('ok'));
  const tr = transport(t);
  for (let i = 0; i < 3; i++) {
    const res = await tr.request({ method: 'GET', url: server.url(`/${i}`) });
    t.is(res.status, 200);
  }
  t.is(server.requests.length, 3);
  t.is(server.connections, 1);
});

test.serial('keep-alive: TCP keep-alive is switched on once per connection, not again by every request', async (t) => {
  // node's Agent and axios each switch it on per request (four setsockopt calls each time): counted where they land
  // (serial: no other test's sockets meanwhile).
  const server = await startServer(t, (_req, res) => res.end('ok'));
  const original = net.Socket.prototype.setKeepAlive;
  const calls: Array<[boolean | undefined, number | undefined]> = [];
  net.Socket.prototype.setKeepAlive = function (this: net.Socket, enable?: boolean, delay?: number) {
    calls.push([enable, delay]);
    return original.call(this, enable, delay);
  };
  t.teardown(() => {
    net.Socket.prototype.setKeepAlive = original;
  });
  const tr = transport(t);
  for (let i = 0; i < 4; i++) t.is((await tr.request({ method: 'GET', url: server.url(`/${i}`) })).status, 200);
  t.is(server.connections, 1);
  t.deepEqual(calls, [[true, 1000]]);
});

test('keep-alive: also for names resolved by the egress lookup (resolved once per connection)', async (t) => {
  const server = await startServer(t, (_req, res) => res.end('ok'));
  let lookups = 0;
  const tr = transport(t, {
    resolve: async () => {
      lookups++;
      return ['127.0.0.1'];
    },
  });
  await tr.request({ method: 'GET', url: `http://rebind.example:${server.port}/a` });
  await tr.request({ method: 'GET', url: `http://rebind.example:${server.port}/b` });
  t.is(server.connections, 1);
  t.is(lookups, 1);
});

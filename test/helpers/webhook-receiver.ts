// A real webhook receiver on node:http, the way a CRM would write one: it verifies every delivery's
// Connector-Signature itself (HMAC-SHA256 of "<t>.<raw body>", written here from the documentation, not imported
// from src/), records what arrived, and can fail, hang or go down on demand.
//
//   const receiver = await startReceiver(t);
//   receiver.secret = created.secret;        // the webhook's secret, from POST /api/webhooks
//   receiver.failNext(3);                    // the next 3 requests get a 500
//   receiver.delivered()                     // every verified delivery it answered 2xx, in arrival order
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';

export interface ReceivedDelivery {
  eventId: string;
  signature: string;
  /** The signature verified against `secret` and the raw body, and `t` was within the tolerance. */
  verified: boolean;
  body: { id: string; type: string; createdAt: string; data: { store: { id: string } & Record<string, unknown>; account: { id: string | null; externalId: string | null } } };
  raw: string;
  contentType: string | undefined;
  /** What the receiver answered (0: not yet, or the sender hung up first). */
  answered: number;
  /** The connection closed (answered, or the sender went away). */
  closed: boolean;
  at: number;
}

export interface Receiver {
  url: string;
  /** The webhook's signing secret, so the receiver can verify (set after POST /api/webhooks). */
  secret: string | undefined;
  /** Every request that arrived, whatever it was answered. */
  requests: ReceivedDelivery[];
  /** Verified deliveries answered 2xx, in arrival order. */
  delivered(): ReceivedDelivery[];
  /** The next `n` requests are answered `status` (default 500). */
  failNext(n: number, status?: number): void;
  /** Every request is answered 500 until up() (the endpoint is "down"). */
  down(): void;
  up(): void;
  /** Answers 500 to every request for which `fail` returns true. */
  failWhen(fail: ((request: ReceivedDelivery) => boolean) | undefined): void;
  /** A probability (0..1) of answering 500 to any request. */
  failRandomly(probability: number, random?: () => number): void;
  /** The next `n` requests are held open without an answer until release() (or the connection dies). */
  holdNext(n: number): void;
  release(): void;
  /** Requests currently being handled per event id: the highest count ever seen for any one event. */
  maxConcurrentPerEvent(): number;
  close(): Promise<void>;
}

/** How old a delivery's `t` may be: the replay tolerance a receiver should apply (5 minutes). */
export const TOLERANCE_SECONDS = 300;

export function verifySignature(secret: string, header: string, raw: string, nowSeconds: number): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1) return false;
  if (Math.abs(nowSeconds - t) > TOLERANCE_SECONDS) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startReceiver(t: ExecutionContext, options: { nowSeconds?: () => number } = {}): Promise<Receiver> {
  const requests: ReceivedDelivery[] = [];
  let failCount = 0;
  let failStatus = 500;
  let isDown = false;
  let failProbability = 0;
  let random = Math.random;
  let holdCount = 0;
  let failWhen: ((request: ReceivedDelivery) => boolean) | undefined;
  const held: (() => void)[] = [];
  const active = new Map<string, number>();
  let maxConcurrent = 0;
  const now = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));

  const receiver: Receiver = {
    url: '',
    secret: undefined,
    requests,
    delivered: () => requests.filter((r) => r.verified && r.answered >= 200 && r.answered < 300),
    failNext(n, status = 500) {
      failCount = n;
      failStatus = status;
    },
    failWhen: (fail) => void (failWhen = fail),
    down: () => void (isDown = true),
    up: () => void (isDown = false),
    failRandomly(probability, rnd = Math.random) {
      failProbability = probability;
      random = rnd;
    },
    holdNext: (n) => void (holdCount = n),
    release() {
      for (const go of held.splice(0)) go();
    },
    maxConcurrentPerEvent: () => maxConcurrent,
    close: async () => {},
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const eventId = String(req.headers['connector-event-id'] ?? '');
      const signature = String(req.headers['connector-signature'] ?? '');
      let body: ReceivedDelivery['body'];
      try {
        body = JSON.parse(raw) as ReceivedDelivery['body'];
      } catch {
        res.writeHead(400).end();
        return;
      }
      const entry: ReceivedDelivery = {
        eventId,
        signature,
        verified: receiver.secret !== undefined && verifySignature(receiver.secret, signature, raw, now()) && body.id === eventId,
        body,
        raw,
        contentType: req.headers['content-type'],
        answered: 0,
        closed: false,
        at: Date.now(),
      };
      requests.push(entry);
      const count = (active.get(eventId) ?? 0) + 1;
      active.set(eventId, count);
      maxConcurrent = Math.max(maxConcurrent, count);
      let finished = false;
      const settle = () => {
        if (finished) return;
        finished = true;
        active.set(eventId, (active.get(eventId) ?? 1) - 1);
      };
      const answer = (status: number) => {
        settle();
        if (res.destroyed) return;
        entry.answered = status;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      };
      res.on('close', () => {
        entry.closed = true;
        settle();
      });
      if (!entry.verified) return answer(401);
      if (holdCount > 0) {
        holdCount--;
        held.push(() => answer(200));
        return;
      }
      if (isDown) return answer(503);
      if (failWhen?.(entry)) return answer(500);
      if (failCount > 0) {
        failCount--;
        return answer(failStatus);
      }
      if (failProbability > 0 && random() < failProbability) return answer(500);
      answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      receiver.release();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.teardown(() => receiver.close());
  return receiver;
}

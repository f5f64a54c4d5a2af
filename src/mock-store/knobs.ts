// Test knobs: a request log, faults for the next N matching requests, and the movable clock. Not Magento: these
// let tests produce the failures a real store and the network between produce (slow answers, 5xx, 429, a
// connection dropped before or after Magento acted).
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { sleep, type OffsetClock } from '../clock.js';
import type { BulkFailure } from './bulk.js';
import type { EntityKind } from './data.js';
import { readRawBody } from './http.js';
import type { StoreSettings } from './settings.js';
import { VERIFIER_NAMES, type VerifierName } from './verifiers.js';

export type FaultKind = 'slow' | 'fail' | 'rateLimit' | 'drop' | 'stall' | 'large';

export const FaultSchema = z.object({
  /**
   * stall: answers 200 with `bodyBytes` of a body promised longer, then sends nothing more until the client leaves;
   * large: answers 200 with a whole JSON body of `bodyBytes`.
   */
  kind: z.enum(['slow', 'fail', 'rateLimit', 'drop', 'stall', 'large']),
  /** Matched against the request path as received (no query), e.g. `/oauth/token/request` or `/rest/`. */
  pathPrefix: z.string().min(1),
  /** How many matching requests it applies to. */
  count: z.number().int().min(1).default(1),
  method: z.string().optional(),
  /** slow: delay before the request is handled. */
  delayMs: z.number().int().min(0).max(600_000).default(3000),
  /** fail: the status and body sent instead of Magento's answer. */
  status: z.number().int().min(400).max(599).default(503),
  body: z.string().optional(),
  contentType: z.string().default('text/html; charset=UTF-8'),
  /** stall / large: how much of the body is sent (19 MiB: what the issue-13 review's store sent before stalling). */
  bodyBytes: z.number().int().min(0).max(1024 * 1024 * 1024).default(19 * 1024 * 1024),
  /** rateLimit: the Retry-After header, seconds. */
  retryAfter: z.number().int().min(0).default(1),
  /**
   * fail / drop: 'before' = the store never acts on the request; 'after' = it acts (tokens issued, nonce burnt,
   * product saved) and then the answer is replaced or the connection cut: the "lost response".
   */
  phase: z.enum(['before', 'after']).default('before'),
});

export type FaultInput = z.input<typeof FaultSchema>;
export type Fault = z.output<typeof FaultSchema> & { id: number; remaining: number };

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  query: string;
  kind: 'token' | 'rest' | 'graphql' | 'other';
  /** null when the connection was dropped without an answer. */
  status: number | null;
  fault?: FaultKind;
}

/** The log keeps the most recent entries only, so a long benchmark does not grow it without bound. */
const MAX_LOG_ENTRIES = 10_000;

const DEFAULT_FAIL_BODY = '<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>';

export class Knobs {
  private faults: Fault[] = [];
  private log: RequestLogEntry[] = [];
  private nextFaultId = 1;
  checkSignatures: boolean;

  constructor(
    readonly clock: OffsetClock,
    options: { checkSignatures: boolean },
  ) {
    this.checkSignatures = options.checkSignatures;
  }

  addFault(input: FaultInput): Fault {
    const parsed = FaultSchema.parse(input);
    const fault = { ...parsed, id: this.nextFaultId++, remaining: parsed.count };
    this.faults.push(fault);
    return fault;
  }

  listFaults(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clearFaults(): void {
    this.faults = [];
  }

  requests(): RequestLogEntry[] {
    return this.log.map((e) => ({ ...e }));
  }

  clearRequests(): void {
    this.log = [];
  }

  advanceClock(seconds: number): Date {
    this.clock.advance(seconds * 1000);
    return this.clock.now();
  }

  /** Takes the first pending fault for this request, if any. */
  takeFault(method: string, path: string): Fault | undefined {
    const fault = this.faults.find(
      (f) => path.startsWith(f.pathPrefix) && (!f.method || f.method.toUpperCase() === method.toUpperCase()),
    );
    if (!fault) return undefined;
    if (--fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  record(entry: Omit<RequestLogEntry, 'at'>): void {
    this.log.push({ at: this.clock.now().toISOString(), ...entry });
    if (this.log.length > MAX_LOG_ENTRIES) this.log.splice(0, this.log.length - MAX_LOG_ENTRIES);
  }
}

const kindOf = (path: string): RequestLogEntry['kind'] =>
  /^(\/index\.php)?\/oauth\/token\//.test(path)
    ? 'token'
    : /^(\/index\.php)?\/rest\//.test(path)
      ? 'rest'
      : /^(\/index\.php)?\/graphql\/?$/.test(path)
        ? 'graphql'
        : 'other';

const isStoreTraffic = (path: string): boolean => !/^\/(__mock|admin)(\/|$)/.test(path);

const STALL_CHUNK = Buffer.alloc(64 * 1024, 0x20); // spaces: valid leading JSON whitespace, never an end

/**
 * A store (or something in front of it) that sends a large part of a body and then stalls: the headers promise one
 * byte more than is sent, and the connection stays open until the client closes it (or the mock closes).
 */
async function stall(ctx: Context, bytes: number): Promise<void> {
  ctx.respond = false;
  const res = ctx.res;
  // The client hanging up (a reset, mid-write) is how a stall ends: not an error of the mock.
  ctx.req.socket.on('error', () => {});
  res.on('error', () => {});
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(bytes + 1) });
  const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
  let sent = 0;
  while (sent < bytes && !res.destroyed) {
    const chunk = bytes - sent >= STALL_CHUNK.length ? STALL_CHUNK : STALL_CHUNK.subarray(0, bytes - sent);
    sent += chunk.length;
    if (!res.write(chunk)) await Promise.race([new Promise((resolve) => res.once('drain', resolve)), closed]);
  }
  await closed;
}

function drop(ctx: Context): void {
  ctx.respond = false;
  ctx.req.socket.destroy();
}

/** Middleware: logs store traffic and applies faults to it. Admin pages and /__mock are left alone. */
export function faultsAndLog(knobs: Knobs) {
  return async function applyFaultsAndLog(ctx: Context, next: Next): Promise<void> {
    const rawUrl = ctx.req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    if (!isStoreTraffic(path)) return next();
    const entry = { method: ctx.method, path, query: q === -1 ? '' : rawUrl.slice(q + 1), kind: kindOf(path) };
    const fault = knobs.takeFault(ctx.method, path);

    if (fault?.kind === 'slow') await sleep(fault.delayMs);
    if (fault?.kind === 'stall') {
      knobs.record({ ...entry, status: 200, fault: 'stall' });
      return stall(ctx, fault.bodyBytes);
    }
    if (fault?.kind === 'large') {
      knobs.record({ ...entry, status: 200, fault: 'large' });
      ctx.status = 200;
      ctx.type = 'application/json';
      // A JSON string of spaces: `"` + spaces + `"`.
      const body = Buffer.alloc(Math.max(2, fault.bodyBytes), 0x20);
      body[0] = 0x22;
      body[body.length - 1] = 0x22;
      ctx.body = body;
      return;
    }
    if (fault?.kind === 'rateLimit') {
      ctx.status = 429;
      ctx.set('Retry-After', String(fault.retryAfter));
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({ message: 'Too Many Requests' });
      knobs.record({ ...entry, status: 429, fault: fault.kind });
      return;
    }
    const failOrDrop = fault && (fault.kind === 'fail' || fault.kind === 'drop') ? fault : undefined;
    if (failOrDrop?.phase === 'before') {
      if (failOrDrop.kind === 'drop') {
        knobs.record({ ...entry, status: null, fault: 'drop' });
        return drop(ctx);
      }
      respondFailure(ctx, failOrDrop);
      knobs.record({ ...entry, status: ctx.status, fault: 'fail' });
      return;
    }

    await next();

    if (failOrDrop?.kind === 'drop') {
      knobs.record({ ...entry, status: null, fault: 'drop' });
      return drop(ctx);
    }
    if (failOrDrop?.kind === 'fail') respondFailure(ctx, failOrDrop);
    knobs.record({ ...entry, status: ctx.status, ...(fault ? { fault: fault.kind } : {}) });
  };
}

function respondFailure(ctx: Context, fault: Fault): void {
  ctx.status = fault.status;
  ctx.remove('Retry-After');
  ctx.type = fault.contentType;
  ctx.body = fault.body ?? DEFAULT_FAIL_BODY;
}

/** What the /__mock routes drive besides the Knobs object (the store's programmatic knobs). */
export interface KnobActions {
  runTokenCleanup(): number;
  setVerifier(verifier: VerifierName): void;
  setIntegrationVerifier(integrationId: number, verifier: VerifierName | null): void;
  setSettings(settings: Partial<Omit<StoreSettings, 'storeViews'>> & { storeCodes?: string[] }): StoreSettings;
  settings(): StoreSettings;
  touch(entity: EntityKind, ids: number[], afterReads?: number): number;
  seedOrders(count: number, start?: string): number;
  processBulk(uuid?: string): number;
  failBulkOperations(failure: BulkFailure): void;
}

const VerifierSchema = z.object({
  verifier: z.enum(VERIFIER_NAMES).nullable(),
  /** Only this integration; without it the store's verifier changes. */
  integrationId: z.number().int().min(1).optional(),
});

const SettingsSchema = z
  .object({
    verifier: z.enum(VERIFIER_NAMES),
    allowIntegrationBearer: z.boolean(),
    maxPageSize: z.number().int().min(1).nullable(),
    pastLastPage: z.enum(['last', 'empty']),
    magentoVersion: z.string().nullable(),
    allowInsecure: z.boolean(),
    storeCodes: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/)).min(1),
  })
  .partial();

const TouchSchema = z.object({
  entity: z.enum(['products', 'customers', 'orders']),
  ids: z.array(z.number().int()).min(1),
  /** 0 = now; N = right after the Nth next list read of that entity (between two pages). */
  afterReads: z.number().int().min(0).default(0),
});

const SeedSchema = z.object({ count: z.number().int().min(1).max(1_000_000), start: z.string().optional() });

const BulkSchema = z.object({
  /** Run the open operations now (of this bulk, or of all). */
  process: z.boolean().default(true),
  uuid: z.string().optional(),
  /** Make the next N processed operations fail. */
  fail: z.object({ count: z.number().int().min(1).default(1), status: z.union([z.literal(2), z.literal(3)]), message: z.string() }).optional(),
});

/** /__mock: the knobs over HTTP, JSON in and out. */
export function knobRouter(knobs: Knobs, actions: KnobActions): Router {
  const router = new Router({ prefix: '/__mock' });
  const json = async (ctx: Context): Promise<Record<string, unknown>> => {
    const text = (await readRawBody(ctx)).toString('utf8');
    try {
      const v: unknown = text ? JSON.parse(text) : {};
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  const bad = (ctx: Context, message: string): void => {
    ctx.status = 400;
    ctx.body = { error: { code: 'invalid_body', message } };
  };
  const issues = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');

  router.get('/clock', function readClock(ctx) {
    ctx.body = { now: knobs.clock.now().toISOString() };
  });
  router.post('/clock', async function moveClock(ctx) {
    const { advanceSeconds } = await json(ctx);
    if (typeof advanceSeconds !== 'number' || !Number.isFinite(advanceSeconds)) return bad(ctx, 'Expected {"advanceSeconds": <number>}.');
    ctx.body = { now: knobs.advanceClock(advanceSeconds).toISOString() };
  });
  router.get('/faults', function listFaults(ctx) {
    ctx.body = { items: knobs.listFaults() };
  });
  router.post('/faults', async function addFault(ctx) {
    const parsed = FaultSchema.safeParse(await json(ctx));
    if (!parsed.success) return bad(ctx, issues(parsed.error));
    ctx.status = 201;
    ctx.body = knobs.addFault(parsed.data);
  });
  router.delete('/faults', function clearFaults(ctx) {
    knobs.clearFaults();
    ctx.status = 204;
  });
  router.get('/requests', function listRequests(ctx) {
    ctx.body = { items: knobs.requests() };
  });
  router.delete('/requests', function clearRequests(ctx) {
    knobs.clearRequests();
    ctx.status = 204;
  });
  router.get('/signatures', function readSignatureMode(ctx) {
    ctx.body = { check: knobs.checkSignatures };
  });
  router.post('/signatures', async function setSignatureMode(ctx) {
    const { check } = await json(ctx);
    if (typeof check !== 'boolean') return bad(ctx, 'Expected {"check": true|false}.');
    knobs.checkSignatures = check;
    ctx.body = { check };
  });
  router.post('/token-cleanup', function tokenCleanup(ctx) {
    ctx.body = { deleted: actions.runTokenCleanup() };
  });
  router.get('/verifier', function readVerifier(ctx) {
    ctx.body = { verifier: actions.settings().verifier };
  });
  router.post('/verifier', async function upgrade(ctx) {
    const parsed = VerifierSchema.safeParse(await json(ctx));
    if (!parsed.success) return bad(ctx, issues(parsed.error));
    const { verifier, integrationId } = parsed.data;
    if (integrationId !== undefined) {
      try {
        actions.setIntegrationVerifier(integrationId, verifier);
      } catch {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: `No integration with ID ${integrationId}.` } };
        return;
      }
      ctx.body = { integrationId, verifier };
      return;
    }
    if (verifier === null) return bad(ctx, 'verifier: the store needs one of ' + VERIFIER_NAMES.join(', '));
    actions.setVerifier(verifier);
    ctx.body = { verifier };
  });
  router.get('/settings', function readSettings(ctx) {
    ctx.body = actions.settings();
  });
  router.post('/settings', async function changeSettings(ctx) {
    const parsed = SettingsSchema.safeParse(await json(ctx));
    if (!parsed.success) return bad(ctx, issues(parsed.error));
    ctx.body = actions.setSettings(parsed.data);
  });
  router.post('/entities/touch', async function touch(ctx) {
    const parsed = TouchSchema.safeParse(await json(ctx));
    if (!parsed.success) return bad(ctx, issues(parsed.error));
    const { entity, ids, afterReads } = parsed.data;
    ctx.body = { touched: actions.touch(entity, ids, afterReads), armed: afterReads > 0 };
  });
  router.post('/orders/seed', async function seedOrders(ctx) {
    const parsed = SeedSchema.safeParse(await json(ctx));
    if (!parsed.success) return bad(ctx, issues(parsed.error));
    ctx.body = { added: actions.seedOrders(parsed.data.count, parsed.data.start) };
  });
  router.post('/bulk', async function bulk(ctx) {
    const parsed = BulkSchema.safeParse(await json(ctx));
    if (!parsed.success) return bad(ctx, issues(parsed.error));
    if (parsed.data.fail) actions.failBulkOperations(parsed.data.fail);
    ctx.body = { processed: parsed.data.process ? actions.processBulk(parsed.data.uuid) : 0 };
  });
  return router;
}

// Test knobs: a request log, faults for the next N matching requests, and the movable clock. Not Magento: these
// let tests produce the failures a real store and the network between produce (slow answers, 5xx, 429, a
// connection dropped before or after Magento acted).
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { sleep, type OffsetClock } from '../clock.js';

export type FaultKind = 'slow' | 'fail' | 'rateLimit' | 'drop';

export const FaultSchema = z.object({
  kind: z.enum(['slow', 'fail', 'rateLimit', 'drop']),
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
  kind: 'token' | 'rest' | 'other';
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
  /^(\/index\.php)?\/oauth\/token\//.test(path) ? 'token' : /^(\/index\.php)?\/rest\//.test(path) ? 'rest' : 'other';

const isStoreTraffic = (path: string): boolean => !/^\/(__mock|admin)(\/|$)/.test(path);

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

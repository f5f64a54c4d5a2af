// Prometheus metrics (prom-client), one registry per running service (tests run several in one process). Labels
// stay bounded: outcomes and statuses from fixed lists, never a store URL, store id, account id or webhook URL.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BINDING_STATES, type Storage } from '../storage/types.js';
import type { AttemptOutcome } from '../webhooks/worker.js';

export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ['delivered', 'retry', 'failed', 'lost_claim'];
export const PROBE_OUTCOMES = ['ok', 'revoked', 'warning', 'skipped', 'error'] as const;
export type ProbeMetricOutcome = (typeof PROBE_OUTCOMES)[number];
export const CALLBACK_OUTCOMES = ['accepted', 'repeat', 'refused'] as const;
export type CallbackOutcome = (typeof CALLBACK_OUTCOMES)[number];
export const TOKEN_CALLS = ['request_token', 'access_token'] as const;

/** 2xx..5xx from a store's status; our own failures (no answer from the store) are counted by error code instead. */
export function statusClass(status: number): '1xx' | '2xx' | '3xx' | '4xx' | '5xx' {
  return `${Math.min(5, Math.max(1, Math.floor(status / 100)))}xx` as '2xx';
}

export interface Metrics {
  registry: Registry;
  webhookAttempt(outcome: AttemptOutcome): void;
  probe(outcome: ProbeMetricOutcome): void;
  callback(outcome: CallbackOutcome): void;
  /** A proxied call Magento answered (its status class), or one we failed ourselves (our error code, a fixed list). */
  proxyCall(result: { status: number } | { errorCode: string }, seconds: number): void;
  tokenCall(call: (typeof TOKEN_CALLS)[number], seconds: number): void;
  databaseError(): void;
}

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** How long a count of bindings by state serves /metrics scrapes. */
export const STATE_COUNTS_TTL_MS = 15_000;

export function createMetrics(o: { storage: Storage }): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const deliveries = new Counter({
    name: 'connector_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered (2xx), retry (failed, will be retried), failed (retry period over), lost_claim (another instance had it).',
    labelNames: ['outcome'] as const,
    registers,
  });
  for (const outcome of ATTEMPT_OUTCOMES) deliveries.inc({ outcome }, 0); // every series exists from the start
  new Gauge({
    name: 'connector_webhook_backlog',
    help: 'Webhook deliveries not delivered yet, by status: pending (due or waiting for a retry or for an earlier event of its store), failed (waiting for POST .../retry). Shared by all instances (read from the database).',
    labelNames: ['status'] as const,
    registers,
    aggregator: 'first', // WORKERS > 1 (src/metrics/cluster.ts): every worker reads the same rows; not a sum

    async collect() {
      const backlog = await o.storage.webhooks.backlog();
      this.set({ status: 'pending' }, backlog.pending);
      this.set({ status: 'failed' }, backlog.failed);
    },
  });
  const probes = new Counter({
    name: 'connector_probes_total',
    help: 'Revocation probes by outcome: ok, revoked (dead token), warning (refused resource, 5xx, timeout, TLS: the store stays active), skipped (a successful call within the interval, or no longer active), error.',
    labelNames: ['outcome'] as const,
    registers,
  });
  for (const outcome of PROBE_OUTCOMES) probes.inc({ outcome }, 0);
  const callbacks = new Counter({
    name: 'connector_callbacks_total',
    help: "Magento's integration callbacks by outcome: accepted (a new binding), repeat (a known consumer key), refused.",
    labelNames: ['outcome'] as const,
    registers,
  });
  for (const outcome of CALLBACK_OUTCOMES) callbacks.inc({ outcome }, 0);
  // Bindings by state come from the counters the database's triggers keep (a few rows, however many stores): still
  // read at most once per STATE_COUNTS_TTL_MS per instance, however often it is scraped; concurrent scrapes share one.
  let counted: { at: number; counts: Promise<Partial<Record<string, number>>> } | null = null;
  const stateCounts = () => {
    const now = Date.now();
    if (!counted || now - counted.at >= STATE_COUNTS_TTL_MS) {
      const counts = o.storage.probes.stateCounts();
      const entry = { at: now, counts };
      counted = entry;
      counts.catch(() => {
        if (counted === entry) counted = null; // a failed count is not kept
      });
    }
    return counted.counts;
  };
  new Gauge({
    name: 'connector_activations',
    help: 'Bindings by state (read from the database, shared by all instances).',
    labelNames: ['state'] as const,
    registers,
    aggregator: 'first',
    async collect() {
      const counts = await stateCounts();
      for (const state of BINDING_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  const proxyCalls = new Counter({
    name: 'connector_proxy_calls_total',
    help: "Proxied store calls: status_class is the store's answer (2xx..5xx), or 'none' with our error code when the store gave none.",
    labelNames: ['status_class', 'error_code'] as const,
    registers,
  });
  const proxyLatency = new Histogram({ name: 'connector_proxy_call_seconds', help: 'Proxied store calls, from our request to the answer.', buckets: LATENCY_BUCKETS, registers });
  const tokenLatency = new Histogram({
    name: 'connector_token_call_seconds',
    help: "Magento's token endpoints (request and access token), by call.",
    labelNames: ['call'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const dbErrors = new Counter({ name: 'connector_database_errors_total', help: 'Requests that failed because the database could not be reached or refused the write.', registers });
  return {
    registry,
    webhookAttempt: (outcome) => deliveries.inc({ outcome }),
    probe: (outcome) => probes.inc({ outcome }),
    callback: (outcome) => callbacks.inc({ outcome }),
    proxyCall(result, seconds) {
      if ('status' in result) proxyCalls.inc({ status_class: statusClass(result.status), error_code: '' });
      else proxyCalls.inc({ status_class: 'none', error_code: result.errorCode });
      proxyLatency.observe(seconds);
    },
    tokenCall: (call, seconds) => tokenLatency.observe({ call }, seconds),
    databaseError: () => dbErrors.inc(),
  };
}

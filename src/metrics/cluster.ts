// WORKERS > 1: one scrape of /metrics shows the whole process group, not the worker that happened to answer it.
// The worker that gets the scrape asks the primary (IPC); the primary collects every worker's registry with
// prom-client's AggregatorRegistry (which asks each worker in turn) and answers with the aggregate: counters and
// histograms summed; the gauges read from the database (shared by all instances) taken once ('first').
//
//   scrape -> worker A --connector:metrics-req--> primary --prom-client:getMetricsReq--> every worker
//                      <--connector:metrics-res--         <--prom-client:getMetricsRes--
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQ = 'connector:metrics-req';
const RES = 'connector:metrics-res';
/** prom-client's primary gives up on a silent worker after 5 s; the asking worker waits a little longer. */
const WORKER_WAIT_MS = 6_000;

interface MetricsRequest {
  type: typeof REQ;
  id: number;
}
interface MetricsResponse {
  type: typeof RES;
  id: number;
  text?: string;
  error?: string;
}

const isRequest = (m: unknown): m is MetricsRequest => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === REQ;
const isResponse = (m: unknown): m is MetricsResponse => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === RES;

/** In the primary (src/cluster.ts): answers the workers' requests for the aggregate. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isRequest(message)) return;
    const reply = (r: Omit<MetricsResponse, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: RES, id: message.id, ...r } satisfies MetricsResponse);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
}

let answering = false;
/**
 * In a worker: the registry the primary's collection reads (prom-client answers its requests from the registries
 * set here; until the first call it answers with an empty one, so a worker still starting does not stall a scrape).
 */
export function answerClusterScrapes(registry?: Registry): void {
  if (!answering) {
    answering = true;
    new AggregatorRegistry(); // installs prom-client's worker-side listener
  }
  if (registry) AggregatorRegistry.setRegistries([registry]);
}

let nextId = 0;
const waiting = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
let listening = false;

/** In a worker: the aggregate of every worker's metrics, in Prometheus text format. */
export function clusterMetricsText(): Promise<string> {
  if (!listening) {
    listening = true;
    process.on('message', (message: unknown) => {
      if (!isResponse(message)) return;
      const w = waiting.get(message.id);
      if (!w) return;
      waiting.delete(message.id);
      if (message.text !== undefined) w.resolve(message.text);
      else w.reject(new Error(message.error ?? 'no answer'));
    });
  }
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`no answer from the supervising process within ${WORKER_WAIT_MS} ms`));
    }, WORKER_WAIT_MS);
    waiting.set(id, {
      resolve: (text) => (clearTimeout(timer), resolve(text)),
      reject: (err) => (clearTimeout(timer), reject(err)),
    });
    try {
      if (!process.send) throw new Error('this process has no supervising process');
      process.send({ type: REQ, id } satisfies MetricsRequest);
    } catch (err) {
      waiting.get(id)?.reject(err instanceof Error ? err : new Error(String(err)));
      waiting.delete(id);
    }
  });
}

/** Whether this process is a worker of a WORKERS > 1 group (its /metrics answers for the whole group). */
export const inCluster = (): boolean => cluster.isWorker;

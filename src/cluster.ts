// WORKERS > 1: one supervising process (the primary, the one process managers signal) and WORKERS server processes
// sharing its port through node's cluster module. Each worker is a full instance (src/main.ts -> startServer) on the
// same database, exactly as several instances are (claims are conditional updates; per-process ids are random), so
// nothing here coordinates work: the primary only
//   - applies migrations once, before any worker starts (on SQLite a migration needs the file to itself);
//   - starts one worker first and the others once it listens: the first start checks what every worker would (the
//     port, the database, the keys; it alone generates a laptop key file), so a bad start is one line, not WORKERS;
//   - restarts a worker that dies, after a backoff that grows while replacements keep dying soon after starting;
//   - passes SIGTERM / SIGINT on to every worker and exits 0 once all of them have stopped cleanly (1 otherwise, or
//     when they take longer than SHUTDOWN_GRACE_MS plus the few seconds a worker allows itself to close).
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { serveClusterMetrics } from './metrics/cluster.js';
import { providerOf } from './storage/database-url.js';

/** What a worker tells the primary once its server is up. */
export interface WorkerReady {
  type: 'connector:ready';
  port: number;
}

export const isWorkerReady = (message: unknown): message is WorkerReady =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'connector:ready';

/** Restart backoff: 0.5 s after a death, doubling per death of a worker that lived less than STABLE_MS, up to 30 s. */
export const RESTART_BASE_MS = 500;
export const RESTART_MAX_MS = 30_000;
const STABLE_MS = 60_000;
/** A worker's own hard stop is SHUTDOWN_GRACE_MS + 5 s (src/main.ts); the primary waits a little longer. */
const WORKER_STOP_SLACK_MS = 6_000;

export interface PrimaryOptions {
  config: Config;
  logger: Logger;
  /** Ends the process with a one-line message (src/main.ts `fail`). */
  fail(message: string, code: number): never;
}

interface Slot {
  worker: Worker | undefined;
  ready: boolean;
  startedAt: number;
  /** Deaths in a row of workers that did not live STABLE_MS. */
  quickDeaths: number;
  restart: NodeJS.Timeout | undefined;
}

export function restartDelayMs(quickDeaths: number): number {
  return Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.max(0, quickDeaths - 1));
}

/** Runs the primary: forks config.workers workers and supervises them until a signal stops them all. */
export function runPrimary({ config, logger, fail }: PrimaryOptions): void {
  const slots: Slot[] = Array.from({ length: config.workers }, () => ({ worker: undefined, ready: false, startedAt: 0, quickDeaths: 0, restart: undefined }));
  let stopping: string | undefined;
  let announced = false;
  let failedStop = false;

  const live = () => slots.filter((s) => s.worker !== undefined);

  const fork = (index: number) => {
    const slot = slots[index]!;
    slot.restart = undefined;
    slot.ready = false;
    slot.startedAt = Date.now();
    const worker = cluster.fork();
    slot.worker = worker;
    worker.on('message', (message: unknown) => {
      if (!isWorkerReady(message) || slot.worker !== worker) return;
      slot.ready = true;
      if (!announced && index === 0) {
        // The first worker checked the port, database and keys: start the others.
        for (let i = 1; i < slots.length; i++) fork(i);
      }
      if (!announced && slots.every((s) => s.ready)) {
        announced = true;
        logger.info(
          {
            host: config.host,
            port: message.port,
            database: providerOf(config.databaseUrl),
            workers: slots.length,
            pids: slots.map((s) => s.worker?.process.pid),
            openSignupActivation: config.openSignupActivation,
          },
          `connector listening on ${config.publicUrl}`,
        );
      }
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const index = slots.findIndex((s) => s.worker === worker);
    if (index < 0) return;
    const slot = slots[index]!;
    const wasReady = slot.ready;
    slot.worker = undefined;
    slot.ready = false;
    if (stopping) {
      if (code !== 0) failedStop = true;
      if (live().length === 0) {
        logger.info(failedStop ? 'stopped (a worker did not stop cleanly)' : 'stopped');
        process.exit(failedStop ? 1 : 0);
      }
      return;
    }
    if (!announced && index === 0 && !wasReady) {
      // The first start failed: the worker said why in one line (bad keys, busy port, unreachable database...).
      process.exit(code ?? 1);
    }
    const lived = Date.now() - slot.startedAt;
    slot.quickDeaths = lived < STABLE_MS ? slot.quickDeaths + 1 : 1;
    const delay = restartDelayMs(slot.quickDeaths);
    logger.warn({ workerPid: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited unexpectedly: starting another');
    slot.restart = setTimeout(() => {
      if (!stopping) fork(index);
    }, delay);
  });

  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = signal;
    logger.info({ signal }, 'shutting down');
    for (const slot of slots) clearTimeout(slot.restart);
    const running = live();
    if (running.length === 0) process.exit(0);
    for (const slot of running) slot.worker!.process.kill('SIGTERM');
    setTimeout(() => {
      for (const slot of live()) slot.worker!.process.kill('SIGKILL');
      fail(`shutdown took longer than ${config.shutdownGraceMs + WORKER_STOP_SLACK_MS} ms: exiting anyway`, 1);
    }, config.shutdownGraceMs + WORKER_STOP_SLACK_MS).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  serveClusterMetrics(); // one /metrics for the whole group
  fork(0);
}

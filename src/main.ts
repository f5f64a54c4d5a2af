// `npm start`: the connector's HTTP server. This process is the one process managers and containers signal: it
// applies pending migrations itself (no `migrate && start` shell chain that would leave the server orphaned), and
// on SIGTERM / SIGINT stops accepting, lets requests in flight finish (bounded), and closes the database.
//
// Exit codes: 0 after a clean shutdown, 2 for bad configuration (one line, before anything touches the database),
// 1 when the service cannot start or stop (one line for the failures a person can fix: busy port, wrong key...).
//
// WORKERS > 1: this process becomes the primary of src/cluster.ts (migrations, then it forks and supervises the
// workers); each worker runs the rest of this file as a server, without migrating, and logs with its pid.
import cluster from 'node:cluster';
import { startServer, type RunningServer } from './app.js';
import { runPrimary, type WorkerReady } from './cluster.js';
import { isConnectorError } from './errors.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { startHeapPolicy } from './heap.js';
import { createLogger, type Logger } from './log.js';
import { answerClusterScrapes } from './metrics/cluster.js';
import { SecretsKeyError } from './secrets/index.js';
import { migrate, MigrationError, schemaIsCurrent, StorageError } from './storage/db.js';

// Standard error is synchronous for files, pipes and terminals on Linux, so the line is out before the exit.
function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message, 2);
  throw err;
}

const clustered = config.workers > 1;
const base: Logger = createLogger(config.logLevel, undefined, config.logFormat);
// A worker's lines say which process wrote them (several write to the same output).
const logger: Logger = cluster.isWorker ? base.child({ pid: process.pid }) : base;

if (clustered && cluster.isPrimary) {
  // Signals during the migrations: stop before forking anything.
  let early: string | undefined;
  const onEarly = (signal: string) => (early ??= signal);
  process.on('SIGINT', onEarly).on('SIGTERM', onEarly);
  try {
    if (!(await schemaIsCurrent(config.databaseUrl))) {
      logger.info('applying database migrations');
      await migrate(config.databaseUrl);
    }
  } catch (err) {
    if (isConnectorError(err) || err instanceof StorageError) fail(`cannot start: ${err.message}`, 1);
    logger.fatal({ err }, 'cannot start');
    fail('cannot start (see the error above)', 1);
  }
  process.off('SIGINT', onEarly).off('SIGTERM', onEarly);
  if (early) {
    logger.info({ signal: early }, 'stopped');
    process.exit(0);
  }
  runPrimary({ config, logger, fail });
} else {
  await serve();
}

async function serve(): Promise<void> {
  // Signals are handled from the first moment: one arriving during start-up stops the server once it is up (a
  // process manager may give up on a slow start), and no SIGTERM ever meets Node's default of dying on the spot.
  let running: RunningServer | undefined;
  let stopSignal: string | undefined;
  const shutdown = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    // Requests get shutdownGraceMs; background work and the database a few seconds more, then we exit regardless.
    setTimeout(() => fail(`shutdown took longer than ${config.shutdownGraceMs + 5_000} ms: exiting anyway`, 1), config.shutdownGraceMs + 5_000).unref();
    if (running) void stop(running); // stops accepting connections before it returns
    logger.info({ signal }, 'shutting down');
  };
  const stop = (server: RunningServer) =>
    server.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // A worker whose primary is gone (killed with SIGKILL) stops too, rather than serve on unsupervised.
  if (cluster.isWorker) process.on('disconnect', () => shutdown('disconnect'));

  try {
    // Workers: the primary has migrated.
    if (!cluster.isWorker && !(await schemaIsCurrent(config.databaseUrl))) {
      logger.info('applying database migrations');
      await migrate(config.databaseUrl);
    }
    // WORKERS > 1: the primary collects this worker's metrics for a scrape on any worker (src/metrics/cluster.ts).
    if (cluster.isWorker) answerClusterScrapes();
    running = await startServer(config, { logger });
    startHeapPolicy(config.heapBudgetBytes);
    if (cluster.isWorker) answerClusterScrapes(running.services.operators.metrics.registry);
    if (stopSignal) await stop(running);
  } catch (err) {
    if (err instanceof SecretsKeyError) fail(`cannot start: ${err.message}`, 2);
    if (err instanceof MigrationError) fail(`cannot start: ${err.message}`, 1);
    if (isConnectorError(err) || err instanceof StorageError) fail(`cannot start: ${err.message}`, 1);
    logger.fatal({ err }, 'cannot start');
    fail('cannot start (see the error above)', 1);
  }

  const address = running!.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (cluster.isWorker) {
    // The primary logs "connector listening" once every worker is up.
    logger.info({ port }, 'worker listening');
    process.send?.({ type: 'connector:ready', port } satisfies WorkerReady);
    return;
  }
  logger.info(
    {
      host: config.host,
      port,
      database: running!.services.storage.provider,
      // issue 13: each account's own URLs are on its account page; the shared ones answer only in this mode.
      openSignupActivation: config.openSignupActivation,
    },
    `connector listening on ${config.publicUrl}`,
  );
}

// `npm start`: the connector's HTTP server. This process is the one process managers and containers signal: it
// applies pending migrations itself (no `migrate && start` shell chain that would leave the server orphaned), and
// on SIGTERM / SIGINT stops accepting, lets requests in flight finish (bounded), and closes the database.
//
// Exit codes: 0 after a clean shutdown, 2 for bad configuration (one line, before anything touches the database),
// 1 when the service cannot start or stop (one line for the failures a person can fix: busy port, wrong key...).
import { startServer, type RunningServer } from './app.js';
import { isConnectorError } from './errors.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './log.js';
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

const logger: Logger = createLogger(config.logLevel, undefined, config.logFormat);
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

try {
  if (!(await schemaIsCurrent(config.databaseUrl))) {
    logger.info('applying database migrations');
    await migrate(config.databaseUrl);
  }
  running = await startServer(config, { logger });
  if (stopSignal) await stop(running);
} catch (err) {
  if (err instanceof SecretsKeyError) fail(`cannot start: ${err.message}`, 2);
  if (err instanceof MigrationError) fail(`cannot start: ${err.message}`, 1);
  if (isConnectorError(err) || err instanceof StorageError) fail(`cannot start: ${err.message}`, 1);
  logger.fatal({ err }, 'cannot start');
  fail('cannot start (see the error above)', 1);
}

const address = running!.server.address();
logger.info(
  {
    host: config.host,
    port: typeof address === 'object' && address ? address.port : config.port,
    database: running!.services.storage.provider,
    // issue 13: each account's own URLs are on its account page; the shared ones answer only in this mode.
    openSignupActivation: config.openSignupActivation,
  },
  `connector listening on ${config.publicUrl}`,
);


// `npm start`: the connector's HTTP server (migrations already applied by the npm script).
import { startServer } from './app.js';
import { ConfigError, loadConfig } from './config.js';

try {
  const config = loadConfig();
  const running = await startServer(config);
  const { logger } = running.services;
  logger.info(
    {
      port: config.port,
      database: running.services.storage.provider,
      callbackUrl: `${config.publicUrl}/magento/callback`,
      identityLinkUrl: `${config.publicUrl}/magento/identity`,
    },
    `connector listening on ${config.publicUrl}`,
  );
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

// Readiness: the database answers. Load balancers route on it (/readyz).
import { ConnectorError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Storage } from './types.js';

export interface Readiness {
  database: Storage['provider'];
}

export class DatabaseUnavailableError extends ConnectorError<'database_unavailable'> {
  constructor(options: { cause?: unknown } = {}) {
    super('database_unavailable', 'The database cannot be reached.', { ...options, retryAfterSeconds: 5 });
  }
}

export async function checkReadiness(storage: Storage, logger: Logger): Promise<Readiness> {
  try {
    await storage.ping();
  } catch (err) {
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'readiness: database unreachable');
    throw new DatabaseUnavailableError({ cause: err });
  }
  return { database: storage.provider };
}

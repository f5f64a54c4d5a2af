// Readiness: the database answers. Load balancers route on it (/readyz).
import type { Logger } from '../log.js';
import { StorageUnavailableError } from './errors.js';
import type { Storage } from './types.js';

export interface Readiness {
  database: Storage['provider'];
}

/** The database answers, or StorageUnavailableError (`database_unavailable`). */
export async function checkReadiness(storage: Storage, logger: Logger): Promise<Readiness> {
  try {
    await storage.ping();
  } catch (err) {
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'readiness: database unreachable');
    throw new StorageUnavailableError('The database cannot be reached.', { cause: err });
  }
  return { database: storage.provider };
}

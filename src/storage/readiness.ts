// Readiness (/readyz, load balancers route on it): the database answers and takes writes, and the configured keys
// still open what it holds (another instance with other keys may have sealed rows since start-up).
import type { Clock } from '../clock.js';
import { ConnectorError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Storage } from './types.js';

export interface Readiness {
  database: Storage['provider'];
}

// A write that changes nothing: deleting a throttle counter nobody uses. A read-only database refuses the statement
// itself (SQLITE_READONLY, SQLSTATE 25006) whether or not a row matches.
const WRITE_PROBE_KEY = 'readyz:write-probe';
// How long a verdict on the secrets key stands: the check opens its own connection, and probes come every few seconds.
const SECRETS_CHECK_MS = 10_000;

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/^database unavailable: /, '');

export interface ReadinessDeps {
  storage: Storage;
  logger: Logger;
  clock: Clock;
  /** Throws when the keys cannot open the database's sealed sample. */
  checkSecrets(): Promise<void>;
}

/** A check per call: ConnectorError database_unavailable or secrets_unavailable, with the reason. */
export function readinessCheck({ storage, logger, clock, checkSecrets }: ReadinessDeps): () => Promise<Readiness> {
  let secrets: { at: number; problem: string | null } | undefined;
  async function secretsProblem(): Promise<string | null> {
    const now = clock.now().getTime();
    if (secrets && now - secrets.at < SECRETS_CHECK_MS) return secrets.problem;
    let problem: string | null = null;
    try {
      await checkSecrets();
    } catch (err) {
      problem = reasonOf(err);
    }
    secrets = { at: now, problem };
    return problem;
  }
  return async function checkReadiness() {
    try {
      await storage.ping();
      await storage.throttles.clear(WRITE_PROBE_KEY);
    } catch (err) {
      const reason = reasonOf(err);
      logger.warn({ err: reason }, 'readiness: database unavailable');
      // Not a StorageUnavailableError: the probe's answer names the reason (the pages' generic wording would hide it).
      throw new ConnectorError('database_unavailable', `Not ready: ${reason}.`, { cause: err, retryAfterSeconds: 5 });
    }
    const problem = await secretsProblem();
    if (problem) {
      logger.warn({ err: problem }, "readiness: the secrets key cannot open the database's secrets");
      throw new ConnectorError('secrets_unavailable', `Not ready: ${problem}.`);
    }
    return { database: storage.provider };
  };
}

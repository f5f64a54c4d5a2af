// Operations: /healthz says the process is up; /readyz says this instance can serve (load balancers route on it):
// the database answers, accepts writes (a read-only file or a standby serves no sign-in or activation), and the
// secrets key opens what the database holds. A "no" says why, in the answer and the log.
import Router from '@koa/router';
import type { HttpServices } from '../context.js';
import { HttpError } from '../errors.js';
import type { BaseState } from '../state.js';

// A write that changes nothing: deleting a throttle counter nobody uses. A read-only database refuses the statement
// itself (SQLITE_READONLY, SQLSTATE 25006) whether or not a row matches.
const WRITE_PROBE_KEY = 'readyz:write-probe';
// How long a verdict on the secrets key stands: the check opens its own connection, and probes come every few seconds.
const SECRETS_CHECK_MS = 10_000;

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/^database unavailable: /, '');

export function opsRoutes({ storage, logger, clock, checkSecrets }: HttpServices): Router<BaseState> {
  const router = new Router<BaseState>();
  let secrets: { at: number; problem: string | null } | undefined;

  async function secretsProblem(): Promise<string | null> {
    if (!checkSecrets) return null;
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

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      await storage.ping();
      await storage.throttles.clear(WRITE_PROBE_KEY);
    } catch (err) {
      const reason = reasonOf(err);
      logger.warn({ err: reason }, 'readiness: database unavailable');
      throw new HttpError('database_unavailable', `Not ready: ${reason}.`, { cause: err });
    }
    const problem = await secretsProblem();
    if (problem) {
      logger.warn({ err: problem }, 'readiness: the secrets key cannot open the database\'s secrets');
      throw new HttpError('secrets_unavailable', `Not ready: ${problem}.`);
    }
    ctx.body = { status: 'ready', database: storage.provider };
  });
  return router;
}

// GET /metrics in Prometheus text format. With METRICS_TOKEN set, the scraper must send it as a Bearer token.
import Router from '@koa/router';
import { safeEqual } from '../../accounts/tokens.js';
import { clusterMetricsText, inCluster } from '../../metrics/cluster.js';
import type { HttpServices } from '../context.js';
import { HttpError } from '../errors.js';

export function metricsRoutes(s: HttpServices): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    const token = s.config.metricsToken;
    if (token) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'))?.[1] ?? '';
      if (!safeEqual(given, token)) {
        throw new HttpError('unauthorized', 'Send METRICS_TOKEN as "Authorization: Bearer <token>".', { headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' } });
      }
    }
    const { registry } = s.operators.metrics;
    let body: string;
    if (inCluster()) {
      // WORKERS > 1: every worker's counters summed (src/metrics/cluster.ts), whichever worker is scraped.
      try {
        body = await clusterMetricsText();
      } catch (err) {
        throw new HttpError('metrics_unavailable', `The workers' metrics could not be collected (${(err as Error).message}): scrape again.`, { cause: err });
      }
    } else {
      body = await registry.metrics();
    }
    ctx.set('Content-Type', registry.contentType);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  });
  return router;
}

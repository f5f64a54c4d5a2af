// The pages' only scripts (the CSP allows scripts from our origin, none inline), read once. An unknown name falls
// through to the error handler's 404 page.
import Router from '@koa/router';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../paths.js';
import type { BaseState } from '../state.js';

const ASSETS = new Map(
  ['copy.js', 'popup.js'].map((name) => [name, readFileSync(join(projectRoot, 'views', 'assets', name))]),
);

export function assetRoutes(): Router<BaseState> {
  const router = new Router<BaseState>();
  router.get('/assets/:name', (ctx) => {
    const body = ASSETS.get(ctx.params.name!);
    if (!body) return;
    ctx.type = 'application/javascript';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = body;
  });
  return router;
}

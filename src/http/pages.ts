// Sending a server-rendered page: HTML, never cached (pages carry CSRF tokens and account data).
import type { Context } from 'koa';
import type { Render } from './views.js';

export function sendPage(ctx: Context, render: Render, template: string, data: Record<string, unknown>, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = render(template, { requestId: ctx.state.requestId, ...data });
}

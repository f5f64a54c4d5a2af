// Reading a request the way PHP sees it: raw body bytes, raw Host header, request target as received.
import type { Context } from 'koa';
import type { TLSSocket } from 'node:tls';
import type { IncomingRequest } from './oauth.js';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export class BodyTooLarge extends Error {}

export async function readRawBody(ctx: Context): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Request\Http::isSecure: a TLS connection, or the SSL offloader header (web/secure/offloader_header,
 * X-Forwarded-Proto by default) saying exactly `https`.
 */
export function isSecure(ctx: Context, offloaderHeader: string): boolean {
  if ((ctx.req.socket as TLSSocket).encrypted) return true;
  return ctx.get(offloaderHeader) === 'https';
}

export async function incomingRequest(ctx: Context, offloaderHeader: string): Promise<IncomingRequest> {
  const body = await readRawBody(ctx);
  return {
    method: ctx.method,
    secure: isSecure(ctx, offloaderHeader),
    // Node keeps header values and the request target as latin1 strings: one char per byte, as PHP sees them.
    host: ctx.req.headers.host ?? '',
    requestUri: ctx.req.url ?? '/',
    authorization: ctx.req.headers.authorization,
    contentType: ctx.req.headers['content-type'],
    body: body.toString('latin1'),
  };
}

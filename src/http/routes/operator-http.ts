// HTTP helpers of the operator routes: JSON bodies and queries validated with zod schemas (.strict(): an unknown
// field is an error too), and a 400 that names the field. Statuses of the operator codes: error-status.ts.
import type { Context, Next } from 'koa';
import getRawBody from 'raw-body';
import { z } from 'zod';
import { AccountError } from '../../accounts/accounts.js';
import { OperatorError } from '../../webhooks/errors.js';
import type { PageCursor } from '../../storage/types.js';
import { HttpError } from '../errors.js';

const JSON_BODY_LIMIT = 64 * 1024;

/** The API names the field at fault: the accounts domain's invalid_email becomes a field error of the body. */
export async function operatorErrors(_ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    if (err instanceof AccountError && err.code === 'invalid_email') throw new OperatorError('invalid_request', `email: ${err.message}`, 'email');
    throw err;
  }
}

/** A page cursor as the API shows it (`next`, `?after=`): opaque to callers, base64url of the row's time and id. */
export function encodeCursor(cursor: PageCursor | null): string | null {
  return cursor && Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url');
}

/** `?after=` back to a cursor; anything this API did not hand out is a 400 naming the field. */
export function decodeCursor(after: string | undefined): PageCursor | null {
  if (after === undefined) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as unknown[];
    const createdAt = new Date(typeof at === 'string' ? at : NaN);
    if (typeof id === 'string' && id.length > 0 && id.length <= 100 && !Number.isNaN(createdAt.getTime())) return { createdAt, id };
  } catch {
    // not JSON: refused below
  }
  throw new OperatorError('invalid_request', 'after: not a cursor from this API (pass the "next" value of the previous page, as it came)', 'after');
}

function firstIssue(error: z.ZodError, where: string): OperatorError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const field = [...issue.path, issue.keys[0]].join('.');
    return new OperatorError('invalid_request', `${field}: unknown ${where} field`, field);
  }
  const field = issue.path.join('.') || where;
  return new OperatorError('invalid_request', `${field}: ${issue.message}`, field);
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw firstIssue(parsed.error, where);
  return parsed.data;
}

/** Reads a JSON body (application/json, at most 64 KiB) and validates it. */
export async function jsonBody<T extends z.ZodType>(ctx: Context, schema: T): Promise<z.infer<T>> {
  if (!ctx.is('application/json')) {
    throw new HttpError('unsupported_media_type', 'Send a JSON body with Content-Type: application/json.');
  }
  const raw = await getRawBody(ctx.req, { limit: JSON_BODY_LIMIT, length: ctx.request.length, encoding: 'utf8' });
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new OperatorError('invalid_request', 'body: not valid JSON', 'body');
  }
  return parseWith(schema, value, 'body');
}

/** The query as an object of single values; a repeated name is refused (it has no one meaning). */
export function queryObject(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(ctx.querystring)) {
    if (name in out) throw new OperatorError('invalid_request', `${name}: given more than once`, name);
    out[name] = value;
  }
  return out;
}

// Reading url-encoded forms strictly: koa-body reads the body as text within the size limit (its own form parser,
// qs, is not used: it would merge or nest fields), then URLSearchParams parses it once, so a repeated field shows up
// as an array (and is refused) rather than being silently merged.
import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { HttpError } from '../errors.js';
import type { FormState } from '../state.js';

export type FormFields = Record<string, string | string[]>;

export function parseFormFields(raw: string): FormFields {
  const out: FormFields = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** Accepts only application/x-www-form-urlencoded bodies up to `limitBytes`; puts the fields in ctx.state.form. */
export function readForm(limitBytes: number): Middleware<FormState> {
  const parse = koaBody({
    urlencoded: false,
    json: false,
    multipart: false,
    text: true,
    textTypes: ['application/x-www-form-urlencoded'],
    textLimit: limitBytes,
    patchNode: false,
  });
  return async function readForm(ctx, next) {
    if (!ctx.is('application/x-www-form-urlencoded')) {
      throw new HttpError('unsupported_media_type', 'Send the form as application/x-www-form-urlencoded.');
    }
    let read = false;
    try {
      await parse(ctx, async () => {
        read = true;
        const body = ctx.request.body;
        ctx.state.form = parseFormFields(typeof body === 'string' ? body : '');
        await next();
      });
    } catch (err) {
      // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR...) carry no status: a body that is not what its Content-Encoding
      // says is the client's mistake, not a 500 of ours. Errors of the later steps pass through untouched.
      if (!read && isZlibError(err)) {
        throw new HttpError('bad_request', `The form body is not valid ${ctx.get('Content-Encoding').slice(0, 40)} data: send it uncompressed, or compressed as its Content-Encoding says.`, { cause: err });
      }
      throw err;
    }
  };
}

/** A decompression failure: zlib's Z_DATA_ERROR, Z_BUF_ERROR..., brotli's ERR__ERROR_FORMAT_...; never with a status. */
function isZlibError(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown; status?: unknown } | null;
  return typeof e?.code === 'string' && typeof e.errno === 'number' && e.status === undefined && /^(Z_|ERR_)/.test(e.code);
}

/** One text field of a form, or undefined when absent or repeated. */
export function field(form: FormFields, name: string): string | undefined {
  const v = form[name];
  return typeof v === 'string' ? v : undefined;
}

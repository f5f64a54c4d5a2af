// Every form we serve carries a CSRF token (cookies.ts csrfToken); this step refuses a POST without the right one,
// before anything else reads the form. One behaviour for the popup and the account pages: the error page.
import type { Middleware } from 'koa';
import { csrfValid } from '../cookies.js';
import { HttpError } from '../errors.js';
import type { FormState } from '../state.js';
import { field } from './read-form.js';

export const CSRF_MESSAGE = 'This form expired or was not sent from this page. Reload the page and submit it again.';

export function checkCsrf(csrfKey: Buffer): Middleware<FormState> {
  return async function checkCsrf(ctx, next) {
    if (!csrfValid(ctx, csrfKey, field(ctx.state.form, 'csrf'))) throw new HttpError('csrf_failed', CSRF_MESSAGE);
    await next();
  };
}

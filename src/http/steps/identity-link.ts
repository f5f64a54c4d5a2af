// The popup's two parameters, oauth_consumer_key and success_call_back: from the query Magento opened it with, or
// from the hidden fields its forms carry them in. A missing or garbled link is a 400 page saying where to start over.
import type { Middleware } from 'koa';
import { HttpError } from '../errors.js';
import type { BaseState, IdentityLink } from '../state.js';

// As the callback accepts it (activation/callback.ts); stored lower-cased.
const CONSUMER_KEY = /^[0-9A-Za-z]{16,64}$/;
const MAX_URL = 2048;

export function parseIdentityLink(source: Record<string, unknown>): IdentityLink {
  const key = source.oauth_consumer_key;
  if (typeof key !== 'string' || !CONSUMER_KEY.test(key)) {
    throw new HttpError(
      'identity_link_incomplete',
      'This page must be opened from the Magento admin: the link is missing the integration\'s consumer key. ' +
        'In the Magento admin, open System > Extensions > Integrations and click Activate.',
    );
  }
  const consumerKey = key.toLowerCase(); // as the callback stored it
  const back = source.success_call_back;
  if (back === undefined || back === '') return { consumerKey, successCallBack: null };
  if (typeof back !== 'string' || back.length > MAX_URL || !/^https?:\/\//i.test(back) || !URL.canParse(back)) {
    throw new HttpError(
      'identity_link_garbled',
      'The link\'s success_call_back is not a valid web address. Open this page from the Magento admin again.',
    );
  }
  return { consumerKey, successCallBack: back };
}

type LinkState = BaseState & { link: IdentityLink; form?: Record<string, unknown> };

/** `from: 'query'` for the popup's GET, `'form'` for its POSTs (after readForm). */
export function readIdentityLink(from: 'query' | 'form'): Middleware<LinkState> {
  return async function readIdentityLink(ctx, next) {
    ctx.state.link = parseIdentityLink(from === 'query' ? ctx.query : (ctx.state.form ?? {}));
    await next();
  };
}

// The popup's two parameters, oauth_consumer_key and success_call_back: from the query Magento opened it with, or
// from the hidden fields its forms carry them in. A missing or garbled link is a 400 page saying where to start over.
import type { Middleware } from 'koa';
import { normaliseConsumerKey } from '../../activation/callback.js';
import { HttpError } from '../errors.js';
import type { BaseState, IdentityLink } from '../state.js';

const MAX_URL = 2048;

export function parseIdentityLink(source: Record<string, unknown>): IdentityLink {
  // The callback's rule for a consumer key, lower-cased as it stored it.
  const consumerKey = normaliseConsumerKey(source.oauth_consumer_key);
  if (!consumerKey) {
    throw new HttpError(
      'identity_link_incomplete',
      'This page must be opened from the Magento admin: the link is missing the integration\'s consumer key. ' +
        'In the Magento admin, open System > Extensions > Integrations and click Activate.',
    );
  }
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

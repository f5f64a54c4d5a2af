// Webhook URLs are outbound calls to addresses an operator chose. They are checked here when a subscription is
// made (https, no credentials, no private literals), and again on every connection by the protocol transport's
// egress guard (the address actually connected to must be public unless ALLOW_PRIVATE_WEBHOOK_URLS).
import { isIP } from 'node:net';
import { isPublicAddress } from '../protocol/net-policy.js';
import { OperatorError } from './errors.js';

export const WEBHOOK_URL_MAX = 2048;

const invalid = (message: string) => new OperatorError('invalid_webhook_url', `url: ${message}`, 'url');

export function checkWebhookUrl(raw: string, allowPrivate: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('give an absolute URL, like https://crm.example.com/hooks/magento');
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    throw invalid(`use https (got ${url.protocol.replace(/:$/, '')}); plain http is allowed only with ALLOW_PRIVATE_WEBHOOK_URLS=true`);
  }
  if (url.username || url.password) throw invalid('must not contain credentials; authenticate deliveries by their Connector-Signature');
  if (url.hash) throw invalid('must not contain a #fragment');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!allowPrivate) {
    if ((isIP(host) && !isPublicAddress(host)) || host === 'localhost' || host.endsWith('.localhost')) {
      throw invalid('points at a loopback, private or otherwise non-public address; receivers must be public (ALLOW_PRIVATE_WEBHOOK_URLS=true for development)');
    }
  }
  if (url.href.length > WEBHOOK_URL_MAX) throw invalid(`is longer than ${WEBHOOK_URL_MAX} characters`);
  return url.href;
}

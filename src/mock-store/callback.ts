// The callback POST Magento sends on Activate / Reauthorize (OauthService::postToConsumer through
// Magento\Framework\HTTP\ZendClient): a form-encoded POST of four fields, config `timeout` (oauth/consumer/
// post_timeout, 5 s: applies to connecting and to every read, i.e. an idle timeout) and `maxredirects`
// (oauth/consumer/post_maxredirects, 0). Magento never looks at the status or the body; it reads the whole
// response and only a transport failure (DNS, connect, TLS, timeout) fails the activation.
import http from 'node:http';
import https from 'node:https';
import { httpBuildQuery } from './php.js';

export interface CallbackFields {
  oauth_consumer_key: string;
  oauth_consumer_secret: string;
  store_base_url: string;
  oauth_verifier: string;
}

export type CallbackResult = { ok: true; status: number } | { ok: false; error: string };

export interface CallbackOptions {
  timeoutMs: number;
  maxRedirects: number;
}

interface Hop {
  status: number;
  location: string | undefined;
}

function send(url: URL, method: 'POST' | 'GET', body: string | null, timeoutMs: number): Promise<Hop> {
  const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
  if (!client) return Promise.reject(new Error(`unsupported scheme ${url.protocol}`));
  const headers: Record<string, string | number> = {
    Connection: 'close',
    'Accept-Encoding': 'gzip, deflate',
    'User-Agent': 'Zend_Http_Client',
  };
  if (body !== null) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  return new Promise<Hop>((resolve, reject) => {
    const req = client.request(url, { method, headers, timeout: timeoutMs }, (res) => {
      // Zend reads the body to the end; a response that stalls mid-body times out like any other read.
      res.on('data', () => undefined);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`Read timed out after ${timeoutMs / 1000} seconds`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** Posts the fields; follows at most `maxRedirects` redirects the way Zend_Http_Client does (301/302/303 -> GET). */
export async function postToConsumer(
  endpointUrl: string,
  fields: CallbackFields,
  options: CallbackOptions,
): Promise<CallbackResult> {
  let url: URL;
  try {
    url = new URL(endpointUrl);
  } catch {
    return { ok: false, error: `invalid callback URL` };
  }
  let method: 'POST' | 'GET' = 'POST';
  let body: string | null = httpBuildQuery({ ...fields });
  try {
    for (let redirects = 0; ; redirects++) {
      const hop = await send(url, method, body, options.timeoutMs);
      const isRedirect = hop.status >= 300 && hop.status < 400 && hop.location;
      if (!isRedirect || redirects >= options.maxRedirects) return { ok: true, status: hop.status };
      url = new URL(hop.location!, url);
      if (hop.status === 301 || hop.status === 302 || hop.status === 303) {
        method = 'GET';
        body = null;
      }
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, error: err.code ? `${err.code}: ${err.message}` : err.message };
  }
}

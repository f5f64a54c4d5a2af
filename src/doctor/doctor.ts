// The store doctor: for one store, checks what Magento's own errors do not explain and says what to click. Protocol
// and transport only (no Koa, no storage): every request goes through the caller's egress-guarded transport, with a
// per-request timeout and at most `concurrency` requests in flight. Magento facts: docs/magento-protocol.md §6 (the
// 600 s timestamp limit), §7 (Bearer, 401 messages), §7a (the verifiers and how to tell them apart).
//
// Order: the base URL first (nothing else is worth trying when it cannot be reached), then magento_version and the
// verifier detection together, then the resources (signed for the detected profile), then Bearer on a granted one.
import { systemClock } from '../clock.js';
import { errorCode } from '../protocol/failure-reasons.js';
import { createSigner } from '../protocol/signer.js';
import type { SigningProfileName } from '../protocol/signing-profiles.js';
import { EgressDeniedError, TransportError, UpstreamTimeoutError, UpstreamUnreachableError } from '../protocol/transport-errors.js';
import type { Transport, TransportResponse } from '../protocol/transport.js';
import {
  classifyAnswer,
  detectSigningProfile,
  NOT_AUTHORIZED,
  unreachableAnswer,
  type DetectionResult,
  type SignedAnswer,
} from '../protocol/verifier-detection.js';
import type { CheckName, DoctorInput, DoctorOptions, DoctorResult, HealthCheck, HealthReport } from './types.js';

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 3;
const DEFAULT_MAX_REDIRECTS = 5;
/** Nonce\Generator::TIME_DEVIATION (§6): a timestamp further ahead of Magento's clock is refused. */
const MAGENTO_FUTURE_LIMIT_S = 600;
/** A skew beyond this either way is worth a warning (Date has whole seconds, and the answer took some time). */
const SKEW_WARN_S = 60;

export const RELEASES: Record<SigningProfileName, string> = {
  laminas: 'Magento 2.4.4 to 2.4.7',
  'laminas-double-encoding': 'Magento 2.4.8-beta1',
  native: 'Magento 2.4.8 or later',
};

const INTEGRATIONS = 'System > Extensions > Integrations';

/** The resources the doctor asks about: one cheap GET each, guarded by that ACL resource. */
export const DOCTOR_RESOURCES: readonly {
  name: string;
  acl: string;
  /** Where the resource is ticked in the integration's API tab (Resource Access: Custom). */
  label: string;
  path: string;
}[] = [
  { name: 'products', acl: 'Magento_Catalog::products', label: 'Catalog > Inventory > Products', path: 'V1/products?searchCriteria[pageSize]=1' },
  { name: 'orders', acl: 'Magento_Sales::actions_view', label: 'Sales > Operations > Orders > Actions > View', path: 'V1/orders?searchCriteria[pageSize]=1' },
  { name: 'customers', acl: 'Magento_Customer::customer', label: 'Customers', path: 'V1/customers/search?searchCriteria[pageSize]=1' },
  // An SKU that does not exist: a granted resource answers 404 (no such product), a refused one 401.
  { name: 'inventory', acl: 'Magento_CatalogInventory::cataloginventory', label: 'Stores > Settings > Configuration > Inventory Section', path: 'V1/stockItems/connector-doctor-probe' },
  { name: 'categories', acl: 'Magento_Catalog::categories', label: 'Catalog > Inventory > Categories', path: 'V1/categories' },
  { name: 'store config', acl: 'Magento_Backend::store', label: 'Stores > Settings > All Stores', path: 'V1/store/storeConfigs' },
];

/** At most `n` calls of the returned function run at once. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/** The caller's transport, with at most `n` requests in flight (the detection's probes included). */
function bounded(transport: Transport, n: number): Transport {
  const limit = limiter(n);
  return { request: (req) => limit(() => transport.request(req)), close: () => {} };
}

const header = (res: TransportResponse, name: string): string | undefined => {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

// ---- reachable -----------------------------------------------------------------------------------------------------

interface Reach {
  check: HealthCheck;
  /** An HTTP answer came back (whatever its status): the store is worth asking the rest. */
  answered: boolean;
  /** The Date header of the last answer and our clock when it arrived. */
  date?: { theirs: string; ours: Date };
}

const TLS_EXPIRED = new Set(['CERT_HAS_EXPIRED']);
const TLS_NOT_YET = new Set(['CERT_NOT_YET_VALID']);
const TLS_HOST = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
const TLS_SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const TLS_CHAIN = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT']);

/** A transport failure on the base URL, explained. */
export function unreachableCheck(err: TransportError, url: string): HealthCheck {
  const host = new URL(url).host;
  const fail = (detail: string, fix: string): HealthCheck => ({ name: 'reachable', status: 'fail', detail, fix });
  if (err instanceof EgressDeniedError) {
    return fail(
      `${host} is, or resolves to, a loopback, private or otherwise non-public address; the connector only calls public addresses.`,
      "Set the store's public address as its Base URL (Stores > Settings > Configuration > General > Web > Base URLs (Secure)), then Reauthorize the integration so Magento sends it.",
    );
  }
  if (err instanceof UpstreamTimeoutError) {
    return fail(
      `No answer from ${host} in time (${err.phase === 'connect' ? 'connecting' : 'waiting for the response'}, ${err.timeoutMs} ms).`,
      'Check that the store is up and that its firewall lets our requests in; then run the check again.',
    );
  }
  const code = err instanceof UpstreamUnreachableError ? errorCode(err.cause) : undefined;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return fail(
      `The host name ${new URL(url).hostname} was not found in DNS${code === 'EAI_AGAIN' ? ' (temporary DNS failure)' : ''}.`,
      "Check the store's Base URL (Stores > Settings > Configuration > General > Web > Base URLs (Secure)) and its DNS records.",
    );
  }
  if (code && TLS_EXPIRED.has(code)) {
    return fail(
      `The TLS certificate of ${host} has expired.`,
      'Renew the certificate on the web server (or ask your hosting provider to); Magento itself needs no change.',
    );
  }
  if (code && TLS_NOT_YET.has(code)) {
    return fail(`The TLS certificate of ${host} is not valid yet (check the server's clock).`, 'Install a currently valid certificate and set the server clock right (NTP).');
  }
  if (code && TLS_HOST.has(code)) {
    return fail(
      `The TLS certificate served by ${host} was issued for another host name.`,
      `Install a certificate that covers ${new URL(url).hostname}, or set the Base URL (Stores > Settings > Configuration > General > Web > Base URLs (Secure)) to a host name the certificate covers.`,
    );
  }
  if (code && TLS_SELF_SIGNED.has(code)) {
    return fail(
      `The TLS certificate of ${host} is self-signed; it is not trusted.`,
      "Install a certificate from a public certificate authority (for example Let's Encrypt) on the web server.",
    );
  }
  if (code && TLS_CHAIN.has(code)) {
    return fail(
      `The TLS certificate of ${host} cannot be verified: the server does not send the intermediate certificates, or the issuer is not a public authority.`,
      'Configure the web server to send the full certificate chain (certificate plus intermediates).',
    );
  }
  if (code === 'ECONNREFUSED') {
    return fail(`${host} refused the connection.`, 'Check that the store is running and that the Base URL has the right port.');
  }
  return fail(`Could not reach ${host}: ${err.message}`, 'Check that the store is up and reachable from the internet, then run the check again.');
}

async function reachable(o: Required<Pick<DoctorOptions, 'transport' | 'timeoutMs' | 'maxRedirects'>> & DoctorOptions, base: string): Promise<Reach> {
  const clock = o.clock ?? systemClock;
  const hops: string[] = [];
  let url = base;
  for (let i = 0; ; i++) {
    let res: TransportResponse;
    try {
      res = await o.transport.request({ method: 'GET', url, headers: { Accept: 'text/html' }, timeoutMs: o.timeoutMs, signal: o.signal });
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      const check = unreachableCheck(err, url);
      if (hops.length) check.detail += ` (after the redirects ${hops.join(', ')})`;
      return { check, answered: false };
    }
    const theirs = header(res, 'date');
    const date = theirs ? { theirs, ours: clock.now() } : undefined;
    const location = header(res, 'location');
    if (res.status >= 300 && res.status < 400 && location && i < o.maxRedirects) {
      const next = new URL(location, url).href;
      hops.push(`${res.status} -> ${next}`);
      url = next;
      continue;
    }
    const seen = `${base} answered HTTP ${res.status}`;
    const via = hops.length ? ` after redirects: ${hops.join(', ')}` : '';
    const result = (check: Omit<HealthCheck, 'name'>): Reach => ({ check: { name: 'reachable', ...check }, answered: true, ...(date ? { date } : {}) });
    if (hops.length) {
      return result({
        status: 'warn',
        detail: `${base} redirects${via} (final HTTP ${res.status}). Signed calls are never redirected: they go to the Base URL exactly.`,
        fix:
          'Set the Base URL Magento sends (Stores > Settings > Configuration > General > Web > Base URLs (Secure)) to the address the store is really served at, ' +
          `then click Reauthorize in ${INTEGRATIONS} so Magento sends the new URL.`,
      });
    }
    if (res.status >= 200 && res.status < 300) return result({ status: 'ok', detail: `${seen}.` });
    if (res.status === 503) {
      return result({
        status: 'warn',
        detail: `${seen}: the store is probably in maintenance mode.`,
        fix: 'Take the store out of maintenance mode (bin/magento maintenance:disable) when the work is done.',
      });
    }
    if (res.status === 401 || res.status === 403) {
      return result({
        status: 'warn',
        detail: `${seen}: a password prompt or a firewall stands in front of the store, and may block REST calls too.`,
        fix: "Let the connector's requests to /rest/ through (HTTP authentication or firewall rules on the web server or CDN).",
      });
    }
    if (res.status >= 500) {
      return result({ status: 'warn', detail: `${seen}: the store has an error.`, fix: "Check the store's error logs (var/log, var/report)." });
    }
    // A 3xx beyond the redirect limit, a 404 (a headless store without a home page): REST may still work.
    return result({ status: 'warn', detail: `${seen}${res.status >= 300 && res.status < 400 ? ' (too many redirects)' : ''}.` });
  }
}

// ---- clock ---------------------------------------------------------------------------------------------------------

export function clockCheck(date: { theirs: string; ours: Date } | undefined): HealthCheck {
  if (!date) return { name: 'clock', status: 'warn', detail: 'The store sent no Date header, so its clock could not be compared with ours.' };
  const theirs = Date.parse(date.theirs);
  if (Number.isNaN(theirs)) return { name: 'clock', status: 'warn', detail: `The store's Date header ("${date.theirs.slice(0, 60)}") is not a date.` };
  const skew = Math.round((date.ours.getTime() - theirs) / 1000); // > 0: ours is ahead
  const said = `The store's clock says ${new Date(theirs).toISOString()}; ours ${date.ours.toISOString()}`;
  const fix = "Set the store server's clock right (enable NTP time synchronisation); Magento checks OAuth timestamps against it.";
  if (skew > MAGENTO_FUTURE_LIMIT_S) {
    return {
      name: 'clock',
      status: 'fail',
      detail: `${said}: ours is ${skew} s ahead, more than the ${MAGENTO_FUTURE_LIMIT_S} s Magento allows, so it refuses our signed calls ("An error occurred validating the nonce").`,
      fix,
    };
  }
  if (Math.abs(skew) > SKEW_WARN_S) {
    const way = skew > 0 ? `ours is ${skew} s ahead (Magento refuses beyond ${MAGENTO_FUTURE_LIMIT_S} s)` : `the store's is ${-skew} s ahead of ours (Magento accepts that, but its own timestamps are off)`;
    return { name: 'clock', status: 'warn', detail: `${said}: ${way}.`, fix };
  }
  return { name: 'clock', status: 'ok', detail: `${said} (${Math.abs(skew)} s apart).` };
}

// ---- signing and token ---------------------------------------------------------------------------------------------

const DEAD_FIX_DELETED =
  `The integration was deleted in Magento. In ${INTEGRATIONS}, click Add New Integration, enter this account's Callback URL and Identity Link URL, save it and click Activate.`;
const DEAD_FIX_TOKEN =
  `Magento no longer accepts this access token (the integration was reauthorized elsewhere or its tokens were removed). In ${INTEGRATIONS}, click Reauthorize on the integration ` +
  '(Magento shows Reauthorize only for an Active integration; if it shows Activate, click Activate). If that does not help, delete the integration and create it again.';

export function signingCheck(input: DoctorInput, detection: DetectionResult): HealthCheck {
  const last = input.lastSignedCall
    ? ` The last signed call (${input.lastSignedCall.at.toISOString()}) ${input.lastSignedCall.verified ? 'verified' : `was refused${input.lastSignedCall.message ? `: "${input.lastSignedCall.message}"` : ''}`}.`
    : '';
  if (detection.profile !== null) {
    const now = `${detection.profile} (${RELEASES[detection.profile]})`;
    if (input.profile !== null && input.profile !== detection.profile) {
      const when = input.profileDetectedAt ? `, detected ${input.profileDetectedAt.toISOString()}` : '';
      return {
        name: 'signing',
        status: 'warn',
        detail: `The store's signature verifier changed: it was ${input.profile} (${RELEASES[input.profile]}${when}), it is now ${now}; the store was upgraded. Requests are signed for ${detection.profile} from now on.${last}`,
      };
    }
    return { name: 'signing', status: 'ok', detail: `Magento verifies signatures as ${now}, detected from its answers.${last}` };
  }
  const fail = (detail: string, fix?: string): HealthCheck => ({ name: 'signing', status: 'fail', detail: detail + last, ...(fix ? { fix } : {}) });
  switch (detection.reason) {
    case 'token_dead':
      return { name: 'signing', status: 'warn', detail: `Not checked: Magento refused the credentials before looking at the signature (see "token").${last}` };
    case 'authorization_not_seen':
      return fail(
        `${detection.detail}.`,
        "Make sure the web server hands the Authorization header to PHP: Magento's own .htaccess does it for Apache " +
          '(RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]); with PHP-FPM, CGI or a proxy in front, pass the header on explicitly.',
      );
    case 'clock':
      return fail(`Magento refused the requests' timestamp: ${detection.detail} (see "clock").`, "Set the store server's clock right (NTP); ours is synchronised.");
    case 'unreachable':
      return fail(`The signed probes could not be sent: ${detection.detail}`);
    case 'every_candidate_refused':
      return fail(
        `Magento answered "The signature is invalid" to a request signed for each of its three verifiers: it does not see the request we sign.`,
        'Make sure signed calls reach Magento at exactly the Base URL it sent (same host, port, path and https): no proxy or CDN may change the Host header or the path. ' +
          'Behind a TLS-terminating proxy, set Stores > Settings > Configuration > General > Web > Base URLs (Secure) > Offloader header so Magento knows the request was https.',
      );
    case 'inconsistent':
      return fail(detection.detail, 'Check what sits in front of Magento (a proxy, a security module) and whether it answers REST calls itself.');
    case 'unexpected_answer':
      return fail(
        `${detection.detail} at ${input.storeBaseUrl}rest/V1/products.`,
        "Check that the Base URL points to Magento and that /rest/ is not blocked (maintenance mode, a firewall or a web application firewall).",
      );
  }
}

export function tokenCheck(detection: DetectionResult, answers: readonly SignedAnswer[]): HealthCheck {
  const dead = answers.find((a) => a.kind === 'token_dead');
  if (dead && dead.kind === 'token_dead') {
    const deleted = /consumer having the specified key does not exist|consumer with the ID/i.test(dead.message);
    return {
      name: 'token',
      status: 'fail',
      detail: `Magento refused the access token: "${dead.message}".`,
      fix: deleted ? DEAD_FIX_DELETED : DEAD_FIX_TOKEN,
    };
  }
  if (detection.profile === null && detection.reason === 'authorization_not_seen') {
    return { name: 'token', status: 'warn', detail: 'Not known: Magento does not see our Authorization header (see "signing").' };
  }
  if (answers.some((a) => a.kind === 'verified')) return { name: 'token', status: 'ok', detail: 'The access token works: Magento accepted a signed call.' };
  return {
    name: 'token',
    status: 'warn',
    detail: `Not known: no signed call verified${detection.profile === null ? ` (${detection.detail})` : ''}.`,
  };
}

// ---- resources, bearer, version ------------------------------------------------------------------------------------

type Grant = { name: string; acl: string; label: string; path: string; answer: SignedAnswer };

export function resourcesCheck(grants: readonly Grant[]): HealthCheck {
  const granted = grants.filter((g) => g.answer.kind === 'verified' && g.answer.message !== NOT_AUTHORIZED);
  const refused = grants.filter((g) => g.answer.kind === 'verified' && g.answer.message === NOT_AUTHORIZED);
  const unknown = grants.filter((g) => g.answer.kind !== 'verified');
  const list = (gs: readonly Grant[]) => gs.map((g) => g.name).join(', ');
  const parts = [
    granted.length ? `granted: ${list(granted)}` : '',
    refused.length ? `not granted: ${list(refused)}` : '',
    unknown.length ? `not known (the signed call was not verified: ${[...new Set(unknown.map((g) => g.answer.kind))].join(', ')}): ${list(unknown)}` : '',
  ].filter(Boolean);
  const detail = `${parts.join('; ')}.`;
  const fix =
    refused.length === 0
      ? undefined
      : `In ${INTEGRATIONS}, edit the integration, open its API tab and, under Resource Access (Custom), tick ${refused.map((g) => `${g.label} (${g.acl})`).join(', ')}, or choose Resource Access: All; then click Save.`;
  if (granted.length === 0 && unknown.length === 0) {
    return { name: 'resources', status: 'fail', detail: `The integration was granted none of the resources checked; ${detail}`, ...(fix ? { fix } : {}) };
  }
  if (unknown.length === grants.length) return { name: 'resources', status: 'warn', detail };
  return { name: 'resources', status: refused.length || unknown.length ? 'warn' : 'ok', detail, ...(fix ? { fix } : {}) };
}

const BEARER_SETTING =
  'Stores > Settings > Configuration > Services > OAuth > Consumer Settings > "Allow OAuth Access Tokens to be used as standalone Bearer tokens"';

export function bearerCheck(grant: Grant | undefined, answer: SignedAnswer | undefined): HealthCheck {
  const info = (detail: string): HealthCheck => ({ name: 'bearer', status: 'ok', detail });
  if (!grant || !answer) return info('Not known: the integration has no granted resource to try a Bearer token on. The connector never needs Bearer tokens.');
  if (answer.kind === 'verified' && answer.message !== NOT_AUTHORIZED) {
    return info(`On: the store accepts the access token as a standalone Bearer token (tried on ${grant.name}). The connector itself always signs with OAuth.`);
  }
  if (answer.kind === 'verified') {
    return info(
      `Off: the store treated the access token, sent as a Bearer token, as a guest (Magento's default since 2.4.4). The connector never needs it; a tool that does can have it turned on in ${BEARER_SETTING}.`,
    );
  }
  return info(`Not known: the Bearer request got ${answer.kind === 'unreachable' ? answer.message : `HTTP ${answer.status}`}.`);
}

const VERSION_LINE = /^Magento\/(\d+)\.(\d+) \([^()]{1,40}\)$/;

export function versionCheck(res: TransportResponse | SignedAnswer): HealthCheck {
  if ('kind' in res) return { name: 'version', status: 'ok', detail: `Not known: ${res.kind === 'unreachable' ? res.message : `HTTP ${res.status}`}.` };
  const text = res.body.toString('utf8').trim();
  const m = res.status === 200 ? VERSION_LINE.exec(text) : null;
  if (!m) {
    return { name: 'version', status: 'ok', detail: `The store does not expose magento_version (HTTP ${res.status}); many stores hide it, and the connector does not need it.` };
  }
  const old = Number(m[1]) < 2 || (Number(m[1]) === 2 && Number(m[2]) < 4);
  if (old) {
    return {
      name: 'version',
      status: 'warn',
      detail: `${text}: older than 2.4.4, the oldest release the connector is made for.`,
      fix: 'Upgrade Magento to 2.4.4 or later.',
    };
  }
  return { name: 'version', status: 'ok', detail: `${text} (magento_version shows the release line only, not the patch level).` };
}

// ---- the run -------------------------------------------------------------------------------------------------------

const notChecked = (name: CheckName, why: string): HealthCheck => ({ name, status: 'warn', detail: `Not checked: ${why}.` });

export async function runDoctor(options: DoctorOptions, input: DoctorInput): Promise<DoctorResult> {
  const clock = options.clock ?? systemClock;
  const o = {
    ...options,
    transport: bounded(options.transport, options.concurrency ?? DEFAULT_CONCURRENCY),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRedirects: options.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
  };
  const base = input.storeBaseUrl;
  const reach = await reachable(o, base);
  const report = (checks: HealthCheck[], detection: DetectionResult | null): DoctorResult => {
    const detected = detection?.profile ? { profile: detection.profile, detectedAt: detection.detectedAt.toISOString() } : null;
    const known = { profile: input.profile, detectedAt: input.profile && input.profileDetectedAt ? input.profileDetectedAt.toISOString() : null };
    const body: HealthReport = { checkedAt: clock.now().toISOString(), signing: detected ?? known, checks };
    return { report: body, detection };
  };
  if (!reach.answered) {
    const why = 'the store could not be reached';
    return report(
      [reach.check, notChecked('clock', why), notChecked('signing', why), notChecked('token', why), notChecked('resources', why), notChecked('bearer', why), notChecked('version', why)],
      null,
    );
  }

  const keys = { storeBaseUrl: base, consumerKey: input.consumerKey, consumerSecret: input.consumerSecret, accessToken: input.accessToken };
  const detectionOptions = { transport: o.transport, clock, timeoutMs: o.timeoutMs, ...(o.signal ? { signal: o.signal } : {}) };
  const get = (url: string, headers: Record<string, string>): Promise<TransportResponse> =>
    o.transport.request({ method: 'GET', url, headers, timeoutMs: o.timeoutMs, signal: o.signal });
  const [versionAnswer, detection] = await Promise.all([
    get(`${base}magento_version`, { Accept: 'text/plain' }).catch((err: unknown) => unreachableAnswer(err)),
    detectSigningProfile(detectionOptions, keys),
  ]);

  // Resources, signed for the profile just detected (or the known one, or the common form).
  const profile = detection.profile ?? input.profile;
  const signer = createSigner({ key: input.consumerKey, secret: input.consumerSecret }, { clock });
  const grants: Grant[] = await Promise.all(
    DOCTOR_RESOURCES.map(async (r): Promise<Grant> => {
      const signed = signer.sign({ method: 'GET', url: `${base}rest/${r.path}`, profile }, input.accessToken);
      const answer = await get(signed.url, { Authorization: signed.authorization, Accept: 'application/json' }).then(classifyAnswer, unreachableAnswer);
      return { ...r, answer };
    }),
  );

  // Bearer on a resource the integration was granted, so that "guest" can only mean "Bearer refused".
  const target = grants.find((g) => g.answer.kind === 'verified' && g.answer.message !== NOT_AUTHORIZED);
  const bearerAnswer = target
    ? await get(`${base}rest/${target.path}`, { Authorization: `Bearer ${input.accessToken.key}`, Accept: 'application/json' }).then(classifyAnswer, unreachableAnswer)
    : undefined;

  // When Magento never sees our Authorization header, every "not authorized" is a guest's: it says nothing of grants.
  if (detection.profile === null && detection.reason === 'authorization_not_seen') {
    for (const g of grants) g.answer = { kind: 'unexpected', status: g.answer.kind === 'unreachable' ? 0 : g.answer.status, message: 'answered as a guest' };
  }
  const signedAnswers = [...detection.evidence.map((e) => e.answer), ...grants.map((g) => g.answer)];
  return report(
    [
      reach.check,
      clockCheck(reach.date),
      signingCheck(input, detection),
      tokenCheck(detection, signedAnswers),
      resourcesCheck(grants),
      bearerCheck(target, bearerAnswer),
      versionCheck(versionAnswer),
    ],
    detection,
  );
}

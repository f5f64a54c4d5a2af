// The signature of a delivery: `Connector-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`,
// keyed with the webhook's secret. The timestamp is signed with the body, so a receiver that also bounds the age
// of `t` (say 5 minutes) refuses replays of an old delivery.
import { createHmac, randomBytes } from 'node:crypto';

export const SIGNATURE_HEADER = 'Connector-Signature';
export const EVENT_ID_HEADER = 'Connector-Event-Id';
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

export function signatureHeader(secret: string, unixSeconds: number, rawBody: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${rawBody}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

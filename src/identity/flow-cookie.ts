// What the browser carries across the round trip to the OpenID provider: the flow's secrets (state, nonce, PKCE
// verifier), where it started (the popup's consumer key, success_call_back and scope, or the account page) and a hash of
// its CSRF cookie. Sealed with AES-256-GCM under a key derived from SECRETS_KEY (any instance opens it) and bound
// to its purpose and expiry, so a callback is honoured only in the browser that started it, once, for 10 minutes.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

export const OIDC_FLOW_COOKIE = 'mc_oidc';
const AAD = Buffer.from('magento-connector:oidc-flow:v1');

const Flow = z.object({
  state: z.string().min(1).max(200),
  nonce: z.string().min(1).max(200),
  codeVerifier: z.string().min(43).max(128),
  /** Epoch ms after which the flow is refused. */
  expiresAt: z.number(),
  /** SHA-256 of the CSRF cookie the start form was posted with. */
  csrfSeedHash: z.string().max(100),
  popup: z
    .object({
      consumerKey: z.string().max(64),
      successCallBack: z.string().max(2048).nullable(),
      // issue 13: the popup it started in: the account of its Identity Link URL (null: the shared popup), and the
      // path its pages live under. Required: a cookie without them is refused rather than read as the shared popup.
      accountId: z.string().max(64).nullable(),
      base: z.string().max(120).regex(/^\/magento\/identity(\/[A-Za-z0-9_-]+)?$/),
    })
    .nullable(),
});

export type OidcFlow = z.infer<typeof Flow>;

export function sealFlow(key: Buffer, flow: OidcFlow): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(JSON.stringify(flow), 'utf8'), cipher.final()]);
  return [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

/** The flow, or null when the value is missing, tampered with, sealed under another key, or expired at `now`. */
export function openFlow(key: Buffer, value: string | undefined, now: Date): OidcFlow | null {
  if (!value || value.length > 8192) return null;
  const parts = value.split('.');
  if (parts.length !== 3) return null;
  try {
    const [iv, body, tag] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    const flow = Flow.safeParse(JSON.parse(plain));
    if (!flow.success || flow.data.expiresAt <= now.getTime()) return null;
    return flow.data;
  } catch {
    return null;
  }
}

// The identity services the HTTP layer is given (issue 14): the OpenID client (when configured), the linker,
// password resets, the mailer and the key that seals the flow cookie. Built by src/app.ts.
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createMailer, type Mailer } from '../mail/mailer.js';
import type { Storage } from '../storage/types.js';
import { IdentityLinker } from './linking.js';
import { OidcClient } from './oidc.js';
import { PasswordResets } from './password-reset.js';

/** The path of the redirect URI to register at the provider: PUBLIC_URL + this. */
export const OIDC_CALLBACK_PATH = '/oidc/callback';

export interface IdentityServices {
  localAccounts: boolean;
  oidc: OidcClient | null;
  linker: IdentityLinker;
  resets: PasswordResets;
  mailer: Mailer;
  /** AES key for the flow cookie, derived from SECRETS_KEY (the same on every instance). */
  flowKey: Buffer;
  close(): Promise<void>;
}

export function createIdentityServices(o: { config: Config; storage: Storage; clock: Clock; logger: Logger; flowKey: Buffer }): IdentityServices {
  const { config, storage, clock, logger } = o;
  const id = config.identity;
  const mailer = createMailer({ smtpUrl: id.smtpUrl, from: id.mailFrom, dataDir: config.dataDir, logger });
  const oidc = id.oidc
    ? new OidcClient({ config: id.oidc, logger, redirectUri: () => `${config.publicUrl}${OIDC_CALLBACK_PATH}`, timeoutSeconds: Math.ceil(id.oidcTimeoutMs / 1000) })
    : null;
  const resets = new PasswordResets({
    storage,
    clock,
    mailer,
    logger,
    identity: id,
    throttleWindowMs: config.durations.throttleWindowMs,
    publicUrl: () => config.publicUrl,
  });
  return {
    localAccounts: id.localAccounts,
    oidc,
    linker: new IdentityLinker({ storage, localAccounts: id.localAccounts, providerName: id.oidc?.name ?? 'your identity provider' }),
    resets,
    mailer,
    flowKey: o.flowKey,
    async close() {
      await resets.drain();
      mailer.close();
    },
  };
}

// Outgoing mail. With SMTP_URL, nodemailer sends to that server; without it (a laptop), each mail is written as an
// .eml file to $DATA_DIR/outbox/ and its link is logged at info, so nobody needs a mail server to reset a password.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import { ConnectorError } from '../errors.js';
import type { Logger } from '../log.js';

export const PRODUCT_NAME = 'Magento Connector';

export interface Mail {
  to: string;
  subject: string;
  /** Plain text: what was asked, the link, what to do if it was not them. */
  text: string;
  /** The one link in the mail: logged when the mail goes to the outbox (no SMTP server configured). */
  link?: string;
}

export interface Mailer {
  /** Where mail goes: "smtp" or the outbox folder. */
  readonly destination: string;
  send(mail: Mail): Promise<void>;
  close(): void;
}

export type MailErrorCode = 'mail_failed';

export class MailError extends ConnectorError<MailErrorCode> {}

export interface MailerOptions {
  smtpUrl: string | null;
  from: string;
  dataDir: string;
  logger: Logger;
  /** Seconds to wait for the SMTP server at each stage (connect, greeting, each command). */
  timeoutSeconds?: number;
}

// nodemailer is loaded with the first mail, and each mailer's transport made then: most servers send none, and the
// package is about 2.6 MB of a server's heap that every full GC would mark (issue 16; src/heap.ts).
type Options = Parameters<(typeof import('nodemailer'))['createTransport']>[0];
function lazyTransport(options: Options): { get(): Promise<Transporter>; close(): void } {
  let transport: Promise<Transporter> | undefined;
  return {
    get: () => (transport ??= import('nodemailer').then((nodemailer) => nodemailer.default.createTransport(options))),
    close: () => void transport?.then((t) => t.close(), () => {}),
  };
}

export function createMailer(o: MailerOptions): Mailer {
  const timeout = (o.timeoutSeconds ?? 10) * 1000;
  if (o.smtpUrl) {
    const transport = lazyTransport({
      url: o.smtpUrl, // smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
    return {
      destination: 'smtp',
      async send(mail) {
        try {
          const info = await (await transport.get()).sendMail({ from: o.from, to: mail.to, subject: mail.subject, text: mail.text });
          o.logger.info({ messageId: info.messageId }, 'mail sent');
        } catch (err) {
          // The server's answer, never the mail (it carries the link).
          throw new MailError('mail_failed', `The mail server did not accept the mail: ${(err as Error).message}`, { cause: err });
        }
      },
      close: () => transport.close(),
    };
  }

  const outbox = join(o.dataDir, 'outbox');
  // The same message an SMTP server would receive, rendered by nodemailer without sending it.
  const render = lazyTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    destination: outbox,
    async send(mail) {
      const info = (await (await render.get()).sendMail({ from: o.from, to: mail.to, subject: mail.subject, text: mail.text })) as { message: Buffer };
      await mkdir(outbox, { recursive: true });
      const file = join(outbox, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`);
      await writeFile(file, info.message, { mode: 0o600 });
      // No mail server: the link is what a developer needs, so it is logged (never with SMTP_URL set).
      o.logger.info({ file, link: mail.link }, `mail written to the outbox (no SMTP_URL): ${mail.subject}`);
    },
    close: () => render.close(),
  };
}

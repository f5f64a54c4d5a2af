// A real SMTP server in the test process (smtp-server, from the nodemailer project): it accepts every mail and
// keeps what it received, so a test reads the mail a merchant would get and follows its link.
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './connector.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message as the server received it (headers and body). */
  raw: string;
}

export interface TestSmtp {
  url: string;
  mails: ReceivedMail[];
  /** Waits for the n-th mail (1-based) to arrive. */
  mail(n?: number): Promise<ReceivedMail>;
}

export async function startSmtp(t: ExecutionContext): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    mail: (n = 1) => waitFor(`mail #${n}`, () => mails[n - 1]),
  };
}

/** The plain-text body of a mail, with quoted-printable soft line breaks and escapes undone. */
export function mailText(raw: string): string {
  const body = raw.slice(raw.indexOf('\n\n') >= 0 ? raw.indexOf('\n\n') + 2 : raw.indexOf('\r\n\r\n') + 4);
  const qp = /content-transfer-encoding:\s*quoted-printable/i.test(raw);
  const text = body.replace(/\r\n/g, '\n');
  return qp ? text.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : text;
}

/** The reset link in a mail. */
export function linkIn(raw: string): string {
  const link = /https?:\/\/\S+\/account\/password\/reset\?token=[A-Za-z0-9_%-]+/.exec(mailText(raw))?.[0];
  if (!link) throw new Error(`no reset link in the mail:\n${raw}`);
  return link;
}

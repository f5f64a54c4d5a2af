// Logs (pino). Secrets never reach a log line: the paths below are redacted wherever they appear, and code logs
// binding ids and consumer keys, never token values.
// Format: readable lines on a terminal (pino-pretty, when installed), one JSON object per line otherwise or with
// LOG_FORMAT=json, which is what log collectors read.
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

export type { Logger };
export type LogFormat = 'auto' | 'pretty' | 'json';

const REDACT = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  '*.consumerSecret',
  '*.oauth_consumer_secret',
  '*.oauth_verifier',
  '*.verifier',
  '*.token',
  '*.accessToken',
  '*.requestToken',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

type PrettyFactory = (options: Record<string, unknown>) => NodeJS.WritableStream;

/** pino-pretty is a development dependency: a production install without it logs JSON. */
function prettyFactory(): PrettyFactory | null {
  try {
    return createRequire(import.meta.url)('pino-pretty') as PrettyFactory;
  } catch {
    return null;
  }
}

/**
 * A logger writing to `destination` (standard output by default). `auto` is pretty when that stream is a terminal.
 */
export function createLogger(
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: NodeJS.WritableStream,
  format: LogFormat = (process.env.LOG_FORMAT as LogFormat | undefined) ?? 'auto',
): Logger {
  const options = { level, base: undefined, redact: { paths: REDACT, censor: '[redacted]' } };
  const out = destination ?? process.stdout;
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  const pretty = format === 'pretty' || (format === 'auto' && tty) ? prettyFactory() : null;
  if (pretty) {
    // Synchronous, so the last lines before an exit are never lost.
    const stream = pretty({ destination: out, sync: true, colorize: tty, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
    return pino(options, stream as unknown as pino.DestinationStream);
  }
  return destination ? pino(options, destination as unknown as pino.DestinationStream) : pino(options);
}

// Structured JSON logs (pino). Secrets never reach a log line: the paths below are redacted wherever they appear,
// and code logs binding ids and consumer keys, never token values.
import { pino, type Logger } from 'pino';

export type { Logger };

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

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: undefined, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination as unknown as pino.DestinationStream) : pino(options);
}

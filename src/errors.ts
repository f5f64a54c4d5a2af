// One base for every error the connector raises on purpose. An error carries a stable snake_case `code` (programs
// and tests match on it; the HTTP layer maps codes to statuses in one table), a message a person can act on, and,
// where there is one, the fix to offer. Nothing but the HTTP layer decides how an error is shown.

export interface ConnectorErrorOptions extends ErrorOptions {
  /** What the person should do about it, in the words of the screen they will do it on. */
  fix?: string | null;
  /** For errors that clear by themselves (busy, throttled, unavailable): when to try again. */
  retryAfterSeconds?: number;
}

export class ConnectorError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly fix: string | null;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: Code, message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fix = options.fix ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isConnectorError(err: unknown): err is ConnectorError {
  return err instanceof ConnectorError;
}

// What the storage layer throws besides programming errors. StorageUnavailableError means "the database cannot
// serve us right now" (down, unreachable, locked for too long, not migrated): the HTTP layer answers 503 and
// readiness fails; nothing in it is the caller's fault.
import { ConnectorError } from '../errors.js';

export type StorageErrorCode = 'storage_error' | 'database_unavailable' | 'store_secrets_unreadable';

/** A stored row the code cannot read, or a write that kept racing: our fault, never the caller's. */
export class StorageError extends ConnectorError<StorageErrorCode> {
  constructor(message: string, options: ErrorOptions = {}, code: StorageErrorCode = 'storage_error') {
    super(code, message, { cause: options.cause, ...(code === 'database_unavailable' ? { retryAfterSeconds: 5 } : {}) });
  }
}

/**
 * A binding whose sealed credentials this instance cannot open (SECRETS_KEY lacks the key that sealed them, or the
 * stored value was altered): no call can be signed for that store until an operator acts. The cause is the sealer's
 * SealedValueError or SecretsKeyError; nothing secret is in the message.
 */
export class UnreadableBindingError extends ConnectorError<'store_secrets_unreadable'> {
  constructor(
    readonly bindingId: string,
    cause: Error,
  ) {
    super('store_secrets_unreadable', `This store's stored credentials cannot be opened by this instance (${cause.message}).`, {
      cause,
      fix: 'An operator must configure the SECRETS_KEY that sealed them (when rotating, keep the old key after the new one); otherwise delete the store and connect it again.',
    });
  }
}

export class StorageUnavailableError extends StorageError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options, 'database_unavailable');
  }
}

// Prisma's own codes for "could not reach / timed out / connection closed / pool exhausted".
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1003', 'P1008', 'P1010', 'P1011', 'P1017', 'P2024']);
// Driver-adapter error kinds (both adapters map their drivers' errors onto these).
const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'DatabaseAccessDenied',
  'AuthenticationFailed',
  'SocketTimeout', // also SQLite's SQLITE_BUSY once the busy timeout has run out
  'ConnectionClosed',
  'TooManyConnections',
  'TlsConnectionError',
  'TableDoesNotExist',
]);
// PostgreSQL SQLSTATEs: connection exceptions (08...), insufficient resources (53...), shutdown / cannot connect
// now (57P0x), statement timeout (57014).
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0)|^57014$/;
// Errors that reach us unmapped: pg-pool's connection timeout, pg's closed-connection errors, socket errors.
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|SQLITE_BUSY|SQLITE_CANTOPEN|database is locked|unable to open database file/;

interface Facts {
  codes: string[];
  kinds: string[];
  messages: string[];
}

function facts(error: unknown): Facts {
  const found: Facts = { codes: [], kinds: [], messages: [] };
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (!value || typeof value !== 'object' || seen.has(value) || depth > 6) return;
    seen.add(value);
    // Duck-typed: the two generated clients, the adapters and the drivers each bring their own error classes.
    const v = value as Record<string, unknown>;
    for (const key of ['code', 'originalCode', 'errorCode']) if (typeof v[key] === 'string') found.codes.push(v[key] as string);
    if (typeof v.kind === 'string') found.kinds.push(v.kind);
    if (typeof v.kind === 'string' && v.kind === 'postgres' && typeof v.code === 'string') found.codes.push(v.code);
    if (typeof v.message === 'string') found.messages.push(v.message);
    if (typeof v.originalMessage === 'string') found.messages.push(v.originalMessage);
    visit(v.cause, depth + 1);
    const meta = v.meta as Record<string, unknown> | undefined;
    if (meta && typeof meta === 'object') visit(meta.driverAdapterError, depth + 1);
  };
  visit(error, 0);
  return found;
}

function unavailableReason(error: unknown): string | null {
  const { codes, kinds, messages } = facts(error);
  // A database that refuses writes serves no sign-in, callback or token exchange: 503.
  // SQLite: SQLITE_READONLY* (a read-only file or directory); PostgreSQL: SQLSTATE 25006 read_only_sql_transaction
  // (default_transaction_read_only, a hot standby).
  if (
    codes.some((c) => c === '25006' || c.startsWith('SQLITE_READONLY')) ||
    messages.some((m) => /attempt to write a readonly database|SQLITE_READONLY|read-only transaction/.test(m))
  ) {
    return 'the database refuses writes (read-only): make the SQLite file and its folder writable, or point DATABASE_URL at a writable PostgreSQL primary';
  }
  if (kinds.includes('TableDoesNotExist')) return 'the database has no tables yet: run npm run db:migrate';
  if (kinds.includes('DatabaseDoesNotExist')) return 'the database named in DATABASE_URL does not exist';
  if (kinds.includes('AuthenticationFailed') || kinds.includes('DatabaseAccessDenied')) {
    return 'the database refused the credentials in DATABASE_URL';
  }
  if (kinds.includes('DatabaseNotReachable') || codes.includes('P1001')) {
    return 'cannot reach the database server: check that it is running and that DATABASE_URL points at it';
  }
  if (codes.includes('SQLITE_BUSY') || messages.some((m) => /database is locked|SQLITE_BUSY/.test(m))) {
    return 'the SQLite database stayed locked by another process longer than the busy timeout';
  }
  if (
    codes.some((c) => UNAVAILABLE_PRISMA_CODES.has(c) || UNAVAILABLE_SQLSTATE.test(c)) ||
    kinds.some((k) => UNAVAILABLE_KINDS.has(k)) ||
    messages.some((m) => UNAVAILABLE_MESSAGE.test(m))
  ) {
    return 'the database did not answer or dropped the connection';
  }
  return null;
}

/** Turns "the database cannot serve us" errors into StorageUnavailableError; returns anything else unchanged. */
export function toStorageError(error: unknown): unknown {
  if (error instanceof StorageError) return error;
  const reason = unavailableReason(error);
  if (!reason) return error;
  return new StorageUnavailableError(`database unavailable: ${reason}`, { cause: error });
}

/** The unique constraint a Prisma error reports as violated names `field` (P2002 from either adapter). */
export function isUniqueViolation(error: unknown, model: string, field: string): boolean {
  const e = error as { code?: unknown; meta?: { target?: unknown; driverAdapterError?: { cause?: { constraint?: unknown } } } };
  if (!e || e.code !== 'P2002') return false;
  const target = e.meta?.target;
  if (Array.isArray(target)) return target.includes(field);
  if (typeof target === 'string') return target === `${model}_${field}_key` || target === field;
  // Driver adapters report the constraint instead: SQLite names the fields, PostgreSQL the index.
  const constraint = e.meta?.driverAdapterError?.cause?.constraint as { fields?: unknown; index?: unknown } | undefined;
  if (Array.isArray(constraint?.fields)) return constraint.fields.includes(field);
  if (typeof constraint?.index === 'string') return constraint.index === `${model}_${field}_key`;
  return false;
}

/** Prisma's "record to update/delete not found". */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'P2025';
}

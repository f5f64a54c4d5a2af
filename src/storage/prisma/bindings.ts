// The binding repository: rows <-> records (secrets sealed on the way in, opened on the way out, here and nowhere
// else), and the conditional update every state change goes through.
import type { Clock } from '../../clock.js';
import { SIGNING_PROFILE_NAMES } from '../../protocol/signing-profiles.js';
import { sha256 } from '../../secrets/digest.js';
import { SealedValueError, SecretsKeyError, type Sealer } from '../../secrets/sealer.js';
import type { Binding as BindingRow } from '../generated/sqlite/client.js';
import { isNotFound, isUniqueViolation, StorageError, UnreadableBindingError } from '../errors.js';
import { eventStatements } from './webhooks.js';
import {
  BINDING_ORIGINS,
  BINDING_STATES,
  BINDING_STEPS,
  FIXES,
  type Binding,
  type BindingPatch,
  type BindingRepository,
  type TransitionEvents,
  type NewBinding,
  type TombstoneRepository,
} from '../types.js';
import { dateOrNull, type HotSql, type SqlDate, type SqlValue } from './hot-sql.js';
import { afterCursor, byCreation, pageOf, updated, type Db } from './shared.js';

type BindingColumns = Partial<Omit<BindingRow, 'id' | 'consumerKey' | 'version' | 'createdAt' | 'updatedAt'>>;

// How each patchable field is written: as it is, or sealed (toColumns). `satisfies` makes a new Binding field that
// is missing here a compile error, so no field can be silently dropped (or stored in clear) by a patch.
const FIELD_KIND = {
  storeBaseUrl: 'plain',
  state: 'plain',
  accountId: 'plain',
  callbackAt: 'plain',
  activatedAt: 'plain',
  revokedAt: 'plain',
  step: 'plain',
  stepUntil: 'plain',
  stepAttempts: 'plain',
  nextAttemptAt: 'plain',
  lastError: 'plain',
  lastErrorAt: 'plain',
  fix: 'plain',
  accessOutcomeUnknown: 'plain',
  signingProfile: 'plain',
  profileDetectedAt: 'plain',
  probeWarning: 'plain',
  probeWarningAt: 'plain',
  unavailableSince: 'plain',
  unavailableReason: 'plain',
  origin: 'plain',
  consumerSecret: 'sealed',
  verifier: 'sealed',
  requestToken: 'sealed',
  accessToken: 'sealed',
} as const satisfies Record<keyof BindingPatch, 'plain' | 'sealed'>;
type PlainField = { [F in keyof typeof FIELD_KIND]: (typeof FIELD_KIND)[F] extends 'plain' ? F : never }[keyof typeof FIELD_KIND];
const PLAIN_FIELDS = (Object.keys(FIELD_KIND) as (keyof typeof FIELD_KIND)[]).filter(
  (field): field is PlainField => FIELD_KIND[field] === 'plain',
);

// A Binding row as a hot statement gives it back (driver rows: dates as text, integers as bigint on SQLite, booleans
// as 0 / 1), made the row Prisma would have read. `satisfies` and the check below make a new date column that is
// missing here a compile error.
type DateColumn = { [K in keyof BindingRow]-?: BindingRow[K] extends Date | null ? K : never }[keyof BindingRow];
const DATE_COLUMNS = [
  'callbackAt', 'requestTokenAt', 'activatedAt', 'revokedAt', 'stepUntil', 'nextAttemptAt', 'lastErrorAt',
  'profileDetectedAt', 'nextProbeAt', 'lastCallOkAt', 'probeWarningAt', 'unavailableSince', 'createdAt', 'updatedAt',
] as const satisfies readonly DateColumn[];
const everyDateColumn: Exclude<DateColumn, (typeof DATE_COLUMNS)[number]> extends never ? true : never = true;
void everyDateColumn;

function driverRow(raw: Record<string, unknown>): BindingRow {
  const row: Record<string, unknown> = { ...raw };
  for (const column of DATE_COLUMNS) {
    row[column] = dateOrNull((row[column] ?? null) as SqlDate | null);
  }
  row.version = Number(row.version);
  row.stepAttempts = Number(row.stepAttempts);
  row.accessOutcomeUnknown = Boolean(row.accessOutcomeUnknown);
  return row as BindingRow;
}

/**
 * The conditional UPDATE ... RETURNING of one set of columns, as a template HotSql prepares once per connection: the
 * same array object for the same columns (a patch's columns come from FIELD_KIND and toColumns, so the shapes are
 * few; past UPDATE_SHAPES a shape is built each time, which only costs its preparation).
 */
const UPDATE_SHAPES = 256;
const updateShapes = new Map<string, TemplateStringsArray>();
function updateStatement(columns: readonly string[]): TemplateStringsArray {
  const key = columns.join(',');
  const known = updateShapes.get(key);
  if (known) return known;
  const parts: string[] = ['UPDATE "Binding" SET '];
  const append = (text: string) => (parts[parts.length - 1] += text);
  for (const column of columns) {
    if (!/^[A-Za-z]+$/.test(column)) throw new StorageError(`not a Binding column: ${JSON.stringify(column)}`);
    append(`"${column}" = `);
    parts.push(', ');
  }
  append('"updatedAt" = ');
  parts.push(', "version" = "version" + 1 WHERE "id" = ', ' AND "version" = ', ' RETURNING *');
  // A template object as the tagged-template call sites pass one (HotSql keys its prepared statements on it).
  const strings = Object.freeze(Object.assign([...parts], { raw: Object.freeze([...parts]) })) as unknown as TemplateStringsArray;
  if (updateShapes.size < UPDATE_SHAPES) updateShapes.set(key, strings);
  return strings;
}

// How often modify() re-reads and retries when other writers keep moving the row on.
const MODIFY_ATTEMPTS = 10;
const LAST_ERROR_MAX = 1_000;

export function bindingRepository(db: Db, sealer: Sealer, clock: Clock, tombstones: TombstoneRepository, sql: HotSql): BindingRepository {
  const seal = (v: string) => sealer.seal(v);
  const sealOrNull = (v: string | null) => (v === null ? null : sealer.seal(v));

  /** A row as a record; secrets that cannot be opened make an UnreadableBindingError (a 503 with a fix, not a 500). */
  const toBinding = (row: BindingRow): Binding => {
    try {
      return readRow(row, sealer);
    } catch (err) {
      if (err instanceof SealedValueError || err instanceof SecretsKeyError) throw new UnreadableBindingError(row.id, err);
      throw err;
    }
  };

  /**
   * A row in a list (the account's stores, the operator's pages, the CLI): one whose secrets cannot be opened is still
   * listed, with none of them and its lastError saying why, so that one such row does not make the whole list a 503
   * (its own description and calls still answer 503 store_secrets_unreadable).
   */
  const listed = (row: BindingRow): Binding => {
    try {
      return toBinding(row);
    } catch (err) {
      if (!(err instanceof UnreadableBindingError)) throw err;
      return { ...readable(row), requestToken: null, accessToken: null, lastError: `${err.message} ${err.fix ?? ''}`.trim(), lastErrorAt: row.updatedAt };
    }
  };

  /** A row as a record, its sealed values opened by `sealer` (shadowing the repository's: see readable()). */
  function readRow(row: BindingRow, sealer: Pick<Sealer, 'open'>): Binding {
    let requestToken: Binding['requestToken'] = null;
    if (row.requestTokenSealed !== null) {
      if (row.requestTokenSecretSealed === null || row.requestVerifierSealed === null || row.requestTokenAt === null) {
        throw new StorageError(`binding ${row.id}: request token stored without its secret, verifier or time`);
      }
      requestToken = {
        token: sealer.open(row.requestTokenSealed),
        secret: sealer.open(row.requestTokenSecretSealed),
        verifier: sealer.open(row.requestVerifierSealed),
        at: row.requestTokenAt,
      };
    }
    let accessToken: Binding['accessToken'] = null;
    if (row.accessTokenSealed !== null) {
      if (row.accessTokenSecretSealed === null) throw new StorageError(`binding ${row.id}: access token stored without its secret`);
      accessToken = {
        token: sealer.open(row.accessTokenSealed),
        secret: sealer.open(row.accessTokenSecretSealed),
        verifier: row.accessVerifierSealed === null ? null : sealer.open(row.accessVerifierSealed),
      };
    }
    return {
      id: row.id,
      consumerKey: row.consumerKey,
      storeBaseUrl: row.storeBaseUrl,
      state: oneOf(BINDING_STATES, row.state, 'state', row.id),
      accountId: row.accountId,
      consumerSecret: sealer.open(row.consumerSecretSealed),
      verifier: row.verifierSealed === null ? null : sealer.open(row.verifierSealed),
      callbackAt: row.callbackAt,
      requestToken,
      accessToken,
      activatedAt: row.activatedAt,
      revokedAt: row.revokedAt,
      step: row.step === null ? null : oneOf(BINDING_STEPS, row.step, 'step', row.id),
      stepUntil: row.stepUntil,
      stepAttempts: row.stepAttempts,
      nextAttemptAt: row.nextAttemptAt,
      lastError: row.lastError,
      lastErrorAt: row.lastErrorAt,
      fix: row.fix === null ? null : oneOf(FIXES, row.fix, 'fix', row.id),
      accessOutcomeUnknown: row.accessOutcomeUnknown,
      signingProfile: row.signingProfile === null ? null : oneOf(SIGNING_PROFILE_NAMES, row.signingProfile, 'signingProfile', row.id),
      profileDetectedAt: row.profileDetectedAt,
      origin: oneOf(BINDING_ORIGINS, row.origin, 'origin', row.id),
      probeWarning: row.probeWarning,
      probeWarningAt: row.probeWarningAt,
      unavailableSince: row.unavailableSince,
      unavailableReason: row.unavailableReason,
      version: row.version,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  /** A row whose sealed values cannot be opened, as modifyUnreadable hands it on: each sealed value held reads "". */
  function readable(row: BindingRow): Binding {
    const held = (v: string | null) => (v === null ? null : '');
    return readRow({
      ...row,
      consumerSecretSealed: '',
      verifierSealed: held(row.verifierSealed),
      requestTokenSealed: held(row.requestTokenSealed),
      requestTokenSecretSealed: held(row.requestTokenSecretSealed),
      requestVerifierSealed: held(row.requestVerifierSealed),
      accessTokenSealed: held(row.accessTokenSealed),
      accessTokenSecretSealed: held(row.accessTokenSecretSealed),
      accessVerifierSealed: held(row.accessVerifierSealed),
    }, { open: (v) => v });
  }

  /** The columns a patch writes; fields it leaves undefined stay as they are. */
  function toColumns(patch: BindingPatch): BindingColumns {
    const { consumerSecret, verifier, requestToken, accessToken } = patch;
    const columns: BindingColumns = {};
    // Copied field by field: a caller that spreads a whole Binding into a patch must not write id, version...
    for (const field of PLAIN_FIELDS) {
      if (patch[field] !== undefined) (columns as Record<string, unknown>)[field] = patch[field];
    }
    // A store's error text can be large (64 KB of oauth_problem): never store more than a person reads (issue 13).
    if (typeof columns.lastError === 'string' && columns.lastError.length > LAST_ERROR_MAX) columns.lastError = columns.lastError.slice(0, LAST_ERROR_MAX);
    if (consumerSecret !== undefined) columns.consumerSecretSealed = seal(consumerSecret);
    if (verifier !== undefined) columns.verifierSealed = sealOrNull(verifier);
    if (requestToken !== undefined) {
      columns.requestTokenSealed = requestToken && seal(requestToken.token);
      columns.requestTokenSecretSealed = requestToken && seal(requestToken.secret);
      columns.requestVerifierSealed = requestToken && seal(requestToken.verifier);
      columns.requestTokenAt = requestToken && requestToken.at;
    }
    if (accessToken !== undefined) {
      columns.accessTokenSealed = accessToken && seal(accessToken.token);
      columns.accessTokenSecretSealed = accessToken && seal(accessToken.secret);
      columns.accessVerifierSealed = accessToken && sealOrNull(accessToken.verifier);
    }
    return columns;
  }

  const repository: BindingRepository = {
    async create(binding: NewBinding) {
      // Raw SQL on purpose: this is the callback's only query, and Prisma's create costs about 2.5 ms of CPU on
      // SQLite against 0.5 ms for the statement itself (bench/activation-storm.ts). ON CONFLICT DO NOTHING works on
      // both providers and answers a repeated consumer key with 0 rows instead of an error.
      const now = clock.now();
      // create() is the callback's way in: its bindings are always of origin `callback` (insert() takes others).
      const fresh = freshBinding({ ...binding, origin: 'callback' }, now);
      const inserted = await sql.run`
        INSERT INTO "Binding" ("id", "consumerKey", "storeBaseUrl", "state", "accountId", "consumerSecretSealed", "verifierSealed",
          "callbackAt", "nextAttemptAt", "stepAttempts", "accessOutcomeUnknown", "origin", "version", "createdAt", "updatedAt")
        VALUES (${fresh.id}, ${fresh.consumerKey}, ${fresh.storeBaseUrl}, ${fresh.state}, ${fresh.accountId}, ${seal(fresh.consumerSecret)},
          ${sealOrNull(fresh.verifier)}, ${fresh.callbackAt}, ${fresh.nextAttemptAt}, 0, false, ${fresh.origin}, 0, ${now}, ${now})
        ON CONFLICT ("consumerKey") DO NOTHING`;
      // The row as written (nothing to open again: the values were in hand before sealing).
      return inserted === 0 ? null : fresh;
    },
    async insert(binding, patch, events) {
      const now = clock.now();
      // accountId comes with the patch (the transition), so the event sees it change.
      const before: Binding = { ...freshBinding(binding, now), accountId: null };
      const after = projected(before, patch, -1, now); // version 0: the row as inserted
      const { id, consumerKey, origin } = after;
      const data = { id, consumerKey, origin, ...toColumns({ ...after }), createdAt: now, updatedAt: now, version: 0 };
      // toColumns copies only patchable fields: consumerSecret is one, so every column of the row is written here.
      const write = db.binding.create({ data: data as Parameters<Db['binding']['create']>[0]['data'] });
      const statements = events ? (await events(before, after)).flatMap((e) => eventStatements(db, e)) : [];
      try {
        const rows = await db.$transaction([write, ...statements]);
        return toBinding(rows[0] as BindingRow);
      } catch (error) {
        if (isUniqueViolation(error, 'Binding', 'consumerKey')) return null;
        throw error;
      }
    },
    async byId(id) {
      // Raw through HotSql: every step of an activation and every cache miss of a call reads its binding (Prisma's
      // findUnique cost 1-3 ms of CPU in a storm of activations, issue 16).
      const [row] = await sql.rows<Record<string, unknown>>`SELECT * FROM "Binding" WHERE "id" = ${id}`;
      return row ? toBinding(driverRow(row)) : null;
    },
    async byConsumerKey(consumerKey) {
      const row = await db.binding.findUnique({ where: { consumerKey } });
      return row && toBinding(row);
    },
    async listByAccount(accountId) {
      return (await db.binding.findMany({ where: { accountId }, orderBy: byCreation })).map(listed);
    },
    async list() {
      return (await db.binding.findMany({ orderBy: byCreation })).map(listed);
    },
    async page({ limit, after, accountId }) {
      const where = { ...afterCursor(after), ...(accountId === undefined ? {} : { accountId }) };
      return pageOf(await db.binding.findMany({ where, orderBy: byCreation, take: limit + 1 }), limit, listed);
    },
    async update(id, version, patch, emit) {
      // One statement (UPDATE ... WHERE id = ? AND version = ? RETURNING ...) on both backends: of two writers
      // holding the same version, exactly one matches the row.
      const now = clock.now();
      const columns = toColumns(patch);
      const events = emit ? await emit.events(emit.before, projected(emit.before, patch, version, now)) : [];
      if (events.length === 0) {
        // Raw through HotSql, like byId: each activation step writes its binding two or three times.
        const names = Object.keys(columns) as (keyof BindingColumns)[];
        const values = names.map((name) => columns[name] as SqlValue);
        const [row] = await sql.rows<Record<string, unknown>>(updateStatement(names), ...values, now, id, version);
        return row ? toBinding(driverRow(row)) : null;
      }
      const write = db.binding.update({ where: { id, version }, data: { ...columns, updatedAt: now, version: { increment: 1 } } });
      // A batch transaction: the conditional update first (a lost race fails it with P2025 and nothing is written),
      // then the outbox rows, sent together, so no lock is held across our own awaits (prisma/webhooks.ts).
      const rows = await updated(db.$transaction([write, ...events.flatMap((e) => eventStatements(db, e))]));
      return rows && toBinding(rows[0] as BindingRow);
    },
    async modify(id, change, known, events) {
      const attempt = async (current: Binding) => {
        const patch = change(current);
        if (!patch) return { patch, done: null };
        const emit = events ? { before: current, events } : undefined;
        return { patch, done: await repository.update(id, current.version, patch, emit) };
      };
      // `known` (a row the caller just wrote, e.g. its claim) is tried first: usually nobody moved it on, and a read
      // is saved; if someone did, the conditional update fails and the loop reads the row.
      if (known) {
        const { done } = await attempt(known);
        if (done) return done;
      }
      for (let i = 0; i < MODIFY_ATTEMPTS; i++) {
        const current = await repository.byId(id);
        if (!current) return null;
        const { patch, done } = await attempt(current);
        if (!patch) return current;
        if (done) return done;
      }
      throw new StorageError(`binding ${id} kept changing under us (${MODIFY_ATTEMPTS} attempts)`);
    },
    async delete(id, accountId, events) {
      if (!events) {
        // The consumer key stays reserved for its secret and account (issue 13): the tombstone is written before the
        // row goes, so there is no moment in which the key is free.
        const where = accountId === undefined ? { id } : { id, accountId };
        const row = await db.binding.findFirst({ where });
        if (!row) return false;
        await tombstones.put(tombstoneOf(row.consumerKey, sealer.open(row.consumerSecretSealed), row.accountId, clock.now()));
        const { count } = await db.binding.deleteMany({ where });
        return count > 0;
      }
      return deleteWithEvents(id, accountId, events);
    },
    async due(now, limit) {
      // Every instance asks every second: raw through HotSql (Prisma's query compiler cost ~0.2-0.3 ms of CPU a call
      // on an idle instance). No state filter: nextAttemptAt is set only while there is request-token work (index
      // [nextAttemptAt, stepUntil]). Nothing sealed: the step re-reads its binding, and a row that cannot be opened
      // fails only its own step.
      const rows = await sql.rows<{ id: string; consumerKey: string; storeBaseUrl: string; nextAttemptAt: SqlDate | null }>`
        SELECT "id", "consumerKey", "storeBaseUrl", "nextAttemptAt" FROM "Binding"
        WHERE "nextAttemptAt" <= ${now} AND ("stepUntil" IS NULL OR "stepUntil" <= ${now}) ORDER BY "nextAttemptAt", "id" LIMIT ${limit}`;
      return rows.map((r) => ({ ...r, nextAttemptAt: dateOrNull(r.nextAttemptAt) }));
    },
    async modifyUnreadable(id, change, events) {
      const row = await db.binding.findUnique({ where: { id } });
      if (!row) return false;
      try {
        toBinding(row);
        return false; // it opens (the key is back): the ordinary steps handle it
      } catch {
        // cannot be opened: go on with what can be read
      }
      const before = readable(row);
      const patch = change(before);
      if (!patch) return false;
      const now = clock.now();
      const write = db.binding.update({ where: { id, version: row.version }, data: { ...toColumns(patch), updatedAt: now, version: { increment: 1 } }, select: { id: true } });
      const emitted = events ? await events(before, projected(before, patch, row.version, now)) : [];
      if (emitted.length === 0) return (await updated(write)) !== null;
      return (await updated(db.$transaction([write, ...emitted.flatMap((e) => eventStatements(db, e))]))) !== null;
    },
    async countByAccount(accountId) {
      // One round trip on the callback path (index [accountId]); COUNT is a bigint on PostgreSQL.
      const [row] = await sql.rows<{ all: bigint | number; pending: bigint | number | null }>`
        SELECT COUNT(*) AS "all",
          SUM(CASE WHEN "activatedAt" IS NULL AND "state" <> 'active' THEN 1 ELSE 0 END) AS "pending"
        FROM "Binding" WHERE "accountId" = ${accountId}`;
      return { all: Number(row?.all ?? 0), pending: Number(row?.pending ?? 0) };
    },
    async trimPending(accountId, keep) {
      const stale = await db.binding.findMany({
        where: { accountId, activatedAt: null, state: { not: 'active' } },
        orderBy: [{ callbackAt: 'desc' }, { id: 'desc' }],
        skip: keep,
        select: { id: true },
      });
      if (!stale.length) return 0;
      return (await db.binding.deleteMany({ where: { id: { in: stale.map((r) => r.id) }, activatedAt: null, state: { not: 'active' } } })).count;
    },
    async deleteAbandoned(before) {
      return (await db.binding.deleteMany({ where: { activatedAt: null, state: { not: 'active' }, callbackAt: { lt: before } } })).count;
    },
  };

  /** A deletion and its events in one batch transaction, conditional on the version the events describe. */
  async function deleteWithEvents(id: string, accountId: string | undefined, events: TransitionEvents): Promise<boolean> {
    for (let i = 0; i < MODIFY_ATTEMPTS; i++) {
      const current = await repository.byId(id);
      if (!current || (accountId !== undefined && current.accountId !== accountId)) return false;
      const statements = (await events(current, null)).flatMap((e) => eventStatements(db, e));
      try {
        // The tombstone (issue 13) in the same transaction: the key is never free, and never reserved for a row
        // that was not deleted.
        const tomb = tombstoneOf(current.consumerKey, current.consumerSecret, current.accountId, clock.now());
        const { consumerKeyHash, ...rest } = tomb;
        await db.$transaction([
          db.consumerKeyTombstone.upsert({ where: { consumerKeyHash }, create: tomb, update: rest }),
          db.binding.delete({ where: { id, version: current.version } }),
          ...statements,
        ]);
        return true;
      } catch (error) {
        if (!isNotFound(error)) throw error; // moved on (or deleted) meanwhile: look again
      }
    }
    throw new StorageError(`binding ${id} kept changing under us (${MODIFY_ATTEMPTS} attempts)`);
  }
  return repository;
}

/** The binding as an update of `before` (at `version`) with `patch` at `now` leaves it. */
function projected(before: Binding, patch: BindingPatch, version: number, now: Date): Binding {
  const after: Binding = { ...before, version: version + 1, updatedAt: now };
  for (const [field, value] of Object.entries(patch)) if (value !== undefined) (after as unknown as Record<string, unknown>)[field] = value;
  return after;
}

function oneOf<T extends string>(allowed: readonly T[], value: string, column: string, id: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new StorageError(`binding ${id}: unknown ${column} "${value}" in the database`);
}

function tombstoneOf(consumerKey: string, consumerSecret: string, accountId: string | null, deletedAt: Date) {
  return { consumerKeyHash: sha256(consumerKey), consumerSecretHash: sha256(consumerSecret), accountId, deletedAt };
}

/** A binding as a new row holds it: the given fields, every other one at its column's default. */
function freshBinding(b: NewBinding, now: Date): Binding {
  return {
    id: b.id,
    consumerKey: b.consumerKey,
    storeBaseUrl: b.storeBaseUrl,
    state: b.state,
    accountId: b.accountId ?? null,
    consumerSecret: b.consumerSecret,
    verifier: b.verifier,
    callbackAt: b.callbackAt,
    requestToken: null,
    accessToken: null,
    activatedAt: null,
    revokedAt: null,
    step: null,
    stepUntil: null,
    stepAttempts: 0,
    nextAttemptAt: b.nextAttemptAt ?? null,
    lastError: null,
    lastErrorAt: null,
    fix: null,
    accessOutcomeUnknown: false,
    signingProfile: null,
    profileDetectedAt: null,
    origin: b.origin ?? 'callback',
    probeWarning: null,
    probeWarningAt: null,
    unavailableSince: null,
    unavailableReason: null,
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
}

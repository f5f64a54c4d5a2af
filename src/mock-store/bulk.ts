// Asynchronous and bulk web API (Magento_WebapiAsync + Magento_AsynchronousOperations): POST/PUT/DELETE
// {base}rest[/<code>]/async[/bulk]/V1/... schedules operations and answers 202 with the bulk UUID and one request
// item per entity (MassSchedule::publishMass); a consumer runs them later; GET /V1/bulk/:uuid/status and
// .../detailed-status report each operation's status (OperationInterface::STATUS_TYPE_*).
// Here the "consumer" is a timer (processAfterMs) or the process knob.
import { createHash, randomUUID } from 'node:crypto';
import { MagentoException } from './errors.js';

/** OperationInterface: 1 complete, 2 retriably failed, 3 not retriably failed, 4 open, 5 rejected. */
export const OPERATION_STATUS = { complete: 1, retriablyFailed: 2, notRetriablyFailed: 3, open: 4, rejected: 5 } as const;
export type OperationStatus = (typeof OPERATION_STATUS)[keyof typeof OPERATION_STATUS];

export interface BulkOperation {
  id: number;
  bulk_uuid: string;
  topic_name: string;
  serialized_data: string;
  result_serialized_data: string | null;
  status: OperationStatus;
  result_message: string | null;
  error_code: number | null;
}

interface QueuedOperation extends BulkOperation {
  run: (() => unknown) | null;
}

export interface Bulk {
  uuid: string;
  description: string;
  start_time: string;
  /** UserContextInterface::USER_TYPE_INTEGRATION = 1; the mock records the integration id as user_id. */
  user_type: number;
  user_id: number | null;
  operations: QueuedOperation[];
}

export interface RequestItem {
  id: number;
  data_hash: string | null;
  status: 'accepted' | 'rejected';
  error_message?: string;
}

export interface ScheduleItem {
  data: unknown;
  /** null = rejected at schedule time, with `error`. */
  run: (() => unknown) | null;
  error?: string;
}

export interface BulkFailure {
  count: number;
  status: 2 | 3;
  message: string;
}

const mysqlDate = (d: Date): string => d.toISOString().slice(0, 19).replace('T', ' ');

export class BulkQueue {
  private readonly bulks = new Map<string, Bulk>();
  private nextOperationId = 1;
  private timers = new Set<NodeJS.Timeout>();
  private failures: BulkFailure[] = [];

  constructor(
    private readonly now: () => Date,
    /** Real milliseconds after which a scheduled bulk is processed; null = only by the knob. */
    public processAfterMs: number | null,
  ) {}

  schedule(topic: string, items: ScheduleItem[], userId: number | null): { bulk: Bulk; requestItems: RequestItem[] } {
    const uuid = randomUUID();
    const bulk: Bulk = {
      uuid,
      description: `Topic ${topic}`,
      start_time: mysqlDate(this.now()),
      user_type: 1,
      user_id: userId,
      operations: [],
    };
    const requestItems: RequestItem[] = items.map((item, index) => {
      const serialized = JSON.stringify(item.data ?? null);
      if (!item.run) {
        return { id: index, data_hash: null, status: 'rejected', error_message: item.error ?? 'Invalid request item' };
      }
      bulk.operations.push({
        id: this.nextOperationId++,
        bulk_uuid: uuid,
        topic_name: topic,
        serialized_data: serialized,
        result_serialized_data: null,
        status: OPERATION_STATUS.open,
        result_message: null,
        error_code: null,
        run: item.run,
      });
      return { id: index, data_hash: createHash('sha256').update(serialized).digest('hex'), status: 'accepted' };
    });
    for (const [index, item] of items.entries()) {
      if (!item.run) {
        bulk.operations.push({
          id: this.nextOperationId++,
          bulk_uuid: uuid,
          topic_name: topic,
          serialized_data: JSON.stringify(item.data ?? null),
          result_serialized_data: null,
          status: OPERATION_STATUS.rejected,
          result_message: requestItems[index]!.error_message ?? null,
          error_code: null,
          run: null,
        });
      }
    }
    this.bulks.set(uuid, bulk);
    if (this.processAfterMs !== null) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.process(uuid);
      }, this.processAfterMs);
      timer.unref();
      this.timers.add(timer);
    }
    return { bulk, requestItems };
  }

  /** The next `count` operations processed end with this status and message instead of running. */
  failNext(failure: BulkFailure): void {
    this.failures.push({ ...failure });
  }

  /** Runs the open operations of one bulk (or of all): the message queue consumer. Returns how many ran. */
  process(uuid?: string): number {
    let n = 0;
    for (const bulk of uuid ? [this.bulks.get(uuid)].filter((b): b is Bulk => !!b) : [...this.bulks.values()]) {
      for (const op of bulk.operations) {
        if (op.status !== OPERATION_STATUS.open || !op.run) continue;
        n++;
        const failure = this.failures[0];
        if (failure) {
          if (--failure.count <= 0) this.failures.shift();
          Object.assign(op, { status: failure.status, result_message: failure.message, error_code: 0 });
          continue;
        }
        try {
          const result = op.run();
          Object.assign(op, { status: OPERATION_STATUS.complete, result_serialized_data: JSON.stringify(result ?? null) });
        } catch (e) {
          // OperationProcessor: a LocalizedException is not retriable; anything else (a lock, a deadlock) is.
          const localized = e instanceof MagentoException && e.kind !== 'internal';
          Object.assign(op, {
            status: localized ? OPERATION_STATUS.notRetriablyFailed : OPERATION_STATUS.retriablyFailed,
            result_message: e instanceof Error ? e.message : String(e),
            error_code: 0,
          });
        }
      }
    }
    return n;
  }

  get(uuid: string): Bulk | undefined {
    return this.bulks.get(uuid);
  }

  /** BulkStatus::getBulkDetailedStatus / getBulkShortStatus */
  status(uuid: string, detailed: boolean): Record<string, unknown> {
    const bulk = this.bulks.get(uuid);
    if (!bulk) throw new MagentoException('noSuchEntity', 'Bulk uuid %bulkUuid not exist', { bulkUuid: uuid });
    const operations_list = bulk.operations.map((op) =>
      detailed
        ? {
            id: op.id,
            bulk_uuid: op.bulk_uuid,
            topic_name: op.topic_name,
            serialized_data: op.serialized_data,
            result_serialized_data: op.result_serialized_data,
            status: op.status,
            result_message: op.result_message,
            error_code: op.error_code,
          }
        : { id: op.id, status: op.status, result_message: op.result_message, error_code: op.error_code },
    );
    return {
      operations_list,
      user_type: bulk.user_type,
      bulk_id: bulk.uuid,
      description: bulk.description,
      start_time: bulk.start_time,
      user_id: bulk.user_id,
      operation_count: bulk.operations.length,
    };
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

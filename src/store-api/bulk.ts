// Magento's asynchronous and bulk web API, read into types: the 202 answer of `/rest/async[/bulk]/V1/...`
// (MassSchedule: bulk_uuid and one request item per entity) and `GET /V1/bulk/:uuid/detailed-status`
// (OperationInterface statuses 1 complete, 2 retriably failed, 3 failed, 4 open, 5 rejected).
import { CallError } from './errors.js';

export interface BulkRequestItem {
  id: number;
  /** sha256 of the item as Magento queued it; null for a rejected item. */
  dataHash: string | null;
  status: 'accepted' | 'rejected';
  errorMessage: string | null;
}

export interface BulkAccepted {
  bulkUuid: string;
  requestItems: BulkRequestItem[];
  /** Magento's `errors`: true when any item was rejected. */
  errors: boolean;
}

export type BulkOperationStatus = 'complete' | 'retriable' | 'failed' | 'open' | 'rejected';

export interface BulkOperation {
  id: number;
  topicName: string | null;
  status: BulkOperationStatus;
  /** Magento's number for the status (1-5). */
  statusCode: number;
  resultMessage: string | null;
  errorCode: number | null;
  /** The operation's input as Magento serialised it (parsed when it is JSON). */
  data: unknown;
  /** What the operation returned (parsed when it is JSON), null until it ran. */
  result: unknown;
}

export interface BulkSummary {
  bulkUuid: string;
  description: string | null;
  startTime: string | null;
  operationCount: number;
  complete: number;
  retriable: number;
  failed: number;
  open: number;
  rejected: number;
  /** No operation is open: every one completed, failed or was rejected. */
  finished: boolean;
  operations: BulkOperation[];
}

const STATUS: Record<number, BulkOperationStatus> = { 1: 'complete', 2: 'retriable', 3: 'failed', 4: 'open', 5: 'rejected' };

const unexpected = (what: string): CallError =>
  new CallError('magento_error', `Magento's ${what} answer is not what Magento sends (no bulk_uuid or operations_list); is this a Magento store with Magento_AsynchronousOperations?`);

export function bulkAccepted(raw: unknown): BulkAccepted {
  const body = raw as { bulk_uuid?: unknown; request_items?: unknown; errors?: unknown } | null;
  if (!body || typeof body.bulk_uuid !== 'string') throw unexpected('async/bulk');
  const items = Array.isArray(body.request_items) ? body.request_items : [];
  return {
    bulkUuid: body.bulk_uuid,
    requestItems: items.map((i: Record<string, unknown>) => ({
      id: Number(i.id),
      dataHash: typeof i.data_hash === 'string' ? i.data_hash : null,
      status: i.status === 'rejected' ? 'rejected' : 'accepted',
      errorMessage: typeof i.error_message === 'string' ? i.error_message : null,
    })),
    errors: body.errors === true,
  };
}

function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function bulkSummary(raw: unknown): BulkSummary {
  const body = raw as Record<string, unknown> | null;
  if (!body || !Array.isArray(body.operations_list)) throw unexpected('bulk detailed-status');
  const operations: BulkOperation[] = (body.operations_list as Record<string, unknown>[]).map((op) => {
    const statusCode = Number(op.status);
    return {
      id: Number(op.id),
      topicName: typeof op.topic_name === 'string' ? op.topic_name : null,
      status: STATUS[statusCode] ?? 'open',
      statusCode,
      resultMessage: typeof op.result_message === 'string' ? op.result_message : null,
      errorCode: typeof op.error_code === 'number' ? op.error_code : null,
      data: parsed(op.serialized_data),
      result: parsed(op.result_serialized_data),
    };
  });
  const count = (s: BulkOperationStatus) => operations.filter((o) => o.status === s).length;
  const listed = operations.length;
  const operationCount = typeof body.operation_count === 'number' ? body.operation_count : listed;
  // Operations Magento counts but has not listed yet are still open.
  const open = count('open') + Math.max(0, operationCount - listed);
  return {
    bulkUuid: String(body.bulk_id ?? ''),
    description: typeof body.description === 'string' ? body.description : null,
    startTime: typeof body.start_time === 'string' ? body.start_time : null,
    operationCount,
    complete: count('complete'),
    retriable: count('retriable'),
    failed: count('failed'),
    open,
    rejected: count('rejected'),
    finished: open === 0,
    operations,
  };
}

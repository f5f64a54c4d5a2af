// Every error the protocol layer raises is a ProtocolError and so a ConnectorError (src/errors.ts), named after its
// class, with the code callers match on. The codes are public API: this list is the contract.
import test from 'ava';
import { ConnectorError } from '../../src/errors.js';
import { ProtocolError, QueryError, SigningError } from '../../src/protocol/errors.js';
import { MagentoOAuthProblem, UnexpectedStoreResponse } from '../../src/protocol/magento-errors.js';
import {
  EgressDeniedError,
  InvalidRequestError,
  RequestAbortedError,
  RequestTooLargeError,
  ResponseTooLargeError,
  TransportError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../../src/protocol/transport-errors.js';
import { failedBeforeSending, isRetryable, isTransportError } from '../../src/protocol/failures.js';

const cases: Array<[ProtocolError, string, string]> = [
  [new SigningError('ambiguous_path', 'm'), 'SigningError', 'ambiguous_path'],
  [new QueryError('duplicate_parameter', 'm'), 'QueryError', 'duplicate_parameter'],
  [new MagentoOAuthProblem(401, 'Consumer key has expired'), 'MagentoOAuthProblem', 'magento_oauth_problem'],
  [new UnexpectedStoreResponse(502, 'a gateway'), 'UnexpectedStoreResponse', 'unexpected_store_response'],
  [new EgressDeniedError('10.0.0.1', 80, '10.0.0.1'), 'EgressDeniedError', 'egress_denied'],
  [new UpstreamTimeoutError('s.example', 443, 'connect', 5), 'UpstreamTimeoutError', 'upstream_timeout'],
  [new UpstreamUnreachableError('s.example', 443, 'reset', 'response', false), 'UpstreamUnreachableError', 'upstream_unreachable'],
  [new ResponseTooLargeError('s.example', 443, 10), 'ResponseTooLargeError', 'response_too_large'],
  [new RequestTooLargeError(11, 10), 'RequestTooLargeError', 'request_too_large'],
  [new RequestAbortedError('s.example', 443), 'RequestAbortedError', 'request_aborted'],
  [new InvalidRequestError('bad header'), 'InvalidRequestError', 'invalid_request'],
];

test('one root: every protocol error is a ProtocolError and a ConnectorError, named after its class, code kept', (t) => {
  for (const [err, name, code] of cases) {
    t.true(err instanceof ProtocolError, name);
    t.true(err instanceof ConnectorError, name);
    t.is(err.name, name);
    t.is(err.code, code);
    t.is(err.fix, null);
  }
  const transport = cases.filter(([err]) => err instanceof TransportError).map(([, name]) => name);
  t.deepEqual(transport, [
    'EgressDeniedError',
    'UpstreamTimeoutError',
    'UpstreamUnreachableError',
    'ResponseTooLargeError',
    'RequestTooLargeError',
    'RequestAbortedError',
    'InvalidRequestError',
  ]);
});

test('failure classification: retryable, never sent, transport or not', (t) => {
  const connectTimeout = new UpstreamTimeoutError('s.example', 443, 'connect', 5);
  const responseTimeout = new UpstreamTimeoutError('s.example', 443, 'response', 5);
  const reset = new UpstreamUnreachableError('s.example', 443, 'reset', 'response', false);
  const denied = new EgressDeniedError('10.0.0.1', 80, '10.0.0.1');
  t.deepEqual(
    [connectTimeout, responseTimeout, reset, denied, new UnexpectedStoreResponse(503, 'x'), new UnexpectedStoreResponse(404, 'x')].map(isRetryable),
    [true, true, true, false, true, false],
  );
  t.deepEqual([connectTimeout, responseTimeout, reset, denied, new RequestAbortedError('s', 1)].map(failedBeforeSending), [true, false, false, true, false]);
  t.deepEqual([denied, new MagentoOAuthProblem(400, 'x'), new Error('x')].map(isTransportError), [true, false, false]);
});

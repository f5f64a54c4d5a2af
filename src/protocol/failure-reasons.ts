// Short reasons a person can act on, for the transport's UpstreamUnreachableError (node and axios report failures as
// error codes, sometimes nested in an AggregateError).

export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy eyeballs (several addresses) fails with an AggregateError whose parts carry the codes.
  const parts = (err as { errors?: unknown }).errors;
  return Array.isArray(parts) ? parts.map(errorCode).find((c) => c !== undefined) : undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error && err.message ? err.message : String(err);
}

const TLS_CODE = /^(CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|ERR_TLS_|ERR_SSL_|EPROTO$|HOSTNAME_MISMATCH)/;

/** Why a connection or request failed, for the error code `code` (and its cause, for TLS details). */
export function describeFailure(code: string | undefined, cause: unknown, host: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the store running and listening on this port?)';
    case 'ENOTFOUND':
      return "host name not found in DNS; check the store's host name";
    case 'EAI_AGAIN':
      return 'DNS lookup failed temporarily; try again later';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'EPIPE':
      return 'the server closed the connection while the request was being sent';
    case 'EHOSTUNREACH':
      return 'host unreachable (no route to the store)';
    case 'ENETUNREACH':
      return 'network unreachable (no route to the store)';
    case 'ERR_BAD_RESPONSE':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return 'the connection closed before the response was complete';
  }
  if (code && TLS_CODE.test(code)) {
    return (
      `TLS handshake failed (${messageOf(cause)}); the store needs a valid certificate for ${host} ` +
      'issued by a public certificate authority'
    );
  }
  if (code?.startsWith('HPE_')) return 'the server sent an invalid HTTP response';
  return messageOf(cause);
}

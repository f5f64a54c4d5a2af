// Reading what is left of a request body we refuse. Answering while the client is still sending, then closing, makes
// the kernel reset the connection (unread data on close), and a client that is still writing often sees that reset
// instead of our 413/415/400. So a refused request's body is read and dropped first, up to a bound; past it the
// connection is closed after the answer (a reset is then the client's problem, not a lost message).
import type { IncomingMessage } from 'node:http';

/** At most this much is read and dropped (far above any form or API body we accept). */
export const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
/**
 * And for at most this long: a client trickling a body does not hold the answer back for ever. Generous on purpose:
 * a loaded machine reading a large body slowly is not a reason to reset the connection.
 */
export const DRAIN_MAX_MS = 60_000;

/** Resolves true once the body has been read to its end, false when the bound was hit (close the connection). */
export function drainRequest(req: IncomingMessage, maxBytes = DRAIN_MAX_BYTES, maxMs = DRAIN_MAX_MS): Promise<boolean> {
  if (req.complete || req.readableEnded) return Promise.resolve(true);
  if (req.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (drained: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onStop);
      req.off('close', onStop);
      if (!drained) req.pause();
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onStop = () => finish(req.complete);
    const timer = setTimeout(() => finish(false), maxMs);
    timer.unref();
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onStop);
    req.once('close', onStop);
    req.resume();
  });
}

// The per-store cap's slots: taken at once while free, queued up to the limit, handed over directly on release.
import test from 'ava';
import { StoreBusyError } from '../../src/store-api/errors.js';
import { PerKeyLimiter } from '../../src/store-api/limiter.js';

test('acquire takes a free slot at once, queues past the cap, refuses past the queue; release hands over', async (t) => {
  const limiter = new PerKeyLimiter(2, 1);
  t.is(limiter.acquire('s'), undefined);
  t.is(limiter.acquire('s'), undefined);
  t.is(limiter.acquire('other'), undefined); // another store has its own slots
  const waiting = limiter.acquire('s');
  t.true(waiting instanceof Promise);
  t.throws(() => limiter.acquire('s'), { instanceOf: StoreBusyError });
  t.deepEqual([limiter.inFlight('s'), limiter.queued('s')], [2, 1]);
  let handedOver = false;
  void waiting!.then(() => (handedOver = true));
  limiter.release('s');
  await Promise.resolve();
  t.true(handedOver);
  t.deepEqual([limiter.inFlight('s'), limiter.queued('s')], [2, 0]); // the slot went to the waiting call
  limiter.release('s');
  limiter.release('s');
  t.is(limiter.inFlight('s'), 0);
  t.is(limiter.acquire('s'), undefined); // free again
});

test('run releases its slot when the task fails', async (t) => {
  const limiter = new PerKeyLimiter(1, 0);
  await t.throwsAsync(limiter.run('s', () => Promise.reject(new Error('boom'))), { message: 'boom' });
  t.is(limiter.inFlight('s'), 0);
  t.is(await limiter.run('s', async () => 'ok'), 'ok');
});

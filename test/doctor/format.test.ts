import test from 'ava';
import { formatHealthTable, healthExitCode } from '../../src/doctor/format.js';
import type { HealthReport } from '../../src/doctor/types.js';

const report: HealthReport = {
  checkedAt: '2026-12-01T10:00:00.000Z',
  signing: { profile: 'native', detectedAt: '2026-12-01T09:59:59.000Z' },
  checks: [
    { name: 'reachable', status: 'ok', detail: 'https://shop.example.com/ answered HTTP 200.' },
    {
      name: 'resources',
      status: 'fail',
      detail: 'The integration was granted none of the resources checked; not granted: products, orders.',
      fix: 'In System > Extensions > Integrations, edit the integration, open its API tab and tick Catalog > Inventory > Products.',
    },
  ],
};

test('the table: one row per check, the detail wrapped under it, the fix after it', (t) => {
  const text = formatHealthTable({ ...report, storeId: 'b_1' }, 80);
  const lines = text.trimEnd().split('\n');
  t.is(lines[0], 'store b_1');
  t.is(lines[1], 'checked 2026-12-01T10:00:00.000Z');
  t.is(lines[2], 'signing profile native, detected 2026-12-01T09:59:59.000Z');
  t.regex(text, /^reachable\s+ok\s+https:\/\/shop\.example\.com\/ answered HTTP 200\.$/m);
  t.regex(text, /^resources\s+FAIL\s+The integration was granted/m);
  t.regex(text, /^\s+Fix: In System > Extensions > Integrations/m);
  t.true(lines.every((l) => l.length <= 80), 'wrapped to the width');
});

test('exit codes: 0 ok, 1 warn, 2 fail', (t) => {
  t.is(healthExitCode(report), 2);
  t.is(healthExitCode({ ...report, checks: [{ name: 'clock', status: 'warn', detail: 'x' }] }), 1);
  t.is(healthExitCode({ ...report, checks: [] }), 0);
});

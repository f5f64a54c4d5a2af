// The webhooks benchmark's receiver: fails `failureRate` of requests with a 500 at random and records, per event id,
// how many 2xx answers it gave, per store the order of first deliveries, and each first delivery's latency since
// the event's creation. bench/webhooks.ts runs it in a process of its own (as a CRM's receiver is: nothing of ours
// stalls it), or in the benchmark's own process with BENCH_WEBHOOK_RECEIVER=inprocess.
// As a script: prints "port <n>" once listening; on standard input, "count" prints `count <distinct events
// delivered>` and "report" one JSON line with the whole ReceiverReport.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

export interface ReceiverReport {
  delivered: Map<string, number>; // event id -> 2xx answers
  order: Map<string, string[]>; // store id -> event ids, first 2xx order
  latencies: number[];
  requests: number;
  failed: number;
  lastAt: number;
  /** Requests whose sender had hung up before the answer was written (it timed out: it will send again). */
  senderGone: number;
}

export function createReceiver(failureRate: number): { server: http.Server; report: ReceiverReport } {
  const report: ReceiverReport = { delivered: new Map(), order: new Map(), latencies: [], requests: 0, failed: 0, lastAt: 0, senderGone: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      report.requests++;
      if (Math.random() < failureRate) {
        report.failed++;
        res.writeHead(500).end();
        return;
      }
      if (req.socket.destroyed) report.senderGone++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; createdAt: string; data: { store: { id: string } } };
      const seen = report.delivered.get(body.id) ?? 0;
      report.delivered.set(body.id, seen + 1);
      if (seen === 0) {
        const now = Date.now();
        report.latencies.push(now - Date.parse(body.createdAt));
        report.lastAt = now;
        const list = report.order.get(body.data.store.id) ?? [];
        list.push(body.id);
        report.order.set(body.data.store.id, list);
      }
      res.writeHead(204).end();
    });
  });
  return { server, report };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { server, report } = createReceiver(Number(process.env.FAILURE_RATE ?? 0.2));
  server.listen(0, '127.0.0.1', () => console.log(`port ${(server.address() as AddressInfo).port}`));
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'count') console.log(`count ${report.delivered.size}`);
    if (line.trim() !== 'report') return;
    console.log(JSON.stringify({ ...report, delivered: [...report.delivered], order: [...report.order] }));
  });
}

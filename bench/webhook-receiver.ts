// The webhooks benchmark's receiver, in a process of its own (as a CRM's receiver is: nothing of ours stalls it).
// Prints "port <n>" once listening; fails FAILURE_RATE of requests with a 500 at random; on the line "report" on
// standard input prints one JSON line with what it saw ("count": `count <distinct events delivered>`). Run by bench/webhooks.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

const failureRate = Number(process.env.FAILURE_RATE ?? 0.2);
const delivered = new Map<string, number>(); // event id -> 2xx answers
const order = new Map<string, string[]>(); // store id -> event ids, first 2xx order
const latencies: number[] = [];
let requests = 0;
let failed = 0;
let lastAt = 0;
// Requests whose sender had hung up before the answer was written (it timed out: it will send again).
let senderGone = 0;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    requests++;
    if (Math.random() < failureRate) {
      failed++;
      res.writeHead(500).end();
      return;
    }
    if (req.socket.destroyed) senderGone++;
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; createdAt: string; data: { store: { id: string } } };
    const seen = delivered.get(body.id) ?? 0;
    delivered.set(body.id, seen + 1);
    if (seen === 0) {
      const now = Date.now();
      latencies.push(now - Date.parse(body.createdAt));
      lastAt = now;
      const list = order.get(body.data.store.id) ?? [];
      list.push(body.id);
      order.set(body.data.store.id, list);
    }
    res.writeHead(204).end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`port ${(server.address() as AddressInfo).port}`));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'count') console.log(`count ${delivered.size}`);
  if (line.trim() !== 'report') return;
  console.log(JSON.stringify({ delivered: [...delivered], order: [...order], latencies, requests, failed, lastAt, senderGone }));
});

// A closed-loop load generator: `concurrency` workers each send the next request as soon as the previous answers,
// over keep-alive connections, for `seconds` after a warm-up. Returns throughput and latency percentiles.
import http from 'node:http';
import { summary } from './stats.js';

export interface LoadResult {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

function once(agent: http.Agent, url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function load(name: string, target: string, o: { concurrency: number; seconds: number; warmupSeconds: number; headers?: Record<string, string> }): Promise<LoadResult> {
  const url = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const headers = o.headers ?? {};
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  const warmupEnd = performance.now() + o.warmupSeconds * 1000;
  const end = warmupEnd + o.seconds * 1000;
  const worker = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= end) return;
      if (!measuring && now >= warmupEnd) measuring = true;
      const t0 = performance.now();
      let ok = false;
      try {
        ok = (await once(agent, url, headers)) === 200;
      } catch {
        ok = false;
      }
      if (t0 >= warmupEnd && performance.now() <= end) {
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  agent.destroy();
  const s = summary(latencies);
  return { name, requests: latencies.length, errors, rps: latencies.length / o.seconds, p50: s.p50, p99: s.p99 };
}

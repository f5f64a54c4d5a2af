// The connector as production runs it, for benchmarks: `npm start`'s script (scripts/start.mjs: the compiled copy of
// src/, npm start's node options and environment), its log written to a file in `dir`.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopChild } from '../scripts/spawn-instance.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface Connector {
  url: string;
  process: ChildProcess;
  /** The server processes: the workers, or the one process. */
  serverPids(): number[];
  logFile: string;
  stop(): Promise<void>;
}

/**
 * The node options and the environment `npm start` passes (package.json: "NAME=${NAME:-value} ... exec node <options>
 * scripts/start.mjs"); a variable already set in this process's environment is left as it is, as the shell would.
 */
export function startCommand(dir = root): { flags: string[]; env: Record<string, string> } {
  const script = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';
  const options = /\bnode\s+(.*?)\s*scripts\/start\.mjs/.exec(script)?.[1] ?? '';
  const env: Record<string, string> = {};
  for (const [, name, value] of script.matchAll(/(?:^|\s)([A-Z_][A-Z0-9_]*)=\$\{\1:-([^}]*)\}/g)) {
    if (process.env[name!] === undefined) env[name!] = value!;
  }
  return { flags: options.split(/\s+/).filter(Boolean), env };
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`)).ok;
  } catch {
    return false;
  }
}

/**
 * `npm start` with `env` on a free port. LOG_LEVEL info (the default: one access-log line per request, JSON, to the
 * file) waits for the "listening" line, which with WORKERS > 1 comes once every worker listens; a quieter level
 * (one process only) waits for /healthz.
 */
export async function startConnector(env: Record<string, string>, workers: number, dir: string, logLevel = 'info', nodeArgs: string[] = []): Promise<Connector> {
  const quiet = !['info', 'debug', 'trace'].includes(logLevel);
  if (quiet && workers > 1) throw new Error('with WORKERS > 1 the start is read from the log: use LOG_LEVEL info');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, `connector-${port}.log`);
  const out = openSync(logFile, 'w');
  const start = startCommand();
  const child = spawn(process.execPath, [...start.flags, ...nodeArgs, `${root}scripts/start.mjs`], {
    cwd: root,
    env: { ...process.env, ...start.env, ...env, PORT: String(port), HOST: '127.0.0.1', WORKERS: String(workers), LOG_FORMAT: 'json', LOG_LEVEL: logLevel },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  const deadline = Date.now() + 120_000;
  while (!(quiet ? await ready(url) : readFileSync(logFile, 'utf8').includes('connector listening on'))) {
    if (child.exitCode !== null) throw new Error(`the connector exited (${child.exitCode}):\n${readFileSync(logFile, 'utf8')}`);
    if (Date.now() > deadline) throw new Error('the connector did not start within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const children = () => {
    try {
      return readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  return {
    url,
    process: child,
    serverPids: () => (workers > 1 ? children() : [child.pid!]),
    logFile,
    stop: () => stopChild(child, 15_000),
  };
}

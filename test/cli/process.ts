// Runs the service the way a person or a process manager does (`npm start`, `npm run cli`, each minus npm)
// as a real child process, and the CLI next to it, with an environment of the test's choosing.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { startCommand } from '../../bench/connector.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** The settings a developer's shell may carry that would leak into the child: each test names its own. */
const OURS = ['DATABASE_URL', 'SECRETS_KEY', 'DATA_DIR', 'PORT', 'HOST', 'PUBLIC_URL', 'LOG_LEVEL', 'LOG_FORMAT', 'ALLOW_PRIVATE_STORE_URLS', 'NODE_OPTIONS'];

export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const name of OURS) delete out[name];
  return { ...out, ...env };
}

export interface Started {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern` (rejects if the process exits first). */
  line(pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `command args` in the project folder; killed (SIGKILL) when the test ends if still running. */
export function start(t: ExecutionContext, command: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(command, args, { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve(line: string): void }[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const w of [...waiters]) {
      const found = out.split('\n').find((l) => w.pattern.test(l));
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(found);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    line: (pattern) =>
      new Promise<string>((resolve, reject) => {
        const found = out.split('\n').find((l) => pattern.test(l));
        if (found !== undefined) return resolve(found);
        waiters.push({ pattern, resolve });
        void exited.then(({ code, signal }) =>
          reject(new Error(`exited (${code ?? signal}) before printing ${pattern}\nstdout:\n${out}\nstderr:\n${err}`)),
        );
      }),
  };
}

/**
 * `npm start`'s command minus npm and MALLOC_ARENA_MAX: the server from its compiled copy (scripts/start.mjs), with
 * the node options package.json's start script gives (read from it, as the benchmarks do).
 */
const MAIN = [...startCommand().flags, 'scripts/start.mjs'];

/** The server as `npm start` runs it, minus npm. */
export function startMain(t: ExecutionContext, env: Record<string, string>): Started {
  return start(t, process.execPath, MAIN, env);
}

/** The port from the server's "connector listening" log line (JSON when not on a terminal). */
export async function listeningPort(server: Started): Promise<number> {
  const line = await server.line(/connector listening on/);
  return (JSON.parse(line) as { port: number }).port;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end. */
export function run(command: string, args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: childEnv(env), stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export const runMain = (env: Record<string, string>): Promise<Run> => run(process.execPath, MAIN, env);
/** One CLI command as `npm run cli` runs it, minus npm (scripts/cli.mjs: the compiled copy, not tsx). */
export const runCli = (args: string[], env: Record<string, string>, stdin = ''): Promise<Run> =>
  run(process.execPath, ['scripts/cli.mjs', ...args], env, stdin);

/** A well-formed Magento callback (a store that is never reached: the request-token fetch fails in the background). */
export function callbackForm(n: number): URLSearchParams {
  const id = String(n).padStart(4, '0');
  return new URLSearchParams({
    oauth_consumer_key: `ck${id}${'a'.repeat(26)}`,
    oauth_consumer_secret: `cs${id}${'b'.repeat(26)}`,
    oauth_verifier: `vf${id}${'c'.repeat(26)}`,
    store_base_url: `http://127.0.0.1:9/store${id}/`,
  });
}

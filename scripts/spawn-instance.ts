// Starts a server (scripts/instance.mjs) in its own process (so it gets its own event loop, like in production) and waits for
// the {"url": ...} line it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface Child {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** What node needs to run `script`: TypeScript through tsx, plain JavaScript (`.mjs`, `.js`) as it is. */
export const loaderFor = (script: string): string[] => (script.endsWith('.ts') ? ['--import', 'tsx'] : []);

export async function spawnServer(script: string, env: Record<string, string> = {}, args: string[] = [], nodeArgs: string[] = []): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, ...loaderFor(script), `${root}${script}`, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await announcedUrl(child, script, 60_000);
  return {
    url,
    process: child,
    stop: () => stopChild(child, 5_000),
  };
}

/** The URL a server prints as a {"url": ...} line on its standard output; rejects if it exits or stays silent. */
export function announcedUrl(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { url?: string };
        if (parsed.url) {
          clearTimeout(timer);
          resolve(parsed.url);
        }
      } catch {
        // not the line we wait for
      }
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited (at once if it already has). */
export function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(); // already gone (killed by a test)
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
  });
}

/** A TCP port free on 127.0.0.1 now (for a server that must be told its port, e.g. clustered workers). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

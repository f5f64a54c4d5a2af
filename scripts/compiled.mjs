// Runs a module of src/ compiled to plain JavaScript: `npm start` (scripts/start.mjs) runs the server this way, so
// the process does not carry tsx (its loader thread and the compiled copy of every module it serves: about 55 MB of
// an idle instance's 150 MB), and the CLI (scripts/cli.mjs) and the test and benchmark instances (scripts/instance.mjs)
// start in about half the time tsx takes (its loader sits between every import and its module).
//
// The compiled copy lives in `.build/<hash of src/ and this script>/`, one file per source file (esbuild's
// transform: types removed, nothing bundled, imports unchanged), and is made here when it is missing: about 0.4 s
// after a change, nothing otherwise (hashing src/ takes a few milliseconds). Several processes starting at once each
// build into a directory of their own and rename it into place, so none ever imports a half-written copy.
// If esbuild cannot be loaded (it comes with tsx) or the copy cannot be written (a read-only install), the module
// runs through tsx instead.
//
// Plain JavaScript on purpose: it runs before anything can compile TypeScript.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const buildRoot = join(root, '.build');
/** The mock store reads its templates next to its modules and is never part of the service: not compiled. */
const SKIP = new Set([join(src, 'mock-store')]);
/** Older copies are removed after this long (a process started from one may still import a module lazily). */
const KEEP_OLD_MS = 24 * 3600_000;

function sources() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP.has(path)) walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  walk(src);
  return files.sort();
}

async function build(esbuild, files, dir) {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await Promise.all(
    files.map(async ({ path, text }) => {
      const out = join(tmp, relative(src, path)).replace(/\.ts$/, '.js');
      const { code } = await esbuild.transform(text, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: path });
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, code);
    }),
  );
  try {
    renameSync(tmp, dir);
  } catch (error) {
    // Another process renamed its identical copy first.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, 'main.js'))) throw error;
  }
}

function pruneOld(keep) {
  const now = Date.now();
  for (const name of readdirSync(buildRoot)) {
    const path = join(buildRoot, name);
    if (path === keep) continue;
    try {
      if (now - statSync(path).mtimeMs > KEEP_OLD_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // removed by another process meanwhile
    }
  }
}

/** The folder holding the compiled copy of src/ (built if missing), or null where it cannot be built. */
async function compiledDir() {
  const files = sources().map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  const hash = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
  for (const f of files) hash.update(f.path.slice(src.length)).update('\0').update(f.text).update('\0');
  const dir = join(buildRoot, hash.digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'main.js'))) return dir;
  // Loaded only to build: esbuild's service process stops once the copy is written.
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return null;
  }
  try {
    mkdirSync(buildRoot, { recursive: true });
    await build(esbuild, files, dir);
    pruneOld(dir);
  } catch {
    // A read-only install (a container's root filesystem) cannot hold the copy.
    return null;
  } finally {
    await esbuild.stop?.();
  }
  return dir;
}

/** The module `src/<name>.ts` (`app`, `config`), from the compiled copy, or through tsx where there is none. */
export async function importCompiled(name) {
  const dir = await compiledDirOnce();
  if (dir) return import(pathToFileURL(join(dir, `${name}.js`)).href);
  if (!tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  return import(pathToFileURL(join(src, `${name}.ts`)).href);
}

/** Runs `src/<entry>.ts` (`main`, `cli/main`): the same, for an entry point. */
export async function runCompiled(entry) {
  await importCompiled(entry);
}

let tsxRegistered = false;
let dirPromise;
const compiledDirOnce = () => (dirPromise ??= compiledDir());

// `npm start`: runs the server (src/main.ts) compiled to plain JavaScript, so the process does not carry tsx (its
// loader thread and the compiled copy of every module it serves: about 55 MB of an idle instance's 150 MB).
//
// The compiled copy lives in `.build/<hash of src/ and this script>/`, one file per source file (esbuild's
// transform: types removed, nothing bundled, imports unchanged), and is made here when it is missing: about 0.4 s
// after a change, nothing otherwise (hashing src/ takes a few milliseconds). Several processes starting at once each
// build into a directory of their own and rename it into place, so none ever imports a half-written copy.
// If esbuild cannot be loaded (it comes with tsx) or the copy cannot be written (a read-only install), the server
// runs through tsx as before.
//
// This file is plain JavaScript on purpose: it runs before anything can compile TypeScript. WORKERS > 1: node's
// cluster runs this same file in every worker; the primary built the copy, so the workers find it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const buildRoot = join(root, '.build');
/** The mock store reads its templates next to its modules and is never part of the server: not compiled. */
const SKIP = new Set([join(src, 'mock-store')]);
/** Older copies are removed after this long (a server started from one may still import a module lazily). */
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

async function compiledMain() {
  const files = sources().map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  const hash = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
  for (const f of files) hash.update(f.path.slice(src.length)).update('\0').update(f.text).update('\0');
  const dir = join(buildRoot, hash.digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'main.js'))) return join(dir, 'main.js');
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
    // A read-only install (a container's root filesystem) cannot hold the copy: serve through tsx instead.
    return null;
  } finally {
    await esbuild.stop?.();
  }
  return join(dir, 'main.js');
}

// V8 grows the old generation by up to 4x its live size after a major GC, and keeps those pages after a load has
// passed: after a sweep over 11,000 stores an instance held 325 MB, 228 MB with growth capped at 20%
// (--optimize-for-size held 180 MB but cost 50% more CPU per proxied call). 20% is where the server starts; once it
// runs, src/heap.ts sets the growth after every full GC (more while the heap is small, never less than this).
// Set at run time rather than on the command line: V8 ignores a flag it does not know, node would refuse to start.
// The young generation's size is fixed when the heap is set up, so `npm start` passes --max-semi-space-size=8 (a
// node option since v12; WORKERS > 1: cluster workers inherit it) on its command line: V8's default of 16 MB per
// semi-space stays resident after a burst; 8 MB gave back 10-26 MB after a sweep over 11,000 stores and 4-19 MB
// idle, CPU per proxied call unchanged within noise (issue 16).
// Outside V8's heap, glibc's malloc gives threads that allocate at once arenas of their own (V8's compiler and GC
// threads, libuv's pool) and keeps what is freed in them: `npm start` sets MALLOC_ARENA_MAX=2 unless it is set
// (read by glibc when the process starts, so on its command line; other C libraries ignore it): after a sweep over
// 10,790 stores 186-190 MB instead of 204-208, idle after start 129-141 instead of 136-151; CPU per proxied call
// within this VM's noise (two pairs of runs with the sides swapped: 0.94 and 1.06).
v8.setFlagsFromString('--heap-growing-percent=20');

const main = await compiledMain();
if (main) {
  await import(pathToFileURL(main).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(src, 'main.ts')).href);
}

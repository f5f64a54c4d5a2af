// Generates both Prisma clients into src/storage/generated/ (ignored by git), loads their query compiler from a file
// (below), and stamps them with a hash of the two schemas and of this script.
//   tsx scripts/generate-clients.ts             always (npm run db:generate, and npm install's postinstall)
//   tsx scripts/generate-clients.ts --if-stale  only when the stamp differs (npm run typecheck: after a pull that changed
//                                               the data model, the old clients would not type-check)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const providers = ['sqlite', 'postgresql'] as const;
const stamp = `${root}src/storage/generated/schemas.sha256`;
const hash = createHash('sha256');
for (const provider of providers) hash.update(readFileSync(`${root}prisma/${provider}/schema.prisma`));
// A change to the rewrite below regenerates clients made before it.
hash.update(readFileSync(fileURLToPath(import.meta.url)));
const current = hash.digest('hex');

if (process.argv.includes('--if-stale') && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === current) process.exit(0);
for (const provider of providers) {
  // Prisma's own output is noise here; its errors go to stderr.
  const run = spawnSync(process.execPath, ['--import', 'tsx', `${root}scripts/prisma.ts`, '--provider', provider, 'generate'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
  compilerFromFile(`${root}src/storage/generated/${provider}/internal/class.ts`, provider);
}
writeFileSync(stamp, `${current}\n`);

/**
 * The generated client imports its query compiler as a module that exports the WebAssembly binary as one base64
 * string. An ES module is never unloaded, so V8 would keep its 2.5 MB source and the 2.5 MB string for the life of
 * the process: 4.5 of a proxying server's 37.6 MB live heap (heap snapshots under load), room taken from the heap
 * budget between full GCs (src/heap.ts, issue 16). Read as a file instead, both are garbage once the module is
 * compiled. Any other shape of the generated code is an error here, so that a Prisma upgrade that changes it is
 * noticed.
 */
function compilerFromFile(file: string, provider: string): void {
  const generated = readFileSync(file, 'utf8');
  const specifier = `@prisma/client/runtime/query_compiler_bg.${provider}.wasm-base64.mjs`;
  const imported = `const { wasm } = await import("${specifier}")\n    return await decodeBase64AsWasm(wasm)`;
  const at = generated.indexOf(imported);
  if (at === -1 || generated.indexOf(imported, at + 1) !== -1) {
    console.error(`${file}: Prisma's loader of the query compiler is not the one scripts/generate-clients.ts rewrites (a Prisma upgrade?); update compilerFromFile there`);
    process.exit(1);
  }
  const read = [
    `// scripts/generate-clients.ts: read as a file, not imported, so that neither the module's source nor its string`,
    `    // stays in the heap (an ES module is never unloaded). The module is \`const wasm = "<base64>";\` and an export.`,
    `    const { readFile } = await import('node:fs/promises')`,
    `    const text = await readFile(new URL(import.meta.resolve("${specifier}")), 'latin1')`,
    `    const start = text.indexOf('"') + 1`,
    `    return await decodeBase64AsWasm(text.slice(start, text.indexOf('"', start)))`,
  ].join('\n');
  writeFileSync(file, generated.slice(0, at) + read + generated.slice(at + imported.length));
}

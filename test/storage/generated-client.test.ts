// scripts/generate-clients.ts's one edit to what Prisma generates: each client reads its query compiler's module as a
// file instead of importing it, so the 2.5 MB base64 module is not kept in V8's heap for the life of the process.
// The clients every other storage test opens are these files; this checks that the edit is there.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const root = fileURLToPath(new URL('../..', import.meta.url));

for (const provider of ['sqlite', 'postgresql'] as const) {
  test(`the ${provider} client reads its query compiler as a file and never imports the base64 module`, (t) => {
    const generated = readFileSync(`${root}src/storage/generated/${provider}/internal/class.ts`, 'utf8');
    const at = generated.indexOf('getQueryCompilerWasmModule');
    t.not(at, -1, 'the generated client has a query compiler loader');
    const loader = generated.slice(at, at + 800); // the loader alone, so a failure shows it and not the whole file
    t.notRegex(loader, /import\(["']@prisma\/client\/runtime\/query_compiler_bg\.[a-z]+\.wasm-base64/);
    t.regex(loader, new RegExp(`readFile\\(new URL\\(import\\.meta\\.resolve\\("@prisma/client/runtime/query_compiler_bg\\.${provider}\\.wasm-base64\\.mjs"\\)\\)`));
  });
}

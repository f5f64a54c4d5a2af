// `npm run cli` and `npx magento-connector`: the command line (src/cli/main.ts), run from the same compiled copy
// as `npm start` (scripts/compiled.mjs), so a command starts in about half the time tsx takes.
// Plain JavaScript on purpose: it runs before anything can compile TypeScript.
import { runCompiled } from './compiled.mjs';

await runCompiled('cli/main');

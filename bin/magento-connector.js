#!/usr/bin/env node
// `npx magento-connector <command>`: the CLI from the compiled copy `npm start` uses (scripts/cli.mjs; through tsx
// where that copy cannot be built). No build step needed.
import '../scripts/cli.mjs';

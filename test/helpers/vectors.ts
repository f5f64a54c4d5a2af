// The signing vectors in test/fixtures/signing-vectors.json: signatures computed the way Magento verifies them
// (docs/magento-protocol.md §7).
import { readFileSync } from 'node:fs';

export interface Vector {
  id: string;
  method: string;
  url: string;
  consumer: { key: string; secret: string };
  token?: { key: string; secret: string };
  verifier?: string;
  timestamp: number;
  nonce: string;
  base: string;
  signature: string;
  body?: string;
}

export const vectors: Vector[] = (
  JSON.parse(readFileSync(new URL('../fixtures/signing-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] }
).vectors;

// The signing vectors of ../shared/protocol/signing-vectors.json (computed the way Magento verifies). The repo sits at
// <root>/main and the shared notes at <root>/shared, locally and in CI.
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
  JSON.parse(readFileSync(new URL('../../../shared/protocol/signing-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] }
).vectors;

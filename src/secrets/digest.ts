// The one SHA-256 (hex) the connector stores and compares: API keys and session cookies (accounts/tokens.ts),
// activation-URL tokens, consumer keys in refusals and logs, tombstones. The one-shot crypto.hash (node >= 20.12) is
// several times cheaper than a Hash object, and it runs on every API call and every callback.
import { hash } from 'node:crypto';

export function sha256(value: string): string {
  return hash('sha256', value, 'hex');
}

// A new binding's fields for the storage tests (what Magento's callback would bring), random keys, callback at T0.
import { randomUUID } from 'node:crypto';
import type { NewBinding } from '../../src/storage/types.js';

export const T0 = new Date('2026-11-27T10:00:00.000Z');

export function newBinding(overrides: Partial<NewBinding> = {}): NewBinding {
  const id = () => randomUUID();
  return {
    id: id(),
    consumerKey: `ck-${id()}`,
    storeBaseUrl: 'https://store.example.com/',
    state: 'pending',
    consumerSecret: `cs-${id()}`,
    verifier: `ver-${id()}`,
    callbackAt: T0,
    ...overrides,
  };
}

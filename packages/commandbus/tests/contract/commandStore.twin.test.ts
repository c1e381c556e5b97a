/** The CommandStore contract against the in-memory twin (its emulator run: e2e/contract.test.ts). */
import { randomUUID } from 'node:crypto';
import { InMemoryCommandStore } from '../../src/testing/index.ts';
import { describeCommandStoreContract } from './commandStoreContract.ts';

describeCommandStoreContract('InMemoryCommandStore', () => ({
  store: new InMemoryCommandStore({ shardChangeDelayMs: 0 }),
  domain: `d${randomUUID().slice(0, 8)}`,
}));

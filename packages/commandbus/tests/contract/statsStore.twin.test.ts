/** The StatsStore contract against the in-memory twin (its emulator run: e2e/stats.test.ts). */
import { randomUUID } from 'node:crypto';
import { InMemoryStatsStore } from '../../src/testing/index.ts';
import { describeStatsStoreContract } from './statsStoreContract.ts';

describeStatsStoreContract('InMemoryStatsStore', () => ({ stats: new InMemoryStatsStore(), domain: `d${randomUUID().slice(0, 8)}` }));

/** The CommandTransport contract against the in-memory twin (its emulator run: e2e/contract.test.ts). */
import { randomUUID } from 'node:crypto';
import { resourceNames } from '../../src/resources.ts';
import { InMemoryTransport } from '../../src/testing/index.ts';
import { describeTransportContract } from './transportContract.ts';

describeTransportContract('InMemoryTransport', () => {
  const names = resourceNames(`twin-${randomUUID().slice(0, 8)}`);
  const domain = `d${randomUUID().slice(0, 8)}`;
  const transport = new InMemoryTransport({ names, domains: [domain] });
  return {
    transport,
    names,
    domain,
    replyQueue: names.repliesQueue,
    readReplies: async () => transport.messages(names.repliesQueue).map((message) => message.body),
  };
});

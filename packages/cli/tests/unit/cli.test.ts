import { describe, expect, it } from 'vitest';
import { pageThrough } from '../../src/context.ts';
import { commandIds } from '../../src/input.ts';
import { busInStack, stackQueueArns } from '../../src/target.ts';

describe('CLI helpers', () => {
  it('reads pages until the limit, asking each time only for what is still lacking, and keeps the cursor to go on from', async () => {
    const asked: number[] = [];
    const pages = [
      { items: [1, 2, 3], nextCursor: 'a' },
      { items: [], nextCursor: 'b' }, // a filtered page may come back empty with a cursor
      { items: [4, 5], nextCursor: 'c' },
    ];
    const page = await pageThrough(async (_cursor, limit) => {
      asked.push(limit);
      return pages.shift()!;
    }, 5);
    expect(page).toEqual({ items: [1, 2, 3, 4, 5], nextCursor: 'c' });
    expect(asked).toEqual([5, 2, 2]);
  });

  it('stops at the last page', async () => {
    const page = await pageThrough(async () => ({ items: ['x'] }), 100);
    expect(page).toEqual({ items: ['x'] });
  });

  it('takes command ids once each, in the order given', () => {
    expect(commandIds(['b', 'a', 'b', ' '])).toEqual(['b', 'a']);
  });

  it("finds each domain's queue ARNs among a stack's outputs", () => {
    const arn = (name: string) => `arn:aws:sqs:eu-west-1:123456789012:${name}`;
    const outputs = {
      Namespace: 'shop',
      ApiUrl: 'https://x.execute-api.eu-west-1.amazonaws.com',
      CommandsQueueArnorderintake: arn('shop-order-intake-commands'),
      TsqQueueArnorderintake: arn('shop-order-intake-tsq'),
      CommandsQueueArnpayments: arn('shop-payments-commands'),
      TsqQueueArnpayments: arn('shop-payments-tsq'),
    };
    expect(stackQueueArns(outputs)).toEqual({
      'order-intake': { commands: arn('shop-order-intake-commands'), tsq: arn('shop-order-intake-tsq') },
      payments: { commands: arn('shop-payments-commands'), tsq: arn('shop-payments-tsq') },
    });
    expect(stackQueueArns({ ApiUrl: 'x' })).toEqual({});
  });

  it('finds a bus of the CommandBus construct in any stack by its discovery output, and derives its queue ARNs', () => {
    const discovery = {
      v: 1,
      apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      namespace: 'shop',
      domains: ['orders', 'order-intake'],
      partition: 'aws',
      region: 'eu-west-1',
      account: '123456789012',
    };
    const outputs = [
      { key: 'Unrelated', value: 'x' },
      { key: 'BusDiscovery1A2B3C4D', value: JSON.stringify(discovery), description: 'commandbus bus Shop/Bus' },
    ];

    expect(busInStack(outputs, 'stack Shop')).toEqual({
      apiUrl: discovery.apiUrl,
      namespace: 'shop',
      queueArns: {
        orders: { commands: 'arn:aws:sqs:eu-west-1:123456789012:shop-orders-commands', tsq: 'arn:aws:sqs:eu-west-1:123456789012:shop-orders-tsq' },
        'order-intake': {
          commands: 'arn:aws:sqs:eu-west-1:123456789012:shop-order-intake-commands',
          tsq: 'arn:aws:sqs:eu-west-1:123456789012:shop-order-intake-tsq',
        },
      },
    });
  });

  it('says which buses a stack holds when there are several, and when it holds none', () => {
    const bus = (path: string) => ({ key: path.replace('/', ''), value: '{}', description: `commandbus bus ${path}` });

    expect(() => busInStack([bus('Shop/Orders'), bus('Shop/Billing')], 'stack Shop')).toThrow(
      'stack Shop holds 2 commandbus buses (Shop/Orders, Shop/Billing): pass the one you mean with --url <its API URL> --sigv4',
    );
    expect(() => busInStack([{ key: 'Other', value: 'x' }], 'stack Shop')).toThrow(
      'stack Shop has no commandbus bus (no CommandBus construct output, no ApiUrl output)',
    );
  });
});

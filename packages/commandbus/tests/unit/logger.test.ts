import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsoleLogger } from '../../src/logger.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Function: createConsoleLogger', () => {
  it("writes the Powertools Logger's layout on stderr: level, message, timestamp, service, then the line's keys", () => {
    // Prepare
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const logger = createConsoleLogger('info');

    // Act
    logger.debug('hidden');
    logger.warn('command failed', { correlationId: 'c-1', commandId: 'x' });

    // Assess
    expect(written).toHaveLength(1);
    const line = JSON.parse(written[0]!) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['level', 'message', 'timestamp', 'service', 'correlationId', 'commandId']);
    expect(line).toMatchObject({ level: 'WARN', message: 'command failed', service: 'commandbus', correlationId: 'c-1' });
  });
});

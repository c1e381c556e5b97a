import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '@commandbus/core';

/** Structured JSON logs (Powertools) behind the library's small Logger interface. */
export function createLambdaLogger(serviceName: string): { powertools: PowertoolsLogger; logger: Logger } {
  const powertools = new PowertoolsLogger({ serviceName });
  const logger: Logger = {
    debug: (message, context) => powertools.debug(message, context ?? {}),
    info: (message, context) => powertools.info(message, context ?? {}),
    warn: (message, context) => powertools.warn(message, context ?? {}),
    error: (message, context) => powertools.error(message, context ?? {}),
  };
  return { powertools, logger };
}

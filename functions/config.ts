import { createConsoleLogger, readEnvironment, type CommandBusConfig, type Logger } from '@commandbus/core';

/**
 * Library configuration inside a Lambda, from the environment the stack sets (COMMANDBUS_NAMESPACE,
 * COMMANDBUS_TABLE, COMMANDBUS_QUEUE_URLS: see readEnvironment). The AWS SDK itself reads region,
 * credentials and endpoint overrides.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, logger: Logger = createConsoleLogger()): CommandBusConfig {
  const { namespace, tableName, queueUrls } = readEnvironment(env, ['namespace', 'tableName', 'queueUrls']);
  return {
    logger,
    ...(namespace === undefined ? {} : { namespace }),
    ...(tableName === undefined ? {} : { tableName }),
    ...(queueUrls === undefined ? {} : { queueUrls }),
  };
}

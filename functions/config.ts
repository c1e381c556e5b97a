import { createConsoleLogger, type CommandBusConfig, type Logger } from '@commandbus/core';

/**
 * Library configuration inside a Lambda, from the environment the stack sets:
 * COMMANDBUS_NAMESPACE, COMMANDBUS_TABLE and COMMANDBUS_QUEUE_URLS (JSON: queue name → URL, so no
 * GetQueueUrl call is needed). The AWS SDK itself reads region, credentials and endpoint overrides.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, logger: Logger = createConsoleLogger()): CommandBusConfig {
  const config: CommandBusConfig = { logger };
  if (env.COMMANDBUS_NAMESPACE) config.namespace = env.COMMANDBUS_NAMESPACE;
  if (env.COMMANDBUS_TABLE) config.tableName = env.COMMANDBUS_TABLE;
  if (env.COMMANDBUS_QUEUE_URLS) {
    try {
      config.queueUrls = JSON.parse(env.COMMANDBUS_QUEUE_URLS) as Record<string, string>;
    } catch {
      throw new Error('COMMANDBUS_QUEUE_URLS must be a JSON object of queue name → URL');
    }
  }
  return config;
}

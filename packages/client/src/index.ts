export { ApiError, CommandBusClient, type ClientAuth, type CommandBusClientOptions } from './CommandBusClient.ts';

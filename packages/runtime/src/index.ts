export { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from './startLocalRuntime.ts';
export { SqsEventSource, toRecord, type SqsEventSourceOptions } from './SqsEventSource.ts';
export { HttpApi, type HttpApiOptions } from './HttpApi.ts';
export { invoke, lambdaContext, FunctionTimeoutError } from './lambdaContext.ts';
export { verifySigV4, type SigV4Identity } from './sigv4.ts';

/**
 * What the worker reports about each command it processes (metrics, traces), told only once the
 * outcome is written: a late write the store refused (a later attempt owns the command) is never
 * counted. The application layer calls it; adapters turn it into EMF metrics (Powertools Metrics) or
 * trace annotations. Default: NOOP_OBSERVER.
 */
export interface CommandRef {
  domain: string;
  /** MALFORMED_COMMAND_TYPE (lifecycle) for a message that is not a command. */
  commandType: string;
  commandId: string;
  correlationId?: string;
}

export interface CommandObserver {
  /** The handler succeeded and COMPLETED is written. `latencyMs`: from the first send to now. */
  commandCompleted(event: CommandRef & { attempt: number; durationMs: number; latencyMs: number }): void;
  /** An attempt failed (the handler threw or timed out) and its outcome is written (a retry or parked). */
  commandFailed(event: CommandRef & { attempt: number; durationMs: number; errorType: string; errorCode: string }): void;
  /** A failed attempt's retry is scheduled (after commandFailed). */
  commandRetried(event: CommandRef & { attempt: number; delaySeconds: number }): void;
  /** The command is parked in the TSQ: failed for good, out of attempts, or not a command at all. */
  commandParked(event: CommandRef & { errorCode: string }): void;
  /**
   * Runs the handler (`run`), e.g. inside a trace subsegment annotated with the command. Default:
   * calls `run`.
   */
  aroundHandler?<T>(command: CommandRef & { attempt: number }, run: () => Promise<T>): Promise<T>;
  /** Emits what is buffered (called at the end of a Lambda invocation, and periodically by the Worker). */
  flush?(): void;
}

/** The metric names, the same from the long-running Worker and the worker Lambda. */
export const METRIC_NAMES = {
  completed: 'CommandCompleted',
  failed: 'CommandFailed',
  retried: 'CommandRetried',
  parked: 'CommandParked',
  /** Handler run time of every attempt whose outcome was written (ms). */
  duration: 'HandlerDuration',
  /** From the command's first send (envelope sentAt) to its completion (ms). */
  latency: 'SendToCompletionLatency',
} as const;

export const NOOP_OBSERVER: CommandObserver = {
  commandCompleted() {},
  commandFailed() {},
  commandRetried() {},
  commandParked() {},
};

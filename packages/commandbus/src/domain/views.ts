import type { Command, TsqEntry } from '../types.ts';
import type { CommandState } from './lifecycle.ts';

/** The public view of a stored command (the enqueue token stays internal). */
export function toCommand(state: CommandState): Command {
  const { token: _token, movedToTsqAt: _moved, pendingRetry: _retry, lease: _lease, ...command } = state;
  return command;
}

/** A parked command as an operator sees it. */
export function toTsqEntry(state: CommandState): TsqEntry {
  return { ...toCommand(state), movedToTsqAt: state.movedToTsqAt ?? state.updatedAt };
}

/**
 * Stands in for the remote suite when no deployed stack is configured: one skipped test whose name
 * says why, so a run without a stack is reported as not run — never as passed.
 */
import { it } from 'vitest';
import { remoteTarget } from '../support/remoteTarget.ts';

const remote = remoteTarget(process.env);
it.skip(remote.configured ? 'configured' : remote.reason, () => {});

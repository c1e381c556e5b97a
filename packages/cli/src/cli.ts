#!/usr/bin/env node
/** The `commandbus` executable: runs the CLI on this process's arguments. */
import { run } from './main.ts';

// `commandbus ls … | head`: the reader has gone, which is no failure of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  throw error;
});

process.exitCode = await run(process.argv.slice(2));

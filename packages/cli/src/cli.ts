/** The `commandbus` executable: runs the CLI on this process's arguments. */
import { run } from './main.ts';

process.exitCode = await run(process.argv.slice(2));

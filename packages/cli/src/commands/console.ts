/** console: the operator console (packages/console) on 127.0.0.1, acting with this CLI's target and credentials. */
import type { Command as Program } from 'commander';
import { integerOption } from '../input.ts';
import type { Context } from '../context.ts';

export function registerConsole(program: Program, context: Context): void {
  program
    .command('console')
    .description('open the operator console: a web UI on 127.0.0.1 that calls the bus with your credentials (they never reach the browser)')
    .option('--port <n>', 'port on 127.0.0.1 (default: any free port)', integerOption(0, 65_535), 0)
    .option('--domains <a,b>', 'domains to offer (default: those of the local runtime or the stack)')
    .action(async (options: { port: number; domains?: string }) => {
      const target = await context.target();
      const { ensureUiBuilt, startConsoleServer } = await import('@commandbus/console');
      const domains = options.domains
        ?.split(',')
        .map((domain) => domain.trim())
        .filter(Boolean) ??
        target.domains ?? ['test'];
      const staticDir = await ensureUiBuilt((line) => context.output().note(line));
      const server = await startConsoleServer({ client: target.client, target: target.description, domains, staticDir, port: options.port });
      const out = context.output();
      out.line(`commandbus console for ${target.description}\n\n  open ${server.url}\n\n(the link signs one browser in, once; Ctrl-C stops the console)`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.stop();
    });
}

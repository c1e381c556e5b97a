/** `npm run serve`: `commandbus serve` from the sources (packages/runtime/src/serve.ts), the E2E test app as its default worker. */
import { serve } from '@commandbus/runtime/serve';

await serve(process.argv.slice(2), { invocation: 'npm run serve --' });

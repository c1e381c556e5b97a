import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The UI is built into dist/ui (never committed); the console server serves it from there.
export default defineConfig({
  root: fileURLToPath(new URL('./src/ui', import.meta.url)),
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('./dist/ui', import.meta.url)),
    emptyOutDir: true,
    // Everything bundled: no CDN at runtime.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  logLevel: 'warn',
});

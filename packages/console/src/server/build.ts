/**
 * The UI, bundled by Vite into dist/ui. In the workspace it is built on first use, or again when a
 * source is newer; the published package ships it prebuilt (its build's second step) and has neither
 * the sources nor Vite: there it is served as it is.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The same relative path from src/server/build.ts (the workspace) and dist/server/build.js (the package).
export const UI_DIR = fileURLToPath(new URL('../../dist/ui', import.meta.url));
const SOURCES = fileURLToPath(new URL('../ui', import.meta.url));
const CONFIG = fileURLToPath(new URL('../../vite.config.ts', import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    latest = Math.max(latest, stat.isDirectory() ? newest(path) : stat.mtimeMs);
  }
  return latest;
}

/** Builds the UI unless dist/ui is newer than every source (or there are no sources: the published package); returns the directory to serve. */
export async function ensureUiBuilt(log: (line: string) => void = () => {}): Promise<string> {
  const index = join(UI_DIR, 'index.html');
  const fromSources = existsSync(SOURCES) && existsSync(CONFIG);
  if (!fromSources) {
    if (existsSync(index)) return UI_DIR;
    throw new Error(`the console UI is missing (${index}): reinstall @commandbus/console`);
  }
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(newest(SOURCES), statSync(CONFIG).mtimeMs)) return UI_DIR;
  log('building the console UI (vite)…');
  const { build } = await import('vite');
  await build({ configFile: CONFIG, logLevel: 'warn' });
  return UI_DIR;
}

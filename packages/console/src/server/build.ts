/** The UI is built (Vite) into packages/console/dist on first use, or again when a source is newer. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UI_DIR = fileURLToPath(new URL('../../dist', import.meta.url));
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

/** Builds the UI unless dist/ is newer than every source; returns the directory to serve. */
export async function ensureUiBuilt(log: (line: string) => void = () => {}): Promise<string> {
  const index = join(UI_DIR, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(newest(SOURCES), statSync(CONFIG).mtimeMs)) return UI_DIR;
  log('building the console UI (vite)…');
  const { build } = await import('vite');
  await build({ configFile: CONFIG, logLevel: 'warn' });
  return UI_DIR;
}

/**
 * Builds one publishable package into its dist/: `tsx scripts/build-package.ts [packageDir]` (default:
 * the current directory, so each package's `npm run build` is this script). The package's
 * tsconfig.build.json (extending scripts/tsconfig.package.json) emits JavaScript (`./x.ts` imports
 * rewritten to `./x.js` by rewriteRelativeImportExtensions), declarations and source maps; the
 * declarations keep `./x.ts` specifiers, so they are rewritten here to `./x.js`, which every
 * TypeScript consumer resolves. Publishable workspace packages it depends on (a package.json with
 * `publishConfig`) are built first when their dist is missing: their declarations are what the
 * tsconfig.build.json `paths` point at. Finally every `publishConfig.exports` target must exist.
 *
 * The workspace itself never uses dist: its `exports` point at src, as always.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface PackageJson {
  name: string;
  version?: string;
  private?: boolean;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  files?: string[];
  publishConfig?: Record<string, unknown> & { exports?: Record<string, unknown> };
  [key: string]: unknown;
}

export interface WorkspacePackage {
  dir: string;
  manifest: PackageJson;
}

export function readManifest(dir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** The workspace's packages, from the root package.json's `workspaces` (`dir` or `dir/*`). */
export function workspacePackages(root = REPO_ROOT): WorkspacePackage[] {
  const patterns = (readManifest(root).workspaces as string[] | undefined) ?? [];
  const dirs = patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [path.join(root, pattern)];
    const parent = path.join(root, pattern.slice(0, -2));
    return existsSync(parent)
      ? readdirSync(parent, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => path.join(parent, e.name))
      : [];
  });
  return dirs.filter((dir) => existsSync(path.join(dir, 'package.json'))).map((dir) => ({ dir, manifest: readManifest(dir) }));
}

/** Publishable: a package.json with `publishConfig`. Ordered so that every package follows the ones it depends on. */
export function publishablePackages(root = REPO_ROOT): WorkspacePackage[] {
  const publishable = workspacePackages(root).filter((p) => p.manifest.publishConfig !== undefined && p.manifest.private !== true);
  const byName = new Map(publishable.map((p) => [p.manifest.name, p]));
  const ordered: WorkspacePackage[] = [];
  const visiting = new Set<string>();
  const visit = (p: WorkspacePackage) => {
    if (ordered.includes(p)) return;
    if (visiting.has(p.manifest.name)) throw new Error(`dependency cycle through ${p.manifest.name}`);
    visiting.add(p.manifest.name);
    for (const dep of Object.keys({ ...p.manifest.dependencies, ...p.manifest.peerDependencies })) {
      const target = byName.get(dep);
      if (target) visit(target);
    }
    visiting.delete(p.manifest.name);
    ordered.push(p);
  };
  for (const p of publishable) visit(p);
  return ordered;
}

/** `./x.ts` → `./x.js` (and .mts/.cts) in relative module specifiers of a declaration file. */
export function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bdeclare\s+module\s+)(['"])(\.{1,2}\/[^'"\n]*?)\.([mc]?)ts\2/g,
    (_match, lead: string, quote: string, specifier: string, flavour: string) => `${lead}${quote}${specifier}.${flavour}js${quote}`,
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** Every string target of an exports map (conditions and subpaths flattened). */
export function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (exports && typeof exports === 'object') return Object.values(exports).flatMap(exportTargets);
  return [];
}

const built = new Set<string>();

export function buildPackage(dir: string, options: { log?: (line: string) => void } = {}): void {
  const log = options.log ?? ((line: string) => console.error(line));
  const manifest = readManifest(dir);
  if (!manifest.publishConfig) throw new Error(`${manifest.name} has no publishConfig: not a publishable package`);
  if (built.has(dir)) return;

  // Publishable workspace dependencies first, when they have not been built yet.
  const publishable = new Map(publishablePackages().map((p) => [p.manifest.name, p]));
  for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    const target = publishable.get(dep);
    if (target && !existsSync(path.join(target.dir, 'dist'))) buildPackage(target.dir, options);
  }

  const started = performance.now();
  const dist = path.join(dir, 'dist');
  rmSync(dist, { recursive: true, force: true });
  const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-p', path.join(dir, 'tsconfig.build.json')], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `tsc failed for ${manifest.name} (exit ${result.status ?? result.signal}):\n${result.stdout}${result.stderr}${result.error?.message ?? ''}`,
    );
  }

  let rewritten = 0;
  for (const file of filesUnder(dist).filter((f) => /\.d\.[mc]?ts$/.test(f))) {
    const text = readFileSync(file, 'utf8');
    const next = rewriteDeclarationSpecifiers(text);
    if (next !== text) {
      writeFileSync(file, next);
      rewritten++;
    }
  }

  // Every subpath the workspace exports is published too (one left out would break only for users).
  const subpaths = (exports: unknown) => (exports && typeof exports === 'object' ? Object.keys(exports).sort() : ['.']);
  const unpublished = subpaths(manifest.exports).filter((subpath) => !subpaths(manifest.publishConfig!.exports).includes(subpath));
  if (unpublished.length > 0) throw new Error(`${manifest.name}: exports has subpaths publishConfig.exports lacks: ${unpublished.join(', ')}`);

  const missing = exportTargets(manifest.publishConfig.exports).filter((target) => !existsSync(path.join(dir, target)));
  if (missing.length > 0) throw new Error(`${manifest.name}: publishConfig.exports point at files the build did not write: ${missing.join(', ')}`);

  const files = filesUnder(dist);
  log(
    `built ${manifest.name} in ${Math.round(performance.now() - started)} ms: ${files.filter((f) => f.endsWith('.js')).length} .js, ` +
      `${files.filter((f) => f.endsWith('.d.ts')).length} .d.ts (${rewritten} with specifiers rewritten)`,
  );
  built.add(dir);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    buildPackage(path.resolve(process.argv[2] ?? process.cwd()));
  } catch (error) {
    console.error(`build-package: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

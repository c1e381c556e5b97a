/**
 * `npm run pack [-- --out <dir>]`: the publishable packages as npm tarballs (default dist-packages/).
 *
 * Publishable: a workspace package whose package.json has `publishConfig`, taken in dependency order.
 * For each: its `npm run build` (dist/), then a staged copy — its package.json with the publishConfig
 * fields hoisted over the top-level ones (so `exports` points at dist; npm's own publishConfig keys
 * such as `access` stay), no scripts and no devDependencies, workspace dependencies kept as their
 * version ranges; plus dist and the `files` — and `npm pack` of that copy. The workspace's own
 * package.json files are never changed: in the workspace every package resolves to its src.
 *
 * Publish a tarball with `npm publish <tarball>` (running `npm pack`/`npm publish` inside a package
 * directory fails on purpose: its package.json points at TypeScript sources).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exportTargets, type PackageJson, publishablePackages, REPO_ROOT, type WorkspacePackage, workspacePackages } from './build-package.ts';

/** publishConfig keys that npm itself reads at publish time: they stay in publishConfig. */
const NPM_PUBLISH_KEYS = new Set(['access', 'registry', 'tag', 'provenance']);

export interface PackedPackage {
  name: string;
  version: string;
  tarball: string;
  /** Bytes of the .tgz. */
  size: number;
  unpackedSize: number;
  files: string[];
  /** The published package.json's peerDependencies. */
  peerDependencies: Record<string, string>;
}

/** The package.json that goes into the tarball. */
export function publishedManifest(manifest: PackageJson, workspace: ReadonlyMap<string, WorkspacePackage>): PackageJson {
  const { publishConfig = {}, scripts: _scripts, devDependencies: _dev, ...rest } = manifest;
  const hoisted: Record<string, unknown> = {};
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(publishConfig)) (NPM_PUBLISH_KEYS.has(key) ? kept : hoisted)[key] = value;
  const published: PackageJson = { ...rest, ...hoisted, ...(Object.keys(kept).length > 0 ? { publishConfig: kept } : {}) };
  for (const field of ['dependencies', 'peerDependencies'] as const) {
    for (const dep of Object.keys(published[field] ?? {})) {
      const target = workspace.get(dep);
      if (target && !target.manifest.publishConfig) {
        throw new Error(`${manifest.name} depends on ${dep}, a workspace package that is not published (no publishConfig): move it to devDependencies`);
      }
    }
  }
  return published;
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal}):\n${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}`,
    );
  }
  return result.stdout;
}

export function packAll(options: { out: string; log?: (line: string) => void }): PackedPackage[] {
  const log = options.log ?? ((line: string) => console.error(line));
  const out = path.resolve(options.out);
  mkdirSync(out, { recursive: true });
  const packages = publishablePackages();
  if (packages.length === 0) throw new Error('no workspace package has a publishConfig');
  const workspace = new Map(workspacePackages().map((p) => [p.manifest.name, p]));
  const stageRoot = mkdtempSync(path.join(os.tmpdir(), 'commandbus-pack-'));
  const packed: PackedPackage[] = [];
  try {
    for (const { dir, manifest } of packages) {
      if (!manifest.scripts?.build) throw new Error(`${manifest.name} has a publishConfig but no build script`);
      log(`${manifest.name}: npm run build`);
      run('npm', ['run', 'build', '--silent'], dir);

      const stage = path.join(stageRoot, manifest.name.replace('/', '+'));
      mkdirSync(stage);
      const published = publishedManifest(manifest, workspace);
      writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
      for (const entry of new Set(['dist', ...(manifest.files ?? [])])) {
        const from = path.join(dir, entry);
        if (!existsSync(from)) throw new Error(`${manifest.name}: "${entry}" (files) does not exist in ${dir}`);
        cpSync(from, path.join(stage, entry), { recursive: true });
      }
      const missing = exportTargets(published.exports).filter((target) => !existsSync(path.join(stage, target)));
      if (missing.length > 0) throw new Error(`${manifest.name}: exports point at missing files: ${missing.join(', ')}`);

      const [result] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], stage)) as {
        filename: string;
        size: number;
        unpackedSize: number;
        files: { path: string }[];
      }[];
      if (!result) throw new Error(`npm pack printed no result for ${manifest.name}`);
      const entry: PackedPackage = {
        name: manifest.name,
        version: String(published.version),
        tarball: path.join(out, result.filename),
        size: result.size,
        unpackedSize: result.unpackedSize,
        files: result.files.map((f) => f.path),
        peerDependencies: published.peerDependencies ?? {},
      };
      packed.push(entry);
      log(
        `${manifest.name}: ${path.relative(process.cwd(), entry.tarball)} (${kb(entry.size)} packed, ${kb(entry.unpackedSize)} unpacked, ${entry.files.length} files)`,
      );
    }
  } finally {
    rmSync(stageRoot, { recursive: true, force: true });
  }
  return packed;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(REPO_ROOT, 'scripts', 'pack.ts')) {
  try {
    const { values } = parseArgs({
      options: { out: { type: 'string', default: path.join(REPO_ROOT, 'dist-packages') }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      console.log('usage: npm run pack [-- --out <dir>]   build every publishable package and npm pack it (default dist-packages/)');
    } else {
      const packed = packAll({ out: values.out });
      console.log(
        JSON.stringify(
          packed.map(({ files: _files, peerDependencies: _peers, ...rest }) => rest),
          null,
          2,
        ),
      );
    }
  } catch (error) {
    console.error(`pack: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';

/** The Lambdas the construct brings (the user brings the worker). */
export const BUILTIN_HANDLERS = ['api', 'tsqSweeper', 'jobRunner', 'statsAggregator'] as const;
export type BuiltinHandler = (typeof BUILTIN_HANDLERS)[number];

/**
 * How every commandbus Lambda is bundled (the built-in ones here and at package build, the user's
 * worker through NodejsFunction): one ESM file for Node 24; the runtime ships AWS SDK v3, everything
 * else is inside. `require` is defined for the CommonJS dependencies an ESM bundle may still call.
 */
export const BUNDLING = {
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  sourcemap: true,
  // Stack traces map to file and line; the sources themselves stay out of the bundle (a smaller map to load).
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: ['@aws-sdk/*'],
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
} as const;

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The code of a built-in Lambda. A published package carries it prebuilt (`dist/lambda/<name>/index.mjs`,
 * next to this module): synthesis needs neither esbuild nor Docker. In the commandbus repository
 * (running from sources) it is bundled from `functions/<name>.ts` with esbuild at synthesis.
 */
export function builtinHandlerCode(name: BuiltinHandler): Code {
  const packaged = path.join(here, 'lambda', name);
  if (existsSync(path.join(packaged, 'index.mjs'))) return Code.fromAsset(packaged);
  const entry = path.resolve(here, '../../../functions', `${name}.ts`);
  if (!existsSync(entry)) {
    throw new Error(`@commandbus/cdk: the ${name} Lambda is missing (${path.join(packaged, 'index.mjs')}); reinstall the package`);
  }
  return Code.fromAsset(path.dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never used: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
      // Part of the asset cache key (the local bundler is not): one bundle per handler, not one for all.
      command: ['bundle', name],
      local: {
        tryBundle(outputDir) {
          bundleLambda(entry, outputDir);
          return true;
        },
      },
    },
  });
}

/** Bundles one entry file into `<outputDir>/index.mjs` (+ its source map), synchronously. */
export function bundleLambda(entry: string, outputDir: string): void {
  // esbuild is a development dependency: only the repository and the package build get here.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    ...BUNDLING,
    mainFields: [...BUNDLING.mainFields],
    external: [...BUNDLING.external],
    entryPoints: [entry],
    bundle: true,
    outfile: path.join(outputDir, 'index.mjs'),
    banner: { js: BUNDLING.banner },
    logLevel: 'error',
  });
}

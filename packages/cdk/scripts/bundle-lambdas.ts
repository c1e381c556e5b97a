/**
 * Part of the package build: bundles the built-in Lambdas (functions/<name>.ts) into
 * dist/lambda/<name>/index.mjs, where the built construct finds them (src/lambdaCode.ts), so a
 * user's synthesis needs neither esbuild nor the sources.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_HANDLERS, bundleLambda } from '../src/lambdaCode.ts';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const functionsDir = path.resolve(packageDir, '../../functions');
const out = path.join(packageDir, 'dist', 'lambda');
rmSync(out, { recursive: true, force: true });
for (const name of BUILTIN_HANDLERS) {
  bundleLambda(path.join(functionsDir, `${name}.ts`), path.join(out, name));
  console.log(`bundled ${name} → ${path.relative(packageDir, path.join(out, name, 'index.mjs'))}`);
}

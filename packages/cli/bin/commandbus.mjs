#!/usr/bin/env node
// The sources are TypeScript, run through tsx until the packages are built for publishing.
import { tsImport } from 'tsx/esm/api';

await tsImport('../src/cli.ts', import.meta.url);

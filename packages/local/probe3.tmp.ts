import { startLocalStack } from './src/index.ts';
try { await startLocalStack(); } catch (e: any) { console.log(e.name, e.message); }

// Runs a TypeScript benchmark as the shipped code runs: bundled by esbuild (no keepNames, as
// build.mjs), not through tsx, whose per-closure name helpers would dominate a tight loop.
// Usage: node bench/bundled.mjs bench/timeline.ts [args…]
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
const dir = mkdtempSync(path.join(tmpdir(), 'certfleet-bench-'));
const outfile = path.join(dir, 'bench.mjs');
await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
process.argv = [process.argv[0], outfile, ...args];
try {
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

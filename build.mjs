// Bundles src/cli/bin.ts into the single executable bin/certfleet (ESM, node >= 20, shebang).
// ACME code is reached through dynamic import(), which esbuild keeps lazy inside the bundle.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const outfile = 'bin/certfleet';
await build({
  entryPoints: ['src/cli/bin.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  banner: {
    // Shebang, and a require() for the CommonJS dependencies inside an ES module bundle.
    js: "#!/usr/bin/env node\nimport { createRequire as __cfRequire } from 'node:module'; const require = __cfRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
await chmod(outfile, 0o755);

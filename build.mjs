// Bundles src/cli/bin.ts into the single executable bin/certfleet (ESM, node >= 20, shebang).
// ACME code is reached through dynamic import(), which esbuild keeps lazy inside the bundle.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const outfile = 'bin/certfleet';

// Parsed on every start, used never: acme-client's node-forge helpers (its `forge` export; we
// use Node's crypto) and the MIME table axios pulls in for multipart uploads. Leaving them out
// cuts the bundle by ~40% and the nightly no-op's start-up with it. Both stubs fail loudly if
// anything ever calls them.
const unused = {
  name: 'unused-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\/crypto\/forge$/ }, (args) =>
      args.importer.includes('acme-client') ? { path: 'acme-client-forge', namespace: 'unused' } : undefined,
    );
    b.onResolve({ filter: /^mime-db$/ }, () => ({ path: 'mime-db', namespace: 'unused' }));
    b.onLoad({ filter: /.*/, namespace: 'unused' }, (args) => ({
      contents:
        args.path === 'mime-db'
          ? 'module.exports = {};'
          : "module.exports = new Proxy({}, { get(_, k) { throw new Error('acme-client forge helpers are not bundled: ' + String(k)); } });",
      loader: 'js',
    }));
  },
};
await build({
  entryPoints: ['src/cli/bin.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  keepNames: false,
  legalComments: 'none',
  banner: {
    // Shebang, and a require() for the CommonJS dependencies inside an ES module bundle.
    js: "#!/usr/bin/env node\nimport { createRequire as __cfRequire } from 'node:module'; const require = __cfRequire(import.meta.url);",
  },
  plugins: [unused],
  logLevel: 'warning',
});
await chmod(outfile, 0o755);

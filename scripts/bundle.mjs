// The esbuild options both forms of certfleet share: bin/certfleet (ESM, run by the host's
// Node.js; build.mjs) and the single executable's main script (CommonJS; scripts/build-exe.mjs).
import { execFileSync } from 'node:child_process';

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

/**
 * The commit `--version` names: $CERTFLEET_COMMIT when set (a build from a source tarball),
 * else `git describe --always --dirty --abbrev=12` of the working tree, else `unknown`.
 */
export function buildCommit() {
  if (process.env.CERTFLEET_COMMIT) return process.env.CERTFLEET_COMMIT;
  try {
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12', '--exclude=*'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * esbuild options for bundling src/cli/bin.ts into one file: `form` is what `--version` calls it
 * (`bundle` or `executable`); the caller adds outfile, format, target and banner.
 */
export function bundleOptions(form) {
  return {
    entryPoints: ['src/cli/bin.ts'],
    bundle: true,
    platform: 'node',
    minify: true,
    keepNames: false,
    legalComments: 'none',
    define: { __CERTFLEET_COMMIT__: JSON.stringify(buildCommit()), __CERTFLEET_FORM__: JSON.stringify(form) },
    plugins: [unused],
    logLevel: 'warning',
  };
}

/**
 * What `certfleet --version` says beyond the package version: the git commit the build was made
 * from and the Node.js that runs it. The bundlers (build.mjs, scripts/build-exe.mjs) replace the
 * two identifiers below with string literals; run from source they are absent.
 */
declare const __CERTFLEET_COMMIT__: string | undefined;
declare const __CERTFLEET_FORM__: string | undefined;

/**
 * `0.1.0 (commit 1a2b3c4d5e6f, node v26.12.1, executable)`: the package version, the build's commit,
 * the running Node.js version and the form: `executable` (Node.js embedded) or `bundle` (the
 * host's Node.js). Run unbundled (tsx): `0.1.0 (source, node v20.20.2)`.
 */
export function versionLine(pkgVersion: string): string {
  if (typeof __CERTFLEET_COMMIT__ !== 'string' || typeof __CERTFLEET_FORM__ !== 'string') {
    return `${pkgVersion} (source, node ${process.version})`;
  }
  return `${pkgVersion} (commit ${__CERTFLEET_COMMIT__}, node ${process.version}, ${__CERTFLEET_FORM__})`;
}

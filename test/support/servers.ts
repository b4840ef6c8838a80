/**
 * The real servers certfleet's end-to-end tests and demo run against, all on 127.0.0.1 with
 * ports chosen at run time, inside one fresh temp dir:
 *   - pebble-challtestsrv as Pebble's DNS (every name → 127.0.0.1 unless setA says otherwise),
 *     unless `dnsServer` points Pebble at another (a BIND for dns-01);
 *   - nginx serving a challenge drop dir as /.well-known/acme-challenge/ (what users run);
 *   - Pebble, validating http-01 against that nginx.
 */
import { mkdir, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchOk, fetchText } from './http.ts';
import { queryA } from './dns-query.ts';
import { freePort, requireBinary, startProcess, waitReady, type ServerProcess } from './process.ts';
import { makeTlsFiles, type TlsFiles } from './tls.ts';

export { freePort } from './process.ts';
export { runCertfleet, makeConfDir, certfleetBin } from './certfleet.ts';

/** Handles on a running set of test servers; see startTestServers. */
export interface TestServers {
  /** Pebble's ACME directory, https://127.0.0.1:<p>/dir. */
  directoryUrl: string;
  /** PEM of the CA that signed Pebble's TLS certificate: pass as NODE_EXTRA_CA_CERTS to children. */
  caCertPath: string;
  /** Pebble's TLS leaf (then the CA) and its key, for 127.0.0.1 and localhost: other harness listeners may serve them too. */
  tlsCertPath: string;
  tlsKeyPath: string;
  /** Directory nginx serves as /.well-known/acme-challenge/ (mode 0755). */
  dropDir: string;
  /** nginx's port, which is also Pebble's http-01 validation port. */
  httpPort: number;
  /** pebble-challtestsrv's DNS server port on 127.0.0.1 (UDP and TCP). */
  dnsPort: number;
  /** pebble-challtestsrv's management API, http://127.0.0.1:<p>. */
  challtestsrvUrl: string;
  /** The temp dir holding every config, log and pid file; removed by stop(). */
  dir: string;
  /** Pebble's current issuing root (it changes on every start). Throws on a non-200 answer. */
  rootPem(): Promise<string>;
  /** Pebble's current intermediate. Throws on a non-200 answer. */
  intermediatePem(): Promise<string>;
  /** Makes challtestsrv answer A queries for `host` (no trailing dot) with `addresses`. */
  setA(host: string, addresses: string[]): Promise<void>;
  /** Removes what setA added for `host`; it then resolves to 127.0.0.1 again. */
  clearA(host: string): Promise<void>;
  /** The output tails of the three servers, for failure messages. */
  logs(): string;
  /** Stops all three servers, waits for them to exit and removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

const PEBBLE = '/usr/bin/pebble';
const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';
const NGINX = '/usr/sbin/nginx';

function nginxConf(dir: string, dropDir: string, httpPort: number): string {
  const isRoot = process.getuid?.() === 0;
  // As root, nginx workers would otherwise run as nobody and could not enter the 0700 temp dir.
  return `${isRoot ? 'user root;\n' : ''}daemon off;
worker_processes 1;
pid "${dir}/nginx.pid";
error_log "${dir}/nginx-error.log" notice;
events { worker_connections 128; }
http {
  access_log "${dir}/nginx-access.log";
  client_body_temp_path "${dir}/nginx-tmp/body";
  proxy_temp_path "${dir}/nginx-tmp/proxy";
  fastcgi_temp_path "${dir}/nginx-tmp/fastcgi";
  uwsgi_temp_path "${dir}/nginx-tmp/uwsgi";
  scgi_temp_path "${dir}/nginx-tmp/scgi";
  server {
    listen 127.0.0.1:${httpPort} default_server;
    server_name _;
    location /.well-known/acme-challenge/ {
      alias "${dropDir}/";
      default_type text/plain;
    }
    location / { return 404; }
  }
}
`;
}

/** Pebble's environment: ours only, so a developer's PEBBLE_* settings cannot skew a test. */
function pebbleEnv(nonceReject: number | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PEBBLE_')) env[key] = value;
  env.PEBBLE_VA_NOSLEEP = '1';
  if (nonceReject !== undefined) env.PEBBLE_WFE_NONCEREJECT = String(nonceReject);
  return env;
}

/** Knobs of startTestServers; all optional. */
export interface TestServersOptions {
  /** PEBBLE_WFE_NONCEREJECT, the percentage of valid nonces Pebble rejects (Pebble's default: 5). */
  nonceReject?: number;
  /** Lifetime of issued certificates in seconds (Pebble's default: 5 years). */
  certificateValidityPeriod?: number;
  /** How long the servers get to become ready (default 15 s). */
  readyTimeoutMs?: number;
  /**
   * `ADDR:PORT` of the DNS server Pebble resolves names through (its `-dnsserver`), e.g. a
   * BIND serving dns-01 test zones. Default: the pebble-challtestsrv started here (which still
   * runs either way, so setA/clearA keep working, only Pebble no longer asks it).
   */
  dnsServer?: string;
}

/**
 * Starts pebble-challtestsrv, nginx and Pebble and resolves once each answers (Pebble's /dir
 * and /roots/0 over TLS, nginx over HTTP, challtestsrv's management API and a DNS query).
 * Pebble keeps its default 5% nonce rejection unless `nonceReject` (a percentage) is given.
 * Throws, after stopping whatever started, when a binary is missing (naming its Debian package)
 * or a server exits or is not ready within `readyTimeoutMs` (default 15 s); the error quotes
 * the server's output tail.
 */
export async function startTestServers(opts: TestServersOptions = {}): Promise<TestServers> {
  requireBinary(PEBBLE, 'pebble');
  requireBinary(CHALLTESTSRV, 'pebble');
  requireBinary(NGINX, 'nginx');
  const dir = await mkdtemp(join(tmpdir(), 'certfleet-servers-'));
  const dropDir = join(dir, 'acme-challenge');
  const children: ServerProcess[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await Promise.all(children.map((child) => child.stop()));
      await rm(dir, { recursive: true, force: true });
    })());

  const [dnsPort, ctsPort, httpPort, acmePort, mgmtPort, tlsPort] = await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  );
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const mgmtUrl = `https://127.0.0.1:${mgmtPort}`;
  const challtestsrvUrl = `http://127.0.0.1:${ctsPort}`;
  let tls: TlsFiles;
  try {
    await mkdir(dropDir, { mode: 0o755 });
    await chmod(dropDir, 0o755); // mkdir's mode is masked by umask
    await mkdir(join(dir, 'nginx-tmp'));
    tls = await makeTlsFiles(dir);
    const caPem = tls.caPem;
    await writeFile(join(dir, 'nginx.conf'), nginxConf(dir, dropDir, httpPort));
    const pebbleConfig = {
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: tls.certPath,
        privateKey: tls.keyPath,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(opts.certificateValidityPeriod === undefined ? {} : { certificateValidityPeriod: opts.certificateValidityPeriod }),
      },
    };
    await writeFile(join(dir, 'pebble-config.json'), JSON.stringify(pebbleConfig, null, 2));

    // This challtestsrv has no -doh flag; its three challenge servers are disabled with "".
    const cts = startProcess('pebble-challtestsrv', CHALLTESTSRV, [
      '-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${ctsPort}`,
      '-http01', '', '-https01', '', '-tlsalpn01', '',
      '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '',
    ], process.env, dir);
    const nginxLog = join(dir, 'nginx-error.log');
    const nginx = startProcess('nginx', NGINX, [
      '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', nginxLog,
    ], process.env, dir, [nginxLog]);
    const pebble = startProcess('pebble', PEBBLE, [
      '-config', join(dir, 'pebble-config.json'), '-dnsserver', opts.dnsServer ?? `127.0.0.1:${dnsPort}`,
    ], pebbleEnv(opts.nonceReject), dir);
    children.push(cts, nginx, pebble);

    const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
    const status = async (url: string): Promise<number> => (await fetchText(url, { ca: caPem, timeoutMs: 1000 })).status;
    const results = await Promise.allSettled([
      waitReady(cts, 'management API', deadline, async () => (await status(`${challtestsrvUrl}/`)) > 0),
      waitReady(cts, 'DNS server', deadline, async () => (await queryA('127.0.0.1', dnsPort, 'ready.test', 500)).addresses.length > 0),
      waitReady(nginx, 'HTTP listener', deadline, async () => (await status(`http://127.0.0.1:${httpPort}/`)) === 404),
      waitReady(pebble, 'ACME directory', deadline, async () => (await status(directoryUrl)) === 200),
      waitReady(pebble, 'management API', deadline, async () => (await status(`${mgmtUrl}/roots/0`)) === 200),
    ]);
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error)?.message ?? r.reason)] : []));
    if (failures.length > 0) throw new Error(`test servers: not ready:\n${failures.join('\n')}`);
  } catch (error) {
    await stop();
    throw error;
  }

  const manage = async (path: string, body: unknown): Promise<void> => {
    await fetchOk(`${challtestsrvUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  };
  return {
    directoryUrl,
    caCertPath: tls.caCertPath,
    tlsCertPath: tls.certPath,
    tlsKeyPath: tls.keyPath,
    dropDir,
    httpPort,
    dnsPort,
    challtestsrvUrl,
    dir,
    rootPem: () => fetchOk(`${mgmtUrl}/roots/0`, { ca: tls.caPem }),
    intermediatePem: () => fetchOk(`${mgmtUrl}/intermediates/0`, { ca: tls.caPem }),
    setA: (host, addresses) => manage('/add-a', { host: `${host.replace(/\.$/, '')}.`, addresses }),
    clearA: (host) => manage('/clear-a', { host: `${host.replace(/\.$/, '')}.` }),
    logs: () => children.map((c) => `--- ${c.name} (tail) ---\n${c.tail()}`).join('\n'),
    stop,
  };
}

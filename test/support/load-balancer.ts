/**
 * A load balancer in front of several brokers, as a fleet runs them: Debian's nginx terminating
 * TLS on a loopback port and proxying to the brokers' plain-HTTP listeners, passing a request
 * to the next broker when one does not answer (killed).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, requireBinary, startProcess, waitReady, type ServerProcess } from './process.ts';
import { makeTlsFiles } from './tls.ts';

export interface LoadBalancer {
  publicUrl: string;
  caCertPath: string;
  process: ServerProcess;
  stop(): Promise<void>;
}

/** Starts nginx on 127.0.0.1 with TLS, balancing over `backendPorts` (127.0.0.1). */
export async function startLoadBalancer(dir: string, backendPorts: number[]): Promise<LoadBalancer> {
  const nginx = requireBinary('/usr/sbin/nginx', 'nginx');
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const tls = await makeTlsFiles(dir);
  const port = await freePort();
  const isRoot = process.getuid?.() === 0;
  const conf = join(dir, 'nginx-lb.conf');
  await writeFile(conf, `${isRoot ? 'user root;\n' : ''}daemon off;
worker_processes 1;
pid "${dir}/nginx-lb.pid";
error_log "${dir}/nginx-lb-error.log" notice;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path "${dir}/tmp/body";
  proxy_temp_path "${dir}/tmp/proxy";
  fastcgi_temp_path "${dir}/tmp/fastcgi";
  uwsgi_temp_path "${dir}/tmp/uwsgi";
  scgi_temp_path "${dir}/tmp/scgi";
  upstream brokers {
${backendPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate "${tls.certPath}";
    ssl_certificate_key "${tls.keyPath}";
    location / {
      proxy_pass http://brokers;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
      proxy_next_upstream error timeout http_502 non_idempotent;
      proxy_next_upstream_tries ${backendPorts.length};
    }
  }
}
`);
  const proc = startProcess('nginx-lb', nginx, ['-c', conf, '-p', dir], process.env, dir, [join(dir, 'nginx-lb-error.log')]);
  const publicUrl = `https://127.0.0.1:${port}`;
  const { connect } = await import('node:net');
  await waitReady(proc, 'nginx load balancer', Date.now() + 10_000, () => new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }));
  return { publicUrl, caCertPath: tls.caCertPath, process: proc, stop: () => proc.stop() };
}

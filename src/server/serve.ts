/**
 * Runs challenge servers in the foreground until told to stop, the shape `forward` and `respond`
 * share. Stopping on SIGHUP matters: started as `ssh -t host certfleet forward …` from a prepare
 * action, the server learns that lematt/certfleet is done only through the pty hangup.
 */
import type { ListenAddress } from './listen.ts';
import { formatListen } from './listen.ts';
import { startHttpServers, type RequestHandler, type ServerLimits } from './http-server.ts';

/** Process signals that stop a foreground server. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

/** Options for {@link serveUntilStopped}. */
export interface ServeOptions {
  /** Prefix of every log line, e.g. `forward`. */
  name: string;
  addresses: readonly ListenAddress[];
  handler: RequestHandler;
  stderr: NodeJS.WritableStream;
  /** Aborting it stops the servers like a stop signal. */
  signal?: AbortSignal;
  limits?: Partial<ServerLimits>;
  /** Serve HTTPS with this certificate chain and key (the broker); plain HTTP without. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Log one line per request (default true); false when the handler logs its own. */
  logRequests?: boolean;
}

function bindHint(code: string | undefined): string {
  if (code === 'EACCES') return ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)';
  if (code === 'EADDRINUSE') return ' (another process is using this address)';
  return '';
}

function waitForStop(signal: AbortSignal | undefined): { stopped: Promise<string>; dispose: () => void } {
  let dispose = (): void => {};
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (name: NodeJS.Signals): void => resolve(name);
    const onAbort = (): void => resolve('abort');
    for (const name of STOP_SIGNALS) process.on(name, onSignal);
    signal?.addEventListener('abort', onAbort, { once: true });
    dispose = () => {
      for (const name of STOP_SIGNALS) process.off(name, onSignal);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) onAbort();
  });
  return { stopped, dispose };
}

/**
 * Binds `addresses`, logs `<name>: listening on …` to stderr, serves until SIGTERM, SIGHUP,
 * SIGINT or `signal` aborts, then closes every listener and connection.
 * Never throws: returns 0 after a clean stop, 1 when an address cannot be bound (the message
 * names the address and the reason).
 */
export async function serveUntilStopped(options: ServeOptions): Promise<number> {
  const { name, stderr } = options;
  // After an ssh hangup stderr may be gone; a failed log write must not kill the server.
  const ignore = (): void => {};
  stderr.on('error', ignore);
  const log = (line: string): void => {
    try {
      stderr.write(`${name}: ${line}\n`);
    } catch {
      // Same reason as above: logging is best effort.
    }
  };
  const stop = waitForStop(options.signal);
  try {
    let servers;
    try {
      servers = await startHttpServers({ ...options, log });
    } catch (err) {
      const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      log(`${(err as Error).message}${bindHint(code)}`);
      return 1;
    }
    log(`listening on ${servers.addresses.map(formatListen).join(', ')} (at most ${servers.connectionCap} connections at once)`);
    const why = await stop.stopped;
    await servers.close();
    log(`stopped (${why})`);
    return 0;
  } finally {
    stop.dispose();
    stderr.off('error', ignore);
  }
}

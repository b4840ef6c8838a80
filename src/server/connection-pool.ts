/**
 * The open connections of one process's challenge servers, and who goes when there are too many.
 *
 * A port-80 server on the internet is held open by idle and slow-header clients long before it
 * runs out of CPU. Refusing new connections at a cap (what `server.maxConnections` does) hands
 * the port to whoever connected first, which is the attacker; a CA's validation arrives last.
 * So when the pool is full, the connection that has waited longest without a request in progress
 * (never sent a complete request, or idle after a response) is closed to make room. A connection
 * whose request is being answered is never closed; a newcomer is refused only when every open
 * connection has a request in progress, which lasts a few milliseconds.
 */
import type { Socket } from 'node:net';

/** How often at most the pool logs what it shed (one summary line per window). */
export const SHED_REPORT_EVERY_MS = 10_000;

/** Counts since the process started. */
export interface PoolCounts {
  /** Connections closed to make room (idle or slow ones). */
  shed: number;
  /** New connections closed because every open one had a request in progress. */
  refused: number;
}

/** See the module comment. One pool serves all listeners of a process: they share its descriptors. */
export class ConnectionPool {
  /** Insertion order is the order in which sockets began to wait: the first is the oldest. */
  private readonly waiting = new Map<Socket, true>();
  /** Sockets with a request in progress, and how many (pipelined requests are answered in turn). */
  private readonly busy = new Map<Socket, number>();
  private readonly totals: PoolCounts = { shed: 0, refused: 0 };
  private readonly unreported: PoolCounts = { shed: 0, refused: 0 };
  private reportTimer: NodeJS.Timeout | undefined;

  /**
   * @param cap most connections open at once (at least 1)
   * @param log receives a summary line when connections are shed or refused, at most once per
   *   {@link SHED_REPORT_EVERY_MS} after the first
   */
  constructor(
    readonly cap: number,
    private readonly log: (line: string) => void = () => {},
  ) {
    if (!(cap >= 1)) throw new Error(`connection cap ${cap}: must be at least 1`);
  }

  /** Connections open now. */
  get size(): number {
    return this.waiting.size + this.busy.size;
  }

  /** Totals since the pool was made. */
  get counts(): Readonly<PoolCounts> {
    return { ...this.totals };
  }

  /**
   * Takes a newly accepted socket, first closing the longest-waiting idle or slow ones while the
   * pool is full. Returns false (and destroys `socket`) when every open connection is busy.
   */
  admit(socket: Socket): boolean {
    while (this.size >= this.cap) {
      const oldest = this.waiting.keys().next();
      if (oldest.done) break;
      this.waiting.delete(oldest.value);
      oldest.value.destroy();
      this.note('shed');
    }
    if (this.size >= this.cap) {
      socket.destroy();
      this.note('refused');
      return false;
    }
    this.waiting.set(socket, true);
    socket.once('close', () => {
      this.waiting.delete(socket);
      this.busy.delete(socket);
    });
    return true;
  }

  /** A complete request arrived on `socket`: it may not be shed until its answer is done. */
  requestStarted(socket: Socket): void {
    const inFlight = this.busy.get(socket);
    if (inFlight === undefined && !this.waiting.delete(socket)) return; // not ours, or closing
    this.busy.set(socket, (inFlight ?? 0) + 1);
  }

  /** An answer on `socket` is done (sent or aborted); with none left it waits again, as the newest. */
  requestEnded(socket: Socket): void {
    const inFlight = this.busy.get(socket);
    if (inFlight === undefined) return;
    if (inFlight > 1) return void this.busy.set(socket, inFlight - 1);
    this.busy.delete(socket);
    if (!socket.destroyed) this.waiting.set(socket, true);
  }

  /** Stops the report timer, logging what is still unreported. */
  close(): void {
    clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    this.report();
  }

  private note(kind: keyof PoolCounts): void {
    this.totals[kind]++;
    this.unreported[kind]++;
    if (this.reportTimer) return;
    this.report();
    const tick = (): void => {
      this.reportTimer = undefined;
      if (this.unreported.shed + this.unreported.refused === 0) return;
      this.report();
      this.reportTimer = setTimeout(tick, SHED_REPORT_EVERY_MS).unref();
    };
    this.reportTimer = setTimeout(tick, SHED_REPORT_EVERY_MS).unref();
  }

  private report(): void {
    const { shed, refused } = this.unreported;
    if (shed) this.log(`at ${this.cap} open connections: closed ${shed} idle or slow one(s) to make room`);
    if (refused) this.log(`at ${this.cap} open connections: refused ${refused} new one(s), all others busy`);
    this.unreported.shed = 0;
    this.unreported.refused = 0;
  }
}

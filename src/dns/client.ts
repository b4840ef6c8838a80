/**
 * A stub client that talks to one given server: queries over UDP with TCP fallback on
 * truncation (RFC 1035 §4.2.1, RFC 7766), RFC 2136 updates over TCP, optional TSIG.
 */
import { randomInt } from 'node:crypto';
import { DnsError, TsigError } from './errors.ts';
import { sameName } from './names.ts';
import { signMessage, verifyMessage, type TsigKey } from './tsig.ts';
import {
  exchangeTcp,
  exchangeUdp,
  formatServer,
  resolveServer,
  TransportFailure,
  type DnsServer,
} from './transport.ts';
import { Opcode, RRClass, RRType, rcodeName, typeName, type DnsMessage, type Question } from './types.ts';
import { encodeUpdate, type Prerequisite, type UpdateOp } from './update.ts';
import { decodeMessage, encodeMessage } from './wire.ts';

export type { DnsServer } from './transport.ts';

/** Options of `query`. */
export interface QueryOptions {
  /** Per UDP attempt, and for the whole TCP exchange. */
  timeoutMs: number;
  /** UDP sends before giving up (default 3). */
  attempts?: number;
  /** Sign the query and require a valid signature on the answer. */
  tsig?: TsigKey;
  /** RD flag (default true); false asks an authoritative server for its own data only. */
  recursionDesired?: boolean;
  /** `udp` (default) falls back to TCP when the answer is truncated; `tcp` uses TCP only. */
  transport?: 'udp' | 'tcp';
  /** Clock for TSIG, milliseconds since the epoch (tests skew it). */
  now?: () => number;
}

/** Options of `sendUpdate`. */
export interface UpdateOptions {
  timeoutMs?: number;
  /** `tcp` by default; `udp` tries UDP and falls back to TCP on truncation. */
  transport?: 'udp' | 'tcp';
  prerequisites?: Prerequisite[];
  now?: () => number;
}

/** EDNS buffer size that avoids IP fragmentation (DNS Flag Day 2020). */
const UDP_SIZE = 1232;

interface Request {
  id: number;
  opcode: number;
  question: Question;
  wire: Buffer;
  mac?: Buffer;
}

/**
 * Asks `server` for `name`/`type` (class IN) and returns the decoded answer whatever its rcode
 * (NXDOMAIN and REFUSED are answers too). Throws DnsError: `TIMEOUT` after the attempts,
 * `NETWORK` on socket errors, `FORMAT` for an undecodable or mismatched TCP answer, and for a
 * signed query an rcode or `TSIG` code with `tsigError` when the answer fails verification.
 */
export async function query(server: DnsServer, name: string, type: number, opts: QueryOptions): Promise<DnsMessage> {
  const question = { name, type, class: RRClass.IN };
  const id = randomInt(0, 0x10000);
  const wire = encodeMessage({
    id,
    rd: opts.recursionDesired ?? true,
    questions: [question],
    edns: { udpSize: UDP_SIZE, version: 0, dnssecOk: false, options: [] },
  });
  const context = { subject: `dns query ${name} ${typeName(type)}` };
  const request = sign({ id, opcode: Opcode.QUERY, question, wire }, server, context, opts);
  return exchange(server, request, { ...opts, transport: opts.transport ?? 'udp' }, context);
}

/**
 * Sends an RFC 2136 update for `zone` to `server`, signed with `tsig` when given. Returns the
 * answer when the server says NOERROR. Throws DnsError whose `code` is the rcode name
 * (NOTAUTH, REFUSED, NOTZONE, SERVFAIL, YXRRSET…) or TIMEOUT/NETWORK/FORMAT/TSIG, `tsigError`
 * set for TSIG failures, and a message naming zone and server:
 * `dns update zone int.example.com at 127.0.0.1:5353: REFUSED`.
 */
export async function sendUpdate(
  server: DnsServer,
  zone: string,
  updates: UpdateOp[],
  tsig: TsigKey | undefined,
  opts: UpdateOptions = {},
): Promise<DnsMessage> {
  const id = randomInt(0, 0x10000);
  const question = { name: zone, type: RRType.SOA, class: RRClass.IN };
  const wire = encodeUpdate(id, zone, updates, opts.prerequisites);
  const context = { subject: `dns update zone ${zone}`, zone };
  const request = sign({ id, opcode: Opcode.UPDATE, question, wire }, server, context, { tsig, now: opts.now });
  const answer = await exchange(
    server,
    request,
    { timeoutMs: opts.timeoutMs ?? 5000, tsig, transport: opts.transport ?? 'tcp', now: opts.now },
    context,
  );
  if (answer.rcode !== 0) {
    throw new DnsError({ ...context, server: formatServer(server), code: rcodeName(answer.rcode), rcode: answer.rcode });
  }
  return answer;
}

/** Signs the request when a key is given; an unusable key becomes DnsError code `TSIG`. */
function sign(
  request: Request,
  server: DnsServer,
  context: { subject: string; zone?: string },
  opts: { tsig?: TsigKey; now?: () => number },
): Request {
  if (!opts.tsig) return request;
  try {
    const signed = signMessage(request.wire, opts.tsig, { now: opts.now?.() });
    return { ...request, wire: signed.wire, mac: signed.mac };
  } catch (e) {
    if (!(e instanceof TsigError)) throw e;
    throw new DnsError({ ...context, server: formatServer(server), code: 'TSIG', tsigError: e.code, detail: e.message, cause: e });
  }
}

/** Decodes an answer if it belongs to `request` (ID, QR, opcode, question); else undefined. */
function matching(request: Request, wire: Buffer): DnsMessage | undefined {
  let m: DnsMessage;
  try {
    m = decodeMessage(wire);
  } catch {
    return undefined;
  }
  if (m.id !== request.id || !m.qr || m.opcode !== request.opcode) return undefined;
  const q = m.questions;
  // Some servers drop the question from error answers (FORMERR, NOTIMP); accept those only.
  if (q.length === 0) return m.rcode !== 0 ? m : undefined;
  const want = request.question;
  const same = q.length === 1 && sameName(q[0].name, want.name) && q[0].type === want.type && q[0].class === want.class;
  return same ? m : undefined;
}

async function exchange(
  server: DnsServer,
  request: Request,
  opts: QueryOptions & { transport: 'udp' | 'tcp' },
  context: { subject: string; zone?: string },
): Promise<DnsMessage> {
  const label = formatServer(server);
  const fail = (code: string, detail: string, extra: { rcode?: number; tsigError?: string; cause?: unknown } = {}) =>
    new DnsError({ ...context, server: label, code, detail, ...extra });
  let received: { wire: Buffer; answer: DnsMessage | undefined };
  try {
    received = await transact(server, request, opts);
  } catch (e) {
    if (e instanceof TransportFailure) throw fail(e.code, e.message, { cause: e });
    throw e;
  }
  const { wire, answer } = received;
  if (!answer) throw fail('FORMAT', 'TCP answer is malformed or does not match the question');
  if (opts.tsig) verifyAnswer(wire, answer, request, opts, fail);
  return answer;
}

/** UDP first unless told otherwise, then TCP when the UDP answer was truncated. */
async function transact(
  server: DnsServer,
  request: Request,
  opts: QueryOptions & { transport: 'udp' | 'tcp' },
): Promise<{ wire: Buffer; answer: DnsMessage | undefined }> {
  const target = await resolveServer(server);
  if (opts.transport === 'udp') {
    const wire = await exchangeUdp(target, request.wire, {
      timeoutMs: opts.timeoutMs,
      attempts: opts.attempts ?? 3,
      accept: (w) => matching(request, w) !== undefined,
    });
    const answer = matching(request, wire);
    if (answer && !answer.tc) return { wire, answer };
  }
  const wire = await exchangeTcp(target, request.wire, { timeoutMs: opts.timeoutMs });
  return { wire, answer: matching(request, wire) };
}

function verifyAnswer(
  wire: Buffer,
  answer: DnsMessage,
  request: Request,
  opts: QueryOptions,
  fail: (code: string, detail: string, extra?: { rcode?: number; tsigError?: string; cause?: unknown }) => DnsError,
): void {
  const tsig = opts.tsig as TsigKey;
  const rcode = answer.rcode;
  // An unsigned failure cannot make us accept anything, so report the server's rcode as is.
  if (!answer.tsig && rcode !== 0) throw fail(rcodeName(rcode), 'unsigned answer', { rcode, tsigError: 'UNSIGNED' });
  try {
    verifyMessage(wire, answer, tsig, { requestMac: request.mac, now: opts.now?.() });
  } catch (e) {
    if (!(e instanceof TsigError)) throw e;
    const code = rcode !== 0 ? rcodeName(rcode) : 'TSIG';
    throw fail(code, e.message, { rcode: rcode !== 0 ? rcode : undefined, tsigError: e.code, cause: e });
  }
}

/** RFC 2136 UPDATE messages: the zone, prerequisites and updates as typed values. */
import { rdataType } from './rdata.ts';
import { Opcode, RRClass, RRType, type RData, type ResourceRecord } from './types.ts';
import { encodeMessage } from './wire.ts';

/** One change in the update section (RFC 2136 §2.5). */
export type UpdateOp =
  /** Add one RR to an RRset (§2.5.1); adding an existing RR is a no-op on the server. */
  | { kind: 'add'; name: string; ttl: number; data: RData }
  /** Delete exactly this RR, class NONE (§2.5.4); other RRs of the RRset stay. */
  | { kind: 'delete'; name: string; data: RData }
  /** Delete a whole RRset, class ANY with empty RDATA (§2.5.2). */
  | { kind: 'delete-rrset'; name: string; type: number }
  /** Delete every RRset at a name, class ANY type ANY (§2.5.3). */
  | { kind: 'delete-name'; name: string };

/** One prerequisite (RFC 2136 §2.4). */
export type Prerequisite =
  | { kind: 'rrset-exists'; name: string; type: number }
  | { kind: 'rr-exists'; name: string; data: RData }
  | { kind: 'rrset-absent'; name: string; type: number }
  | { kind: 'name-in-use'; name: string }
  | { kind: 'name-absent'; name: string };

const empty = (type: number): RData => ({ kind: 'raw', type, bytes: Buffer.alloc(0) });

/** The update-section record for an operation, with the class and TTL §2.5 prescribes. */
export function updateRecord(op: UpdateOp, zoneClass: number = RRClass.IN): ResourceRecord {
  switch (op.kind) {
    case 'add':
      return { name: op.name, type: rdataType(op.data), class: zoneClass, ttl: op.ttl, data: op.data };
    case 'delete':
      return { name: op.name, type: rdataType(op.data), class: RRClass.NONE, ttl: 0, data: op.data };
    case 'delete-rrset':
      return { name: op.name, type: op.type, class: RRClass.ANY, ttl: 0, data: empty(op.type) };
    case 'delete-name':
      return { name: op.name, type: RRType.ANY, class: RRClass.ANY, ttl: 0, data: empty(RRType.ANY) };
  }
}

/** The prerequisite-section record for a condition (RFC 2136 §2.4.1–§2.4.5). */
export function prerequisiteRecord(p: Prerequisite, zoneClass: number = RRClass.IN): ResourceRecord {
  switch (p.kind) {
    case 'rrset-exists':
      return { name: p.name, type: p.type, class: RRClass.ANY, ttl: 0, data: empty(p.type) };
    case 'rr-exists':
      return { name: p.name, type: rdataType(p.data), class: zoneClass, ttl: 0, data: p.data };
    case 'rrset-absent':
      return { name: p.name, type: p.type, class: RRClass.NONE, ttl: 0, data: empty(p.type) };
    case 'name-in-use':
      return { name: p.name, type: RRType.ANY, class: RRClass.ANY, ttl: 0, data: empty(RRType.ANY) };
    case 'name-absent':
      return { name: p.name, type: RRType.ANY, class: RRClass.NONE, ttl: 0, data: empty(RRType.ANY) };
  }
}

/**
 * Encodes an UPDATE message for `zone` (class IN). Throws DnsWireError on invalid names or
 * data. Names are not checked to lie inside the zone; the server answers NOTZONE for that.
 */
export function encodeUpdate(
  id: number,
  zone: string,
  updates: UpdateOp[],
  prerequisites: Prerequisite[] = [],
): Buffer {
  return encodeMessage({
    id,
    opcode: Opcode.UPDATE,
    questions: [{ name: zone, type: RRType.SOA, class: RRClass.IN }],
    answers: prerequisites.map((p) => prerequisiteRecord(p)),
    authorities: updates.map((u) => updateRecord(u)),
  });
}

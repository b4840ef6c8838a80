/**
 * What the device-facing ACME server is given by `broker serve`, and what every endpoint sees of
 * one request.
 */
import type { IncomingMessage } from 'node:http';
import type { BrokerStore } from '../store/store.ts';
import type { BrokerOrder, Device } from '../types.ts';
import type { AcmeUrls, Route } from './urls.ts';

/** See handler.ts. */
export interface DeviceAcmeOptions {
  store: BrokerStore;
  /** No trailing slash; every URL given to devices starts with it. */
  publicUrl: string;
  now: () => Date;
  /** The upstream profile (advertised in meta.profiles when set); orders may name only this one. */
  profile: string | null;
  /** Offer renewalInfo (RFC 9773) in the directory and serve it. */
  ari: boolean;
  /** Called once an order became `processing`: wakes the worker. */
  finalized(order: BrokerOrder): void;
  /** Seconds a device should wait before polling a `processing` order again. */
  retryAfterSeconds(order: BrokerOrder, now: Date): number;
  /**
   * The renewalInfo for a certificate the broker issued, or null when there is none (yet): the
   * body as JSON text or as the object to send, and Retry-After (seconds or an HTTP date).
   * The upstream passthrough (upstream/renewal-info.ts) fits as it is.
   */
  renewalInfo(certId: string): Promise<{ body: string | object; retryAfter: string | number | null } | null>;
  /** Replaces the address records of the device's names; throws Error with a message to show. */
  setAddresses(device: Device, addresses: string[]): Promise<{ names: string[] }>;
  /** One line per request; never given secrets. */
  log(line: string): void;
}

/** One request as endpoints see it. */
export interface Exchange {
  opts: DeviceAcmeOptions;
  urls: AcmeUrls;
  route: Route;
  req: IncomingMessage;
  /** The request body (empty for GET and HEAD). */
  body: Buffer;
  /** The request's time, read once. */
  now: Date;
}

/** A successful answer; the boundary adds Replay-Nonce, Link and Cache-Control. */
export interface Answer {
  status: number;
  /** A JSON value (sent as application/json) or a text with its `contentType`. */
  json?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

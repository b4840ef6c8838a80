/**
 * The acme-dns client against a stand-in acme-dns server written here (acme-dns has no Debian
 * package). The stand-in implements the documented `POST /update` API
 * (github.com/joohoi/acme-dns#update-endpoint): X-Api-User/X-Api-Key, JSON
 * `{ subdomain, txt }` with a 43-character txt, `200 {"txt": …}`, 401 `{"error":"forbidden"}`,
 * 400 `{"error":"bad_txt"}` / `{"error":"bad_subdomain"}`, and it keeps the two most recent values
 * of each subdomain, as acme-dns does.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAcmeDnsProvider, type AcmeDnsAccount } from '../../../../src/dns/providers/acme-dns/provider.ts';
import { DnsProviderError } from '../../../../src/dns/providers/provider.ts';
import { newValue } from './contract.ts';

const ZONE = 'auth.acme-dns.test';
const accounts: Record<string, AcmeDnsAccount> = {
  'example.com': { username: 'c36f50e8-4632-44f0-83fe-e070fef28a10', password: 'htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z', subdomain: '8e5700ea-a4bf-41c7-8a77-e990661dcc6a', fulldomain: `8e5700ea-a4bf-41c7-8a77-e990661dcc6a.${ZONE}` },
  'other.example.org': { username: 'u2', password: 'p2-secret-password', subdomain: 'sub2' },
};

/** The stand-in acme-dns server. `values` holds what DNS would serve per subdomain, newest last. */
async function standInAcmeDns(opts: { stall?: boolean } = {}) {
  const values = new Map<string, string[]>();
  const requests: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      if (opts.stall) return; // never answers
      const send = (status: number, data: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      if (req.method !== 'POST' || req.url !== '/update') return send(404, { error: 'not_found' });
      const account = Object.values(accounts).find((a) => a.username === req.headers['x-api-user'] && a.password === req.headers['x-api-key']);
      if (!account) return send(401, { error: 'forbidden' });
      let data: { subdomain?: string; txt?: string };
      try {
        data = JSON.parse(body);
      } catch {
        return send(400, { error: 'malformed_json_payload' });
      }
      if (data.subdomain !== account.subdomain) return send(401, { error: 'bad_subdomain' });
      if (typeof data.txt !== 'string' || data.txt.length !== 43) return send(400, { error: 'bad_txt' });
      values.set(account.subdomain, [...(values.get(account.subdomain) ?? []), data.txt].slice(-2));
      send(200, { txt: data.txt });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    values,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('acme-dns provider against a stand-in acme-dns server', () => {
  let acmeDns: Awaited<ReturnType<typeof standInAcmeDns>>;
  before(async () => {
    acmeDns = await standInAcmeDns();
  });
  after(() => acmeDns?.close());
  const provider = (over: Partial<Parameters<typeof createAcmeDnsProvider>[0]> = {}) =>
    createAcmeDnsProvider({ apiUrl: `${acmeDns.url}/`, accounts, source: '/etc/certfleet/acmedns.json', ...over });

  it('posts the value for the CNAME target (fulldomain), with the documented headers and body', async () => {
    const value = newValue();
    await provider().present(`${accounts['example.com']!.fulldomain!}.`, value);
    const last = acmeDns.requests.at(-1)!;
    assert.equal(last.headers['x-api-user'], accounts['example.com']!.username);
    assert.equal(last.headers['x-api-key'], accounts['example.com']!.password);
    assert.deepEqual(JSON.parse(last.body), { subdomain: accounts['example.com']!.subdomain, txt: value });
  });

  it('apex and wildcard: both values are served together (acme-dns keeps the latest two)', async () => {
    const [apex, wildcard] = [newValue(), newValue()];
    const p = provider();
    await p.present('_acme-challenge.other.example.org', apex);
    await p.present('_acme-challenge.other.example.org', wildcard);
    assert.deepEqual(acmeDns.values.get('sub2'), [apex, wildcard]);
    const before = acmeDns.requests.length;
    await p.cleanup('_acme-challenge.other.example.org', apex);
    assert.equal(acmeDns.requests.length, before, 'cleanup sends nothing: acme-dns has no delete');
  });

  it('finds the account by name when the name has no fulldomain match', async () => {
    await provider().present('_acme-challenge.example.com', newValue());
    assert.equal(JSON.parse(acmeDns.requests.at(-1)!.body).subdomain, accounts['example.com']!.subdomain);
  });

  it('a name without an account fails before any request, listing the names that have one', async () => {
    const before = acmeDns.requests.length;
    await assert.rejects(provider().present('_acme-challenge.nobody.example.net', newValue()), {
      name: 'DnsProviderError',
      code: 'acme-dns',
      message: 'acme-dns: no account in /etc/certfleet/acmedns.json for _acme-challenge.nobody.example.net (neither its fulldomain nor _acme-challenge. of its name); accounts for: example.com, other.example.org',
    });
    assert.equal(acmeDns.requests.length, before);
  });

  it('a refused update names status and reason, never the password', async () => {
    const wrong = { ...accounts, 'example.com': { ...accounts['example.com']!, password: 'wrong-password-xyz' } };
    await assert.rejects(provider({ accounts: wrong }).present('_acme-challenge.example.com', newValue()), (e: unknown) => {
      assert.ok(e instanceof DnsProviderError);
      assert.equal(e.message, `acme-dns update of _acme-challenge.example.com (subdomain ${accounts['example.com']!.subdomain}) at ${acmeDns.url}/update: HTTP 401: forbidden`);
      assert.ok(!e.message.includes('wrong-password-xyz') && !e.message.includes(accounts['example.com']!.password));
      return true;
    });
    await assert.rejects(provider().present('_acme-challenge.example.com', 'too-short'), /HTTP 400: bad_txt$/);
  });

  it('a server that does not answer fails within the time limit', async () => {
    const stalled = await standInAcmeDns({ stall: true });
    try {
      const started = Date.now();
      await assert.rejects(provider({ apiUrl: stalled.url, timeoutMs: 300 }).present('_acme-challenge.example.com', newValue()), /: no answer within 0\.3 s$/);
      assert.ok(Date.now() - started < 3000);
    } finally {
      await stalled.close();
    }
  });

  it('nothing listening: the network error code', async () => {
    const closed = await standInAcmeDns();
    await closed.close();
    await assert.rejects(provider({ apiUrl: closed.url }).present('_acme-challenge.example.com', newValue()), /\/update: ECONNREFUSED$/);
  });
});

// broker.conf: every problem named with file and line, before anything else happens.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadBrokerSettings, parseBrokerSettings } from '../../../src/broker/config.ts';
import { formatDiagnostic, type Diagnostic } from '../../../src/config/diagnostics.ts';
import { orderDiagnostics } from '../../../src/config/parse.ts';
import { reporterFor } from '../../../src/config/reporter.ts';

const DNS = ['[dns:fleet]', 'zones: fleet.example.com', 'provider: rfc2136', 'server: 127.0.0.1:5353', 'tsigKey: k.', 'tsigSecret: c2VjcmV0c2VjcmV0c2VjcmV0'];
const GOOD = ['[broker]', 'listen: 127.0.0.1:8443 [::1]:8443', 'publicUrl: https://acme.example.com/', 'store: /var/lib/certfleet-broker',
  'upstream: https://acme-v02.api.letsencrypt.org/directory', 'accountKey: broker-account.pem', 'contact: ops@example.com', ''];

function parse(lines: string[]) {
  const diagnostics: Diagnostic[] = [];
  const { settings } = parseBrokerSettings(lines.join('\n'), '/etc/broker.conf', '/etc', reporterFor('broker.conf', diagnostics));
  return { settings, messages: orderDiagnostics(diagnostics, ['broker.conf']).map(formatDiagnostic) };
}

describe('broker.conf', () => {
  it('reads a complete [broker] with defaults for the rest', () => {
    const { settings, messages } = parse([...GOOD, ...DNS]);
    assert.deepEqual(messages, []);
    assert.equal(settings.publicUrl, 'https://acme.example.com');
    assert.deepEqual(settings.listen.map((l) => `${l.host}:${l.port}`), ['127.0.0.1:8443', '::1:8443']);
    assert.deepEqual(settings.store, { kind: 'dir', dir: '/var/lib/certfleet-broker' });
    assert.equal(settings.accountKeyFile, '/etc/broker-account.pem');
    assert.deepEqual(settings.contact, ['mailto:ops@example.com']);
    assert.equal(settings.parallel, 20);
    assert.equal(settings.ari, true);
    assert.deepEqual(settings.budget, { enabled: true, ordersPer3Hours: 300, certsPerDomainPerWeek: 50 });
    assert.equal(settings.dns.length, 1);
    assert.equal(settings.tls, null);
  });

  it('takes postgres:// stores and budget overrides', () => {
    const { settings, messages } = parse([...GOOD.filter((l) => !l.startsWith('store:')), 'store: postgres://broker:pw@db.internal:5432/fleet', 'certsPerDomainPerWeek: 5000', 'rateBudget: no', ...DNS]);
    assert.deepEqual(messages, []);
    assert.deepEqual(settings.store, { kind: 'postgres', url: 'postgres://broker:pw@db.internal:5432/fleet' });
    assert.equal(settings.budget.certsPerDomainPerWeek, 5000);
    assert.equal(settings.budget.enabled, false);
  });

  it('names the line of each bad value, and every missing key', () => {
    const { messages } = parse(['[broker]', 'listen: localhost:x', 'publicUrl: ftp://x', 'store: s3://bucket', 'upstream: http://ca.example.com/dir',
      'parallel: 0', 'tlsCert: cert.pem', 'contact: a@b.c,d@e.f', 'ari: maybe', ...DNS]);
    assert.deepEqual(messages, [
      'broker.conf:1: error: [broker]: accountKey is required (the upstream ACME account key (PEM); created by `broker serve` when missing)',
      'broker.conf:2: error: listen: "localhost:x": expected ADDR:PORT, [IPV6]:PORT, :PORT or PORT with ADDR an IP address',
      'broker.conf:3: error: publicUrl: "ftp://x" must be an https URL',
      'broker.conf:4: error: store: "s3://bucket": only a directory or a postgres:// URL',
      'broker.conf:5: error: upstream: "http://ca.example.com/dir" must be an https URL (plain http only for localhost, 127.0.0.0/8 or ::1)',
      'broker.conf:6: error: parallel: must be a whole number from 1 to 1000, got "0"',
      'broker.conf:7: error: tlsCert: needs tlsKey too (devices talk HTTPS: both, or neither behind a TLS-terminating load balancer)',
      'broker.conf:8: error: contact: "a@b.c,d@e.f" is not an e-mail address or mailto: URL (separate addresses with spaces)',
      'broker.conf:9: error: ari: must be yes or no, got "maybe"',
    ]);
  });

  it('needs [broker] and a [dns:*] section', () => {
    assert.deepEqual(parse(DNS).messages, ['broker.conf: error: missing section [broker]']);
    assert.match(parse(GOOD).messages.join('\n'), /broker\.conf:1: error: \[broker\]: the broker proves names with DNS-01/);
  });

  it('warns about unknown keys and sections', () => {
    const { messages } = parse([...GOOD, 'paralel: 3', '[brokr]', ...DNS]);
    assert.ok(messages.some((m) => /^broker\.conf:9: warning: .*paralel/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /^broker\.conf:10: warning: unknown section \[brokr\] \(did you mean \[broker\]\?\)/.test(m)), messages.join('\n'));
  });

  it('checks the TLS files and DNS secret files when loading, and reports an unreadable file by key and line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'broker-conf-'));
    await writeFile(join(dir, 'cert.pem'), 'not pem');
    await writeFile(join(dir, 'broker.conf'), [...GOOD, 'tlsCert: cert.pem', 'tlsKey: missing.pem', ...DNS].join('\n'));
    const { settings, diagnostics } = await loadBrokerSettings({ configPath: 'broker.conf', cwd: dir });
    assert.equal(settings, null);
    assert.deepEqual(diagnostics.map(formatDiagnostic), [
      'broker.conf:9: error: tlsCert: "cert.pem" holds no PEM block',
      'broker.conf:10: error: tlsKey: "missing.pem": cannot read: no such file or directory',
    ]);
    const none = await loadBrokerSettings({ configPath: 'nope.conf', cwd: dir });
    assert.deepEqual(none.diagnostics.map(formatDiagnostic), ['nope.conf: error: cannot read: no such file or directory']);
  });
});

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { planDeployments } from '../../../src/plan/deployments.ts';
import { deployEnv, expandDeploy, expandPrepare, globsFor, prepareEnv, shellQuote } from '../../../src/plan/placeholders.ts';
import { runShellCommand } from '../../../src/process/run-command.ts';
import type { ChangedCert } from '../../../src/plan/action-types.ts';
import { certPaths, type KeyType } from '../../../src/store/layout.ts';
import { actionsFrom, tempDir } from '../actions/support.ts';

function cert(configDir: string, names: string[], keyType: KeyType): ChangedCert {
  const paths = certPaths(names, keyType, { configDir, mode: 'test', rsaTag: 'rsa2048', curveTag: 'prime256v1' });
  return { names, keyType, certPath: paths.cert, keyPath: paths.key };
}

describe('shellQuote', () => {
  const cases = [
    { desc: 'plain path stays as lematt wrote it', in: '/home/certmaint/lematt/prod/cert/a.example.com', out: '/home/certmaint/lematt/prod/cert/a.example.com' },
    { desc: 'space', in: '/tmp/my conf', out: `'/tmp/my conf'` },
    { desc: 'dollar and backtick', in: '/tmp/$HOME`id`', out: `'/tmp/$HOME\`id\`'` },
    { desc: 'single quote', in: `/tmp/it's`, out: `'/tmp/it'\\''s'` },
    { desc: 'empty', in: '', out: `''` },
    { desc: 'glob characters are quoted', in: 'a*b', out: `'a*b'` },
  ];
  for (const c of cases) it(c.desc, () => assert.equal(shellQuote(c.in), c.out));
});

describe('placeholders', () => {
  it('DOMAIN in prepare; DOMAINS_CN/DOMAINS_ALL there stay literal (lematt made <name>S_CN)', () => {
    const cases = [
      { desc: 'every occurrence', in: 'serve DOMAIN --name=DOMAIN', out: 'serve a.test --name=a.test' },
      { desc: 'DOMAINS_CN is not mangled', in: 'x DOMAINS_CN DOMAINS_ALL DOMAIN', out: 'x DOMAINS_CN DOMAINS_ALL a.test' },
      { desc: 'case-sensitive', in: 'x domain Domain', out: 'x domain Domain' },
    ];
    for (const c of cases) assert.equal(expandPrepare(c.in, 'a.test'), c.out, c.desc);
    assert.throws(() => expandPrepare('x DOMAIN', 'a.test;id'), /not a host name/);
  });

  it('each placeholder only in its kind, as lematt', () => {
    const certs = [cert('/c', ['a.test'], 'rsa')];
    const ctx = { configDir: '/c', mode: 'prod' as const };
    assert.equal(expandDeploy('uploadCerts', 'cp CERTS KEYS DOMAINS_CN /x', certs, ctx), 'cp /c/prod/cert/a.test* KEYS DOMAINS_CN /x');
    assert.equal(expandDeploy('uploadKeys', 'cp CERTS KEYS /x', certs, ctx), 'cp CERTS /c/prod/key/a.test* /x');
    assert.equal(expandDeploy('update', 'r CERTS DOMAINS_CN DOMAINS_ALL', certs, ctx), 'r CERTS a.test a.test');
    assert.equal(globsFor([cert('/c', ['a.test', 'www.a.test'], 'rsa'), cert('/c', ['a.test', 'www.a.test'], 'ec')], 'cert', ctx),
      '/c/prod/cert/a.test* /c/prod/cert/www.a.test*', 'RSA and EC of one line share their globs');
  });

  it('a config dir with a space, $ and a quote: globs still expand to the real files and nothing is injected', async () => {
    const configDir = path.join(await tempDir(), `my conf $HOME it's`);
    const line = ['a.test', 'www.a.test'];
    const certs = [cert(configDir, line, 'rsa'), cert(configDir, line, 'ec')];
    for (const c of certs) {
      await mkdir(path.dirname(c.certPath), { recursive: true });
      await writeFile(c.certPath, 'cert');
    }
    const links = certPaths(line, 'rsa', { configDir, mode: 'test', rsaTag: 'rsa2048', curveTag: 'prime256v1' }).links;
    for (const link of links.filter((l) => l.path.includes('/cert/'))) await writeFile(link.path, 'link');
    const actions = actionsFrom('[default]', `uploadCerts: ["printf '%%s\\\\n' CERTS"]`, 'update: ["echo DOMAINS_CN; echo DOMAINS_ALL"]');
    const [deployment] = planDeployments(actions, [{ section: 'default', certs }], { configDir, mode: 'test' });
    const upload = await runShellCommand(deployment!.commands[0]!.command, { timeoutMs: 5_000 });
    assert.equal(upload.exitCode, 0, upload.output);
    const cdir = path.join(configDir, 'test', 'cert');
    // sorted here: sh orders a glob's matches by the locale's collation
    assert.deepEqual(upload.output.trim().split('\n').sort(), [
      `${cdir}/a.test-cert-combined.rsa2048.test.pem`,
      `${cdir}/a.test_www.a.test-cert-combined.prime256v1.test.pem`,
      `${cdir}/a.test_www.a.test-cert-combined.rsa2048.test.pem`,
      `${cdir}/www.a.test-cert-combined.rsa2048.test.pem`,
    ].sort());
    const update = await runShellCommand(deployment!.commands[1]!.command, { timeoutMs: 5_000 });
    assert.equal(update.output, 'a.test\na.test www.a.test\n');
  });

  it('environment variables carry the data, one line per certificate where there may be several', () => {
    const ctx = { configDir: '/c', mode: 'test' as const };
    const certs = [cert('/c', ['b.test', 'www.b.test'], 'rsa'), cert('/c', ['a.test'], 'ec')];
    assert.deepEqual(deployEnv('web', 'update', certs, ctx), {
      CERTFLEET_ACTION: 'update',
      CERTFLEET_SECTION: 'web',
      CERTFLEET_MODE: 'test',
      CERTFLEET_CONFIG_DIR: '/c',
      CERTFLEET_CN: 'a.test b.test',
      CERTFLEET_NAMES: 'a.test b.test www.b.test',
      CERTFLEET_CERTS: '/c/test/cert/b.test_www.b.test-cert-combined.rsa2048.test.pem\n/c/test/cert/a.test-cert-combined.prime256v1.test.pem',
      CERTFLEET_KEYS: '/c/test/key/b.test_www.b.test-key.rsa2048.test.pem\n/c/test/key/a.test-key.prime256v1.test.pem',
      CERTFLEET_KEY_TYPES: 'rsa\nec',
    });
    assert.deepEqual(prepareEnv({ name: 'www.b.test', section: 'every', certNames: ['b.test', 'www.b.test'], keyType: 'ec' }, ctx), {
      CERTFLEET_ACTION: 'prepare',
      CERTFLEET_SECTION: 'every',
      CERTFLEET_MODE: 'test',
      CERTFLEET_CONFIG_DIR: '/c',
      CERTFLEET_DOMAIN: 'www.b.test',
      CERTFLEET_CN: 'b.test',
      CERTFLEET_NAMES: 'b.test www.b.test',
      CERTFLEET_KEY_TYPE: 'ec',
    });
  });
});

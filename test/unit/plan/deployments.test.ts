import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupBySection, planDeployments, prepareCommands } from '../../../src/plan/deployments.ts';
import type { ChangedCert } from '../../../src/plan/action-types.ts';
import { certPaths, type KeyType } from '../../../src/store/layout.ts';
import { actionsFrom, APPENDIX_A_ACTIONS, APPENDIX_A_LINES } from '../actions/support.ts';

const ctx = { configDir: '/srv/lmt', mode: 'test' as const };
const naming = { ...ctx, rsaTag: 'rsa2048', curveTag: 'prime256v1' };

function changed(names: string[], keyType: KeyType): ChangedCert {
  const paths = certPaths(names, keyType, naming);
  return { names, keyType, certPath: paths.cert, keyPath: paths.key };
}

/** Both key types of each line, in domains-file order. */
function allOf(lines: string[][]): ChangedCert[] {
  return lines.flatMap((names) => [changed(names, 'rsa'), changed(names, 'ec')]);
}

const bases = (certs: ChangedCert[]) => certs.map((c) => `${c.certPath.replace(/^.*\/cert\//, '').replace(/-cert-combined\./, ' ')}`);
const globs = (...names: string[]) => names.map((n) => `/srv/lmt/test/cert/${n}*`).join(' ');

describe('groupBySection: lematt.md Appendix A', () => {
  const actions = actionsFrom(...APPENDIX_A_ACTIONS);
  const groups = groupBySection(actions, allOf(APPENDIX_A_LINES));

  it('puts each certificate in the section of each of its names plus [every]; [every] runs last', () => {
    assert.deepEqual(groups.map((g) => [g.section, bases(g.certs)]), [
      ['default', [
        'example.com_mail.example.com_www.example.com rsa2048.test.pem', 'example.com_mail.example.com_www.example.com prime256v1.test.pem',
        'other.net_api.other.net_www.other.org rsa2048.test.pem', 'other.net_api.other.net_www.other.org prime256v1.test.pem',
      ]],
      ['override-mail', [
        'example.com_mail.example.com_www.example.com rsa2048.test.pem', 'example.com_mail.example.com_www.example.com prime256v1.test.pem',
        'single.example.org rsa2048.test.pem', 'single.example.org prime256v1.test.pem',
      ]],
      ['every', bases(allOf(APPENDIX_A_LINES))],
    ]);
  });

  it('expands CERTS, KEYS, DOMAINS_CN and DOMAINS_ALL as lematt did (names in sorted order)', () => {
    const plan = planDeployments(actions, groups, ctx);
    assert.deepEqual(plan.map((d) => [d.section, d.missing, d.commands.map((c) => `${c.kind}@${c.line}: ${c.command}`)]), [
      ['default', false, [
        `uploadCerts@3: echo UPCERT-DEFAULT ${globs('example.com', 'mail.example.com', 'www.example.com', 'other.net', 'api.other.net', 'www.other.org')} >> /srv/lmt/actions.log`,
        `uploadKeys@4: echo UPKEY-DEFAULT ${globs('example.com', 'mail.example.com', 'www.example.com', 'other.net', 'api.other.net', 'www.other.org').replace(/\/cert\//g, '/key/')} >> /srv/lmt/actions.log`,
        'update@2: echo UPDATE-DEFAULT CN=[example.com other.net] ALL=[api.other.net example.com mail.example.com other.net www.example.com www.other.org] >> /srv/lmt/actions.log',
      ]],
      ['override-mail', false, [
        'update@15: echo UPDATE-MAIL CN=[example.com single.example.org] ALL=[example.com mail.example.com single.example.org www.example.com] >> /srv/lmt/actions.log',
      ]],
      ['every', false, [
        `uploadCerts@8: echo UPCERT-EVERY ${globs('example.com', 'mail.example.com', 'www.example.com', 'single.example.org', 'other.net', 'api.other.net', 'www.other.org')} >> /srv/lmt/actions.log`,
        'update@9: echo UPDATE-EVERY CN=[example.com other.net single.example.org] ALL=[api.other.net example.com mail.example.com other.net single.example.org www.example.com www.other.org] >> /srv/lmt/actions.log',
      ]],
    ]);
    assert.equal(plan[0]!.commands[0]!.env.CERTFLEET_SECTION, 'default');
    assert.equal(plan[0]!.commands[0]!.env.CERTFLEET_ACTION, 'uploadCerts');
  });

  it('the first prepare list for example.com is lematt\'s six commands, in its order', () => {
    const steps = prepareCommands(actions, APPENDIX_A_LINES[0]!);
    assert.deepEqual(steps.map((s) => [s.name, s.commands.map((c) => `[${c.section}] ${c.command}`)]), [
      ['example.com', ['[default] /srv/lmt/prep.sh default example.com', '[every] /srv/lmt/prep.sh every example.com']],
      ['mail.example.com', ['[override-mail] /srv/lmt/prep.sh mail mail.example.com', '[every] /srv/lmt/prep.sh every mail.example.com']],
      ['www.example.com', ['[default] /srv/lmt/prep.sh default www.example.com', '[every] /srv/lmt/prep.sh every www.example.com']],
    ]);
  });
});

describe('groupBySection: edge cases', () => {
  const cases: { desc: string; conf: string[]; changed: ChangedCert[]; want: [string, string[]][] }[] = [
    {
      desc: 'a failed issuance is not a change: only the certificates passed in are grouped',
      conf: APPENDIX_A_ACTIONS,
      changed: [changed(['single.example.org'], 'ec')],
      want: [['override-mail', ['single.example.org']], ['every', ['single.example.org']]],
    },
    {
      desc: 'first-insertion order follows the changed list; [every] stays last',
      conf: APPENDIX_A_ACTIONS,
      changed: [changed(['single.example.org'], 'rsa'), changed(['other.net'], 'rsa')],
      want: [['override-mail', ['single.example.org']], ['default', ['other.net']], ['every', ['single.example.org', 'other.net']]],
    },
    {
      desc: 'sections without upload or update commands are left out; no [every] is fine',
      conf: ['[default]', 'prepare: ["x DOMAIN"]', '[web]', 'domains: www.a.test', 'update: ["reload"]'],
      changed: [changed(['a.test', 'www.a.test'], 'rsa'), changed(['b.test'], 'rsa')],
      want: [['web', ['a.test']]],
    },
    {
      desc: 'override names match exactly (case-sensitive), as lematt',
      conf: ['[default]', 'update: ["d"]', '[web]', 'domains: WWW.a.test', 'update: ["w"]'],
      changed: [changed(['a.test', 'www.a.test'], 'rsa')],
      want: [['default', ['a.test']]],
    },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const groups = groupBySection(actionsFrom(...c.conf), c.changed);
      assert.deepEqual(groups.map((g) => [g.section, g.certs.map((cert) => cert.names[0]!)]), c.want);
    });
  }
});

describe('planDeployments', () => {
  it('merges groups of one section, rebuilds commands from the current conf, and flags a section gone from it', () => {
    const actions = actionsFrom('[default]', 'update: ["reload DOMAINS_CN"]', '[every]', 'update: ["notify"]');
    const a = changed(['a.test'], 'rsa');
    const b = changed(['b.test'], 'ec');
    const plan = planDeployments(actions, [
      { section: 'every', certs: [a] },
      { section: 'default', certs: [a] },
      { section: 'old', certs: [b] },
      { section: 'default', certs: [b, a] },
    ], ctx);
    assert.deepEqual(plan.map((d) => [d.section, d.missing, d.certs.map((c) => c.names[0]), d.commands.map((c) => c.command)]), [
      ['default', false, ['a.test', 'b.test'], ['reload a.test b.test']],
      ['old', true, ['b.test'], []],
      ['every', false, ['a.test'], ['notify']],
    ]);
  });

  it('refuses to splice a name that is not a host name (e.g. from a tampered state file)', () => {
    const actions = actionsFrom('[default]', 'update: ["reload DOMAINS_ALL"]');
    const evil = { ...changed(['a.test'], 'rsa'), names: ['a.test', 'x;rm -rf ~'] };
    assert.throws(() => planDeployments(actions, [{ section: 'default', certs: [evil] }], ctx), /"x;rm -rf ~": not a host name/);
  });
});

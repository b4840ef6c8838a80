/**
 * The directories certfleet creates, each with an explicit mode whatever the umask (cron and
 * service managers may run it with 000 or 077): `mkdir`'s mode is masked by the umask, so every
 * directory made here is chmod-ed after it is made. Existing directories are left as they are
 * (see tree-check.ts for the warning about loose ones).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** `<mode>/`, `cert/` and `csr/`: readable by the web server and the upload user, as lematt's. */
export const MODE_DIR_PUBLIC = 0o755;
/** `key/`: its owner, plus a group that may be given the keys (with chgrp, files 0640). */
export const MODE_DIR_KEYS = 0o750;
/** `.certfleet/` and directories made for the account key: certfleet's user alone. */
export const MODE_DIR_PRIVATE = 0o700;

/**
 * Makes `dir` with exactly `mode` when it does not exist, and each missing parent with
 * `parentMode` (default `mode`). A directory that exists (or that another process makes at the
 * same moment) is left alone.
 * @throws Error when `dir` exists but is not a directory, or for a filesystem error.
 */
export async function ensureDir(dir: string, mode: number, parentMode: number = mode): Promise<void> {
  const st = await fs.stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (st) {
    if (!st.isDirectory()) throw new Error(`${dir}: exists and is not a directory`);
    return;
  }
  const parent = path.dirname(dir);
  if (parent !== dir) await ensureDir(parent, parentMode, parentMode);
  try {
    await fs.mkdir(dir, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  await fs.chmod(dir, mode);
}

/** The directories of a mode tree, as `modeDirs` names them. */
export interface ModeTree {
  key: string;
  csr: string;
  cert: string;
  state: string;
}

/**
 * Makes the missing directories of a mode tree: `<mode>/`, `cert/` and `csr/` 0755 (as lematt
 * left them, so other users reach the certificates), `key/` 0750, `.certfleet/` 0700.
 */
export async function ensureModeTree(dirs: ModeTree): Promise<void> {
  await ensureDir(path.dirname(dirs.key), MODE_DIR_PUBLIC);
  await ensureDir(dirs.key, MODE_DIR_KEYS, MODE_DIR_PUBLIC);
  await ensureDir(dirs.csr, MODE_DIR_PUBLIC);
  await ensureDir(dirs.cert, MODE_DIR_PUBLIC);
  await ensureDir(dirs.state, MODE_DIR_PRIVATE, MODE_DIR_PUBLIC);
}

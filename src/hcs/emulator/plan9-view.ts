/**
 * The host's 9p server for one Plan9 share, as the emulator stands in for it: what the guest finds at
 * `<vmDir>/plan9/<name>` is what a real guest reaches over vsock port 564 with aname=<name>.
 *   Flags without ReadOnly and RestrictFileAccess   a symlink to Path (the guest mounts the directory itself)
 *   ReadOnly                                        a directory with Path bind-mounted read-only: a guest that
 *                                                   mounts the share read-write still cannot write through it
 *   RestrictFileAccess (+ AllowedFiles)             a read-only tmpfs directory holding only the allowed names,
 *                                                   each bind-mounted from Path/<name> (read-only with ReadOnly):
 *                                                   no other file of Path is there, and nothing can be created
 * The view's mounts are private, so the guest's copy of them neither receives nor sends mount events. Removal
 * unmounts the view deepest first and removes it (never recursively deleting through a mount).
 * HRESULTs (what HCS answers for each is not documented; the ones marked "guess" are ours):
 *   Path not absolute, not a directory; unknown Flags bits; AllowedFiles without RestrictFileAccess (guess);
 *   an allowed name that is not one path component                           E_INVALIDARG
 *   Path missing; an allowed name missing in Path (guess)                     ERROR_FILE_NOT_FOUND
 *   a share of that name already added (guess)                                ERROR_ALREADY_EXISTS
 *   Remove of a share that is not there (guess)                               ERROR_NOT_FOUND
 * LinuxMetadata, CaseSensitive, UseShareRootIdentity and UnlimitedConnections are accepted and have nothing
 * to change here (the host is Linux: metadata and case sensitivity are native; one guest per share).
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, rmdir, stat, symlink, unlink, writeFile } from '../../async/index.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HResult, ignoreAbsent } from '../../errdefs/index.js';
import { logTeardown, rootLogger } from '../../log/index.js';
import { Plan9ShareFlags } from '../schema/index.js';
import { mountsUnder } from './teardown.js';

const run = promisify(execFile);
const TOOL_TIMEOUT_MS = 15_000;

const KNOWN_FLAGS = Object.values(Plan9ShareFlags).reduce<number>((a, b) => a | b, 0);

export type Fail = (hresult: number, message: string, cause?: unknown) => Error;

export interface Plan9ShareSettings {
  readonly Path?: unknown;
  readonly Flags?: unknown;
  readonly AllowedFiles?: unknown;
}

const mount = (args: readonly string[]): Promise<unknown> => run('mount', args, { timeout: TOOL_TIMEOUT_MS });

/** Validates the share and builds its view at `link`. `what` names the share in errors. */
export async function addPlan9View(link: string, s: Plan9ShareSettings, what: string, fail: Fail): Promise<void> {
  const path = s.Path;
  if (typeof path !== 'string' || !path.startsWith('/')) throw fail(HResult.E_INVALIDARG, `${what} needs an absolute host path, got ${JSON.stringify(path ?? null)}`);
  const flags = s.Flags ?? 0;
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || (flags & ~KNOWN_FLAGS) !== 0) {
    throw fail(HResult.E_INVALIDARG, `${what}: Flags ${JSON.stringify(flags)} has bits outside the Plan9ShareFlags (0x${KNOWN_FLAGS.toString(16)})`);
  }
  const readOnly = (flags & Plan9ShareFlags.ReadOnly) !== 0;
  const restrict = (flags & Plan9ShareFlags.RestrictFileAccess) !== 0;
  const allowed = s.AllowedFiles ?? [];
  if (!Array.isArray(allowed) || allowed.some((n) => typeof n !== 'string' || n === '' || n === '.' || n === '..' || n.includes('/') || n.includes('\0'))) {
    throw fail(HResult.E_INVALIDARG, `${what}: AllowedFiles must be file names in Path, got ${JSON.stringify(allowed)}`);
  }
  if (allowed.length > 0 && !restrict) throw fail(HResult.E_INVALIDARG, `${what}: AllowedFiles needs the RestrictFileAccess flag`);
  const st = await stat(path).catch(ignoreAbsent);
  if (st === undefined) throw fail(HResult.ErrFileNotFound, `${what}: host path ${path} not found`);
  if (!st.isDirectory()) throw fail(HResult.E_INVALIDARG, `${what}: host path ${path} is not a directory`);
  for (const n of allowed as string[]) {
    if ((await stat(join(path, n)).catch(ignoreAbsent)) === undefined) throw fail(HResult.ErrFileNotFound, `${what}: allowed file ${n} not found in ${path}`);
  }
  if ((await lstat(link).catch(ignoreAbsent)) !== undefined) throw fail(HResult.ErrAlreadyExists, `${what} is already added`);
  await mkdir(join(link, '..'), { recursive: true, mode: 0o700 });
  if (!readOnly && !restrict) {
    await symlink(path, link);
    return;
  }
  await mkdir(link, { mode: 0o755 });
  try {
    if (restrict) await restrictedView(link, path, allowed as string[], readOnly);
    else await roBind(path, link, true);
  } catch (err) {
    await unmountView(link).catch(logTeardown(rootLogger(), 'HCS emulator: unmounting a Plan9 share view that could not be built', { link }));
    await rmdir(link).catch(logTeardown(rootLogger(), 'HCS emulator: removing a Plan9 share view that could not be built', { link }));
    throw fail(HResult.E_FAIL, `${what}: cannot build the share: ${(err as Error).message}`, err);
  }
}

/** Binds `source` at `target` (a private mount), read-only when asked. */
async function roBind(source: string, target: string, readOnly: boolean): Promise<void> {
  await mount(['--bind', source, target]);
  await mount(['--make-private', target]);
  if (readOnly) await mount(['-o', 'remount,bind,ro', target]);
}

async function restrictedView(link: string, path: string, allowed: readonly string[], readOnly: boolean): Promise<void> {
  await mount(['-t', 'tmpfs', '-o', 'mode=0755,size=64k', 'tmpfs', link]);
  await mount(['--make-private', link]);
  for (const n of allowed) {
    const target = join(link, n);
    if ((await stat(join(path, n))).isDirectory()) await mkdir(target);
    else await writeFile(target, '');
    await roBind(join(path, n), target, readOnly);
  }
  await mount(['-o', 'remount,ro', link]);
}

async function unmountView(link: string): Promise<void> {
  const points = await mountsUnder(link);
  for (const p of points.reverse()) await run('umount', [p], { timeout: TOOL_TIMEOUT_MS });
}

/** Removes the view at `link`: unlinks a plain share, unmounts (deepest first) and removes a built one. */
export async function removePlan9View(link: string, what: string, fail: Fail): Promise<void> {
  const st = await lstat(link).catch(ignoreAbsent);
  if (st === undefined) throw fail(HResult.ErrElementNotFound, `${what} is not added`);
  try {
    if (!st.isDirectory()) {
      await unlink(link);
      return;
    }
    await unmountView(link);
    await rmdir(link);
  } catch (err) {
    throw fail(HResult.E_FAIL, `${what}: cannot remove ${link}: ${(err as Error).message}`, err);
  }
}

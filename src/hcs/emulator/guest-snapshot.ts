/**
 * The guest agent's V8 start-up snapshot (scripts/build-steps/40-guest-snapshot.mjs): `<entry>.snapshot`, with
 * `<entry>.snapshot.json` saying what made it. Node started with `--snapshot-blob <blob>` deserializes the
 * agent's heap (Node's bootstrap and the agent's evaluated modules) instead of loading the bundle, and runs it
 * exactly as the plain entry. A blob works only with the node binary that made it, and a corrupt or foreign
 * blob aborts Node at start, so it is used only when its record still matches: this process's Node (version,
 * and the executable's size, mtime and inode: the agent is spawned with process.execPath), the entry's bundle
 * and the blob itself (size and mtime: a rebuild or any rewrite changes them). Otherwise the agent starts from
 * the entry as before, and the first check says why, once per entry and process. A snapshot-started agent
 * that dies before it is ready (a blob corrupted behind an unchanged record) turns it off for this process.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Logger } from '../../log/index.js';

export const GUEST_SNAPSHOT_FORMAT = 'containerd-shim-lcow-v1/guest-snapshot@1';

/** Per entry: the blob to use, or null (none, or not usable). */
const decided = new Map<string, string | null>();

interface FileKey {
  readonly size: number;
  readonly mtimeMs: number;
}

/** mtimes compare within a millisecond: a copy that keeps timestamps (`cp -a`, Node's cpSync) may round them to it. */
const sameFile = (path: string, want: unknown, ino?: boolean): boolean => {
  if (typeof want !== 'object' || want === null) return false;
  const w = want as Partial<FileKey & { ino: number }>;
  const st = statSync(path);
  return st.size === w.size && Math.abs(st.mtimeMs - (w.mtimeMs ?? NaN)) < 1 && (!ino || st.ino === w.ino);
};

/** Why the blob beside `entry` cannot start this process's agents; undefined when it can. */
function unusable(entry: string, blob: string): string | undefined {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(readFileSync(`${blob}.json`, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return `its record ${blob}.json cannot be read (${String(err)})`;
  }
  if (rec['format'] !== GUEST_SNAPSHOT_FORMAT) return `its record has format ${JSON.stringify(rec['format'])}, not ${GUEST_SNAPSHOT_FORMAT}`;
  const node = rec['node'] as { version?: unknown } | undefined;
  if (node?.version !== process.version) return `it was made by node ${String(node?.version)}, this is ${process.version}`;
  try {
    if (!sameFile(process.execPath, node, true)) return `it was made by another node executable than ${process.execPath} (size, mtime or inode differ)`;
    if (!sameFile(entry, rec['entry'])) return `${entry} changed since it was made`;
    if (!sameFile(blob, rec['blob'])) return 'the blob changed since it was made (size or mtime differ)';
  } catch (err) {
    return `cannot check it (${String(err)})`;
  }
  return undefined;
}

/**
 * Node's arguments before the agent's own for `entry`: `--snapshot-blob <blob> --no-warnings <entry>` when
 * its snapshot is usable, else `--no-warnings <entry>`. The entry stays argv[1] either way (the agent reads
 * its arguments from argv[2] on; Node takes the first non-option as the end of its own options).
 */
export function guestNodeArgs(entry: string, log: Logger): string[] {
  let blob = decided.get(entry);
  if (blob === undefined) {
    const candidate = `${entry}.snapshot`;
    const why = existsSync(candidate) ? unusable(entry, candidate) : 'absent';
    blob = why === undefined ? candidate : null;
    decided.set(entry, blob);
    if (why === undefined) log.debug('HCS emulator: the guest agent starts from its V8 start-up snapshot', { blob });
    else if (why === 'absent') log.debug('HCS emulator: no start-up snapshot beside the guest agent; it loads its entry', { entry });
    else log.info('HCS emulator: not using the guest agent\'s start-up snapshot; it loads its entry', { blob: candidate, reason: why });
  }
  return blob === null ? ['--no-warnings', entry] : ['--snapshot-blob', blob, '--no-warnings', entry];
}

/** Whether these are the arguments of a snapshot start. */
export const startsFromSnapshot = (nodeArgs: readonly string[]): boolean => nodeArgs[0] === '--snapshot-blob';

/** An agent started from the blob beside `entry` failed before it was ready: this process no longer uses it. */
export function rejectGuestSnapshot(entry: string, reason: string, log: Logger): void {
  if (decided.get(entry) === null) return;
  decided.set(entry, null);
  log.warn('HCS emulator: the guest agent\'s start-up snapshot failed; agents load their entry from now on', { entry, reason });
}

/**
 * How the emulator turns a virtual disk into the block device the guest sees (the hypervisor's part):
 *   *.vhd   a fixed VHD: loop device over bytes [0, current size), the 512-byte footer left out
 *   *.vhdx  our VHDX reader (src/vhd): the payload must be one contiguous range (create-scratch writes it
 *           so; a VHDX with no block allocated yet is allocated on first attach) → loop with offset+size
 * A loop device is made with `losetup` (util-linux) and recorded beside the device link as
 * `<link>.loop.json` ({Device, BackingFile, Offset}), so a teardown in another process (the shim's
 * `delete` after a crash) can detach exactly the devices this VM made, after checking in /sys that the
 * device still has that backing file and offset. Read-only attachments are read-only loop devices.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile, realpath, rm, writeFile } from '../../async/index.js';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { ignoreAbsent, trySync } from '../../errdefs/index.js';
import { logTeardown, rootLogger, type Logger } from '../../log/index.js';
import { readFixedVhd, readVhdx } from '../../vhd/index.js';

const run = promisify(execFile);
const TOOL_TIMEOUT_MS = 15_000;

export interface LoopRecord {
  readonly Device: string;
  readonly BackingFile: string;
  readonly Offset: number;
}

export type DiskKind = 'vhd' | 'vhdx';

/** The disk format of `path` by its extension (what HCS goes by too), or undefined for other files. */
export function diskKind(path: string): DiskKind | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.vhdx')) return 'vhdx';
  if (lower.endsWith('.vhd')) return 'vhd';
  return undefined;
}

/** Attaches `path` as a loop device and writes its record at `recordPath`. Throws the format error as is. */
export async function attachDisk(path: string, kind: DiskKind, readOnly: boolean, recordPath: string): Promise<LoopRecord> {
  const file = await realpath(path);
  const range = kind === 'vhd'
    ? { offset: 0, size: (await readFixedVhd(file)).diskSize }
    : await readVhdx(file, { allocate: !readOnly }).then((g) => ({ offset: g.payloadOffset, size: g.virtualSize }));
  const args = ['--find', '--show', '--offset', String(range.offset), '--sizelimit', String(range.size), ...(readOnly ? ['--read-only'] : []), file];
  const { stdout } = await run('losetup', args, { timeout: TOOL_TIMEOUT_MS });
  const device = stdout.trim();
  if (!/^\/dev\/loop\d+$/.test(device)) throw new Error(`losetup printed ${JSON.stringify(device)}, not a loop device`);
  const record: LoopRecord = { Device: device, BackingFile: file, Offset: range.offset };
  try {
    await writeFile(recordPath, JSON.stringify(record), { mode: 0o600 });
  } catch (err) {
    await run('losetup', ['-d', device], { timeout: TOOL_TIMEOUT_MS }).catch(logTeardown(rootLogger(), 'HCS emulator: losetup -d after the loop record could not be written', { device }));
    throw err;
  }
  return record;
}

/** True when the loop device still has the record's backing file and offset (it was not reused). */
async function stillOurs(r: LoopRecord): Promise<boolean> {
  const sys = join('/sys/block', basename(r.Device), 'loop');
  const backing = ((await readFile(join(sys, 'backing_file'), 'utf8').catch(ignoreAbsent)) ?? '').trim().replace(/ \(deleted\)$/, '');
  const offset = Number(((await readFile(join(sys, 'offset'), 'utf8').catch(ignoreAbsent)) ?? '-1').trim());
  return backing === r.BackingFile && offset === r.Offset;
}

/**
 * Detaches the loop device recorded at `recordPath` (if it is still ours) and removes the record. The
 * kernel detaches a device that is still mounted once its last user goes (autoclear).
 */
export async function detachDisk(recordPath: string): Promise<LoopRecord | undefined> {
  let record: LoopRecord;
  try {
    record = JSON.parse(await readFile(recordPath, 'utf8')) as LoopRecord;
  } catch {
    return undefined;
  }
  if (/^\/dev\/loop\d+$/.test(record.Device) && (await stillOurs(record))) {
    await run('losetup', ['-d', record.Device], { timeout: TOOL_TIMEOUT_MS });
  }
  await rm(recordPath, { force: true });
  return record;
}

/** Detaches every loop device recorded below `<vmDir>/scsi` and `<vmDir>/vpmem`; returns the devices. */
export async function detachAllDisks(vmDir: string, log: Logger): Promise<string[]> {
  const done: string[] = [];
  for (const sub of ['scsi', 'vpmem']) {
    const dir = join(vmDir, sub);
    // synchronous, as the rest of the teardown's listings (teardown.ts)
    for (const name of trySync(() => readdirSync(dir), ignoreAbsent) ?? []) {
      if (!name.endsWith('.loop.json')) continue;
      try {
        const r = await detachDisk(join(dir, name));
        if (r) done.push(r.Device);
      } catch (err) {
        log.warn('HCS emulator: detaching a loop device failed', { record: join(dir, name), error: String(err) });
      }
    }
  }
  return done;
}

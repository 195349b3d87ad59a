/**
 * The guest half of a Plan9 share (MappedDirectory) over the emulator's share views (plan9-view.ts): the
 * whole share is mounted at MountPath (a directory, as the real guest's 9p mount), a single-file share shows
 * only its file, ReadOnly makes every mount of it read-only, a read-only share stays read-only even when the
 * guest asks for read-write, and Remove unmounts everything of it and removes MountPath.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HResult } from '../../src/errdefs/index.js';
import { addPlan9View, removePlan9View } from '../../src/hcs/emulator/plan9-view.js';
import { mountsUnder } from '../../src/hcs/emulator/teardown.js';
import { silentLogger, VmModifier, VmPaths } from '../../src/guest/index.js';
import { tempDir } from './support/fixtures.js';

const NEEDS_ROOT = process.getuid?.() !== 0 ? 'needs root (mounts)' : false;
const fail = (hr: number, message: string): Error => Object.assign(new Error(message), { hr });
const errno = (code: string) => (e: unknown): boolean => (e as NodeJS.ErrnoException).code === code;

describe('guest: MappedDirectory over the emulator\'s Plan9 views', { skip: NEEDS_ROOT }, () => {
  let root: string;
  let paths: VmPaths;
  let guest: VmModifier;
  let dir: string;
  const share = (name: string, flags: number, allowed?: string[]) =>
    addPlan9View(paths.plan9Link(name), { Path: dir, Flags: flags, ...(allowed ? { AllowedFiles: allowed } : {}) }, `share ${name}`, fail);
  const mapped = (type: 'Add' | 'Remove', name: string, mountPath: string, readOnly: boolean) =>
    guest.apply({ ResourceType: 'MappedDirectory', RequestType: type, Settings: { MountPath: mountPath, ShareName: name, Port: 564, ReadOnly: readOnly } } as never);

  before(() => {
    root = tempDir('lcowg-p9-');
    paths = new VmPaths(join(root, 'vm'));
    mkdirSync(paths.plan9Dir, { recursive: true });
    mkdirSync(paths.rootfs, { recursive: true });
    guest = new VmModifier(paths, silentLogger());
    dir = join(root, 'host');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), '{"k":1}\n');
    writeFileSync(join(dir, 'other.txt'), 'not for the VM\n');
  });
  after(async () => {
    assert.deepEqual(await mountsUnder(root), [], 'nothing left mounted');
    rmSync(root, { recursive: true, force: true });
  });

  it('a single-file share: only the file is in MountPath; writes reach the host file; Remove leaves nothing', async () => {
    await share('0', 0x84, ['config.json']);
    await mapped('Add', '0', '/run/gcs/c/c1/mounts/m0', false);
    const m = paths.hostPath('/run/gcs/c/c1/mounts/m0', 'test');
    assert.equal(statSync(paths.hostPath('/run/gcs/c/c1/mounts', 'test')).mode & 0o777, 0o700, 'created 0700, as plan9.Mount');
    assert.deepEqual(readdirSync(m), ['config.json']);
    writeFileSync(join(m, 'config.json'), '{"k":2}\n');
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"k":2}\n');
    assert.throws(() => writeFileSync(join(m, 'x'), ''), errno('EROFS'));
    await mapped('Remove', '0', '/run/gcs/c/c1/mounts/m0', false);
    assert.equal(existsSync(m), false, 'MountPath is removed');
    await removePlan9View(paths.plan9Link('0'), 'share 0', fail);
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'other.txt']);
  });

  it('ReadOnly in the guest makes the single-file share read-only too', async () => {
    await share('1', 0x84, ['config.json']);
    await mapped('Add', '1', '/run/mnt/ro', true);
    const m = paths.hostPath('/run/mnt/ro', 'test');
    assert.throws(() => writeFileSync(join(m, 'config.json'), 'x'), errno('EROFS'));
    await mapped('Remove', '1', '/run/mnt/ro', true);
    await removePlan9View(paths.plan9Link('1'), 'share 1', fail);
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"k":2}\n');
  });

  it('a read-only share stays read-only when the guest mounts it read-write', async () => {
    await share('2', 0x5);
    await mapped('Add', '2', '/run/mnt/rw', false);
    const m = paths.hostPath('/run/mnt/rw', 'test');
    assert.deepEqual(readdirSync(m).sort(), ['config.json', 'other.txt']);
    assert.throws(() => writeFileSync(join(m, 'other.txt'), 'x'), errno('EROFS'));
    await mapped('Remove', '2', '/run/mnt/rw', false);
    await removePlan9View(paths.plan9Link('2'), 'share 2', fail);
  });

  it('a share that is not there fails (E_FAIL) and leaves no MountPath', async () => {
    await assert.rejects(mapped('Add', '9', '/run/mnt/none', false), (e: { hresult?: number }) => (e.hresult ?? 0) >>> 0 === HResult.E_FAIL);
    assert.equal(existsSync(paths.hostPath('/run/mnt/none', 'test')), false);
  });
});

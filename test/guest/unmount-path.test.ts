/**
 * The guest's UnmountPath (a disk's or the combined layers' Remove) is as strict as Microsoft's GCS
 * (storage.UnmountPath): one unmount, then the directory is removed. The real GCS removes it with os.RemoveAll
 * even when a mount is still there (a second one stacked on it, or one below it), deleting what that mount
 * holds; ours refuses instead, naming the mount, and deletes nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mountsUnder } from '../../src/hcs/emulator/teardown.js';
import { silentLogger, VmModifier, VmPaths } from '../../src/guest/index.js';
import { tempDir } from './support/fixtures.js';

const NEEDS_ROOT = process.getuid?.() !== 0 ? 'needs root (mounts)' : false;

describe('guest: UnmountPath unmounts once and never removes through a mount', { skip: NEEDS_ROOT }, () => {
  let root: string;
  let paths: VmPaths;
  let guest: VmModifier;
  const tmpfs = (target: string): void => void execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', target]);
  const removeDisk = (mountPath: string) =>
    guest.apply({ ResourceType: 'MappedVirtualDisk', RequestType: 'Remove', Settings: { MountPath: mountPath, Controller: 0, Lun: 1 } } as never);

  before(() => {
    root = tempDir('lcowg-unmount-');
    paths = new VmPaths(join(root, 'vm'));
    mkdirSync(paths.rootfs, { recursive: true });
    guest = new VmModifier(paths, silentLogger());
  });
  after(async () => {
    assert.deepEqual(await mountsUnder(root), [], 'nothing left mounted');
    rmSync(root, { recursive: true, force: true });
  });

  it('one mount: unmounted and the directory removed', async () => {
    const m = paths.hostPath('/run/mounts/scsi/m1', 'test');
    mkdirSync(m, { recursive: true });
    tmpfs(m);
    await removeDisk('/run/mounts/scsi/m1');
    assert.equal(existsSync(m), false);
  });

  it('two mounts stacked: the top one goes, then it refuses and the lower mount keeps its file', async () => {
    const m = paths.hostPath('/run/mounts/scsi/m2', 'test');
    mkdirSync(m, { recursive: true });
    tmpfs(m);
    writeFileSync(join(m, 'data'), 'keep me\n');
    tmpfs(m);
    await assert.rejects(removeDisk('/run/mounts/scsi/m2'), (e: Error) => e.message.includes('still mounted after one unmount') && e.message.includes(m));
    assert.equal(readFileSync(join(m, 'data'), 'utf8'), 'keep me\n', 'nothing deleted through the mount');
    execFileSync('umount', [m]);
    rmSync(m, { recursive: true });
  });

  it('a mount below the path: refused, its file kept', async () => {
    const m = paths.hostPath('/run/gcs/c/c1/rootfs', 'test');
    mkdirSync(join(m, 'sub'), { recursive: true });
    tmpfs(join(m, 'sub'));
    writeFileSync(join(m, 'sub', 'data'), 'keep me too\n');
    await assert.rejects(
      guest.apply({ ResourceType: 'CombinedLayers', RequestType: 'Remove', Settings: { ContainerRootPath: '/run/gcs/c/c1/rootfs' } } as never),
      (e: Error) => e.message.includes('still mounted after one unmount') && e.message.includes(join(m, 'sub')),
    );
    assert.equal(readFileSync(join(m, 'sub', 'data'), 'utf8'), 'keep me too\n');
    execFileSync('umount', [join(m, 'sub')]);
    rmSync(m, { recursive: true });
  });
});

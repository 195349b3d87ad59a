/**
 * planMount (hcsshim allocateLinuxResources): which mounts become Plan9 shares (where, read-only, restricted
 * to one file), SCSI disks, or go to the guest untouched, and the clear errors for bad input.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/errdefs/index.js';
import type { GuestConnection } from '../../src/gcs/index.js';
import { planMount, plan9MountPath } from '../../src/sandbox/container-mounts.js';
import { Plan9Shares } from '../../src/sandbox/plan9-shares.js';
import { ScsiManager } from '../../src/uvm/index.js';

const ROOT = '/run/gcs/c/c1';
const fails = (code: ErrorCode, text: RegExp) => (e: unknown): boolean => {
  const err = e as { code?: ErrorCode; message: string };
  assert.equal(err.code, code, err.message);
  assert.match(err.message, text);
  return true;
};

describe('planMount', () => {
  let tmp: string;
  let file: string;
  before(() => {
    tmp = mkdtempSync('/tmp/lcow-mounts-');
    mkdirSync(join(tmp, 'dir'));
    file = join(tmp, 'dir', 'app.conf');
    writeFileSync(file, 'x');
    writeFileSync(join(tmp, 'disk.vhdx'), 'not really a disk');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('a host directory: a Plan9 share at /run/gcs/c/<id>/mounts/m<index in spec.mounts>', () => {
    assert.equal(plan9MountPath(ROOT, 3), '/run/gcs/c/c1/mounts/m3');
    assert.deepEqual(planMount({ type: 'bind', source: join(tmp, 'dir'), destination: '/data', options: ['rbind', 'rw'] }, 3, ROOT),
      { kind: 'plan9', hostDir: join(tmp, 'dir'), guestPath: '/run/gcs/c/c1/mounts/m3', readOnly: false });
  });

  it('ro in any case makes it read-only', () => {
    const p = planMount({ type: 'bind', source: join(tmp, 'dir'), destination: '/data', options: ['rbind', 'RO'] }, 0, ROOT);
    assert.equal(p.kind === 'plan9' && p.readOnly, true);
  });

  it('a host file: its directory is shared, restricted to that file', () => {
    assert.deepEqual(planMount({ type: 'bind', source: file, destination: '/etc/app.conf', options: ['rbind', 'ro'] }, 1, ROOT),
      { kind: 'plan9', hostDir: join(tmp, 'dir'), guestPath: '/run/gcs/c/c1/mounts/m1', readOnly: true, file: 'app.conf' });
  });

  it('guest sources (sandbox://, sandbox-tmp://, uvm://, hugepages://2M/…) and other types go to the guest as they are', () => {
    for (const source of ['sandbox:///a', 'sandbox-tmp:///b', 'uvm:///c', 'hugepages://2M/d']) {
      assert.deepEqual(planMount({ type: 'bind', source, destination: '/x' }, 0, ROOT), { kind: 'as-is' }, source);
    }
    assert.deepEqual(planMount({ type: 'proc', source: 'proc', destination: '/proc' }, 0, ROOT), { kind: 'as-is' });
    assert.deepEqual(planMount({ type: 'tmpfs', source: 'tmpfs', destination: '/tmp' }, 0, ROOT), { kind: 'as-is' });
    // Only type "bind" is a bind for runhcs: a bind given as type "none" + rbind is the guest's own path.
    assert.deepEqual(planMount({ type: 'none', source: '/in/the/vm', destination: '/x', options: ['rbind'] }, 0, ROOT), { kind: 'as-is' });
  });

  it('virtual-disk and physical-disk: SCSI, read-only with ro, the options kept for the guest', () => {
    assert.deepEqual(planMount({ type: 'virtual-disk', source: join(tmp, 'disk.vhdx'), destination: '/data', options: ['rbind', 'ro'] }, 2, ROOT),
      { kind: 'disk', hostPath: join(tmp, 'disk.vhdx'), readOnly: true, passThru: false, options: ['rbind', 'ro'] });
    assert.deepEqual(planMount({ type: 'physical-disk', source: '/dev/sdz', destination: '/data' }, 2, ROOT),
      { kind: 'disk', hostPath: '/dev/sdz', readOnly: false, passThru: true, options: [] });
  });

  it('bad input: a clear error naming the mount', () => {
    assert.throws(() => planMount({ type: 'bind', source: 'relative/dir', destination: '/data' }, 4, ROOT),
      fails(ErrorCode.InvalidArgument, /^mount 4 \("relative\/dir" → "\/data"\): the host path "relative\/dir" is not absolute$/));
    assert.throws(() => planMount({ type: 'bind', source: join(tmp, 'missing'), destination: '/data' }, 0, ROOT),
      fails(ErrorCode.NotFound, /^mount 0 .*: the host path \/tmp\/lcow-mounts-\w+\/missing does not exist$/));
    assert.throws(() => planMount({ type: 'bind', source: '', destination: '/data' }, 0, ROOT), fails(ErrorCode.InvalidArgument, /needs both a source and a destination/));
    assert.throws(() => planMount({ type: 'bind', source: '/x' }, 0, ROOT), fails(ErrorCode.InvalidArgument, /needs both a source and a destination/));
    assert.throws(() => planMount({ type: 'bind', source: join(tmp, 'dir'), destination: '/d', options: 'ro' }, 0, ROOT), fails(ErrorCode.InvalidArgument, /options must be strings/));
    assert.throws(() => planMount({ type: 'bind', source: 'hugepages://2M', destination: '/h' }, 0, ROOT), fails(ErrorCode.InvalidArgument, /expected hugepages:\/\/<hugepage-size>/));
    assert.throws(() => planMount({ type: 'bind', source: 'hugepages://1G/x', destination: '/h' }, 0, ROOT), fails(ErrorCode.InvalidArgument, /only 2M .* got "1G"/));
    assert.throws(() => planMount({ type: 'virtual-disk', source: join(tmp, 'dir'), destination: '/d' }, 0, ROOT), fails(ErrorCode.InvalidArgument, /must be a disk image file/));
    assert.throws(() => planMount({ type: 'virtual-disk', source: join(tmp, 'no.vhdx'), destination: '/d' }, 0, ROOT), fails(ErrorCode.NotFound, /does not exist/));
    assert.throws(() => planMount({ type: 'extensible-virtual-disk', source: 'evd://x/y', destination: '/d' }, 0, ROOT), fails(ErrorCode.NotImplemented, /not supported/));
    assert.throws(() => planMount({ type: 'virtual-disk', source: join(tmp, 'disk.vhdx'), destination: 'blockdev:///dev/x' }, 0, ROOT), fails(ErrorCode.NotImplemented, /blockdev:\/\//));
  });
});

describe('Plan9Shares.add and ScsiManager.addPhysicalDisk: the documents sent', () => {
  it('a single-file share carries RestrictFileAccess and AllowedFiles; the guest mounts the share directory', async () => {
    const host: unknown[] = [];
    const guest: unknown[] = [];
    const shares = new Plan9Shares({ modify: async (r) => void host.push(r) }, { modifySettings: async (r: unknown) => void guest.push(r) } as unknown as GuestConnection);
    await shares.add('/host/dir', '/run/gcs/c/c1/mounts/m1', true, 'app.conf');
    await shares.add('/host/other', '/run/gcs/c/c1/mounts/m2', false);
    assert.deepEqual(host, [
      { ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Add', Settings: { Name: '0', AccessName: '0', Path: '/host/dir', Port: 564, Flags: 0x85, AllowedFiles: ['app.conf'] } },
      { ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Add', Settings: { Name: '1', AccessName: '1', Path: '/host/other', Port: 564, Flags: 0x4 } },
    ]);
    assert.deepEqual(guest[0], { ResourceType: 'MappedDirectory', RequestType: 'Add', Settings: { MountPath: '/run/gcs/c/c1/mounts/m1', ShareName: '0', Port: 564, ReadOnly: true } });
  });

  it('a physical disk is attached as PassThru, not shared with a virtual disk of the same path', async () => {
    const host: Array<{ Settings?: unknown }> = [];
    const scsi = new ScsiManager({ controllers: ['0'], host: { modify: async (r) => void host.push(r) }, guest: { modifySettings: async () => undefined } });
    const a = await scsi.addPhysicalDisk('/dev/sdz', false, undefined, { options: [] });
    const b = await scsi.addVirtualDisk('/dev/sdz', false, undefined, { options: [] });
    assert.deepEqual(host.map((r) => r.Settings), [{ Path: '/dev/sdz', Type: 'PassThru', ReadOnly: false }, { Path: '/dev/sdz', Type: 'VirtualDisk', ReadOnly: false }]);
    assert.equal(a.guestPath, '/run/mounts/scsi/m0');
    assert.equal(b.guestPath, '/run/mounts/scsi/m1');
    assert.notEqual(a.lun, b.lun);
  });
});

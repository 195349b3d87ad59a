/**
 * VPMem and SCSI managers against recording fakes of the two halves (HCS modify, GCS ModifySettings):
 * the exact request shapes hcsshim sends, slot allocation, reference counts, rollback of the host half
 * when the guest half fails, release order (guest, then host), and the errors the SCSI fallback keys on.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ModifySettingRequest } from '../../src/hcs/index.js';
import { createLogger, type LogEntry } from '../../src/log/index.js';
import {
  ScsiFullError, ScsiManager, VPMemFullError, VPMemManager, VPMemTooLargeError, type GuestRequest,
} from '../../src/uvm/index.js';

class Recorder {
  readonly calls: Array<{ side: 'host' | 'guest'; req: unknown }> = [];
  failGuestOnce: string | undefined;
  readonly host = { modify: async (req: ModifySettingRequest): Promise<void> => void this.calls.push({ side: 'host', req }) };
  readonly guest = {
    modifySettings: async (req: GuestRequest): Promise<void> => {
      this.calls.push({ side: 'guest', req });
      if (this.failGuestOnce === req.ResourceType) {
        this.failGuestOnce = undefined;
        throw new Error('guest refused');
      }
    },
  };

  take(): Array<{ side: 'host' | 'guest'; req: unknown }> {
    return this.calls.splice(0);
  }
}

let dir: string;
const files: Record<string, string> = {};
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'devmgr-'));
  for (const [name, size] of [['a', 10], ['b', 20], ['c', 30], ['big', 5000]] as const) {
    files[name] = join(dir, `${name}.vhd`);
    await writeFile(files[name]!, Buffer.alloc(size));
  }
});
after(() => rm(dir, { recursive: true, force: true }));

describe('VPMemManager', () => {
  it('adds host then guest with hcsshim shapes; one device per file, shared by reference; removes guest then host', async () => {
    const r = new Recorder();
    const m = new VPMemManager({ count: 4, maxSizeBytes: 4096, host: r.host, guest: r.guest });
    const a1 = await m.add(files.a!);
    assert.deepEqual(r.take(), [
      { side: 'host', req: { ResourcePath: 'VirtualMachine/Devices/VirtualPMem/Devices/0', RequestType: 'Add', Settings: { HostPath: files.a, ReadOnly: true, ImageFormat: 'Vhd1' } } },
      // DeviceNumber 0 is dropped, as Go's omitempty does.
      { side: 'guest', req: { ResourceType: 'VPMemDevice', RequestType: 'Add', Settings: { MountPath: '/run/layers/p0' } } },
    ]);
    assert.equal(a1.guestPath, '/run/layers/p0');
    const a2 = await m.add(files.a!);
    assert.equal(a2.deviceNumber, 0);
    assert.deepEqual(r.take(), [], 'a second user of the same file shares the device');
    const b = await m.add(files.b!);
    assert.equal(b.guestPath, '/run/layers/p1');
    r.take();
    await a1.release();
    await a1.release(); // idempotent
    assert.deepEqual(r.take(), [], 'still referenced');
    await a2.release();
    assert.deepEqual(r.take(), [
      { side: 'guest', req: { ResourceType: 'VPMemDevice', RequestType: 'Remove', Settings: { MountPath: '/run/layers/p0' } } },
      { side: 'host', req: { ResourcePath: 'VirtualMachine/Devices/VirtualPMem/Devices/0', RequestType: 'Remove' } },
    ]);
    assert.deepEqual([...m.attached], [[1, files.b]]);
    const c = await m.add(files.c!);
    assert.equal(c.deviceNumber, 0, 'the lowest free slot is reused');
  });

  it('full and too-large are their own errors; a reserved slot (VHD root) is skipped; a failed guest add rolls the host back', async () => {
    const r = new Recorder();
    const m = new VPMemManager({ count: 2, maxSizeBytes: 4096, reserved: [0], host: r.host, guest: r.guest });
    await assert.rejects(m.add(files.big!), VPMemTooLargeError);
    const a = await m.add(files.a!);
    assert.equal(a.deviceNumber, 1);
    await assert.rejects(m.add(files.b!), VPMemFullError);
    r.take();
    await a.release();
    r.take();
    r.failGuestOnce = 'VPMemDevice';
    await assert.rejects(m.add(files.b!), /guest refused/);
    assert.deepEqual(r.take().map((c) => [c.side, (c.req as { RequestType: string }).RequestType]), [['host', 'Add'], ['guest', 'Add'], ['host', 'Remove']]);
    assert.deepEqual([...m.attached], []);
  });

  it('a host rollback that fails too is logged with its resource, and the guest\'s error is the one thrown', async () => {
    const r = new Recorder();
    const entries: LogEntry[] = [];
    const host = {
      modify: async (req: ModifySettingRequest): Promise<void> => {
        r.calls.push({ side: 'host', req });
        if (req.RequestType === 'Remove') throw new Error('host remove failed');
      },
    };
    const m = new VPMemManager({ count: 1, maxSizeBytes: 4096, host, guest: r.guest, log: createLogger({ emit: (e) => entries.push(e) }) });
    r.failGuestOnce = 'VPMemDevice';
    await assert.rejects(m.add(files.a!), /guest refused/);
    assert.deepEqual(entries.map((e) => [e.level, e.resource, e.error]), [['warn', 'VirtualMachine/Devices/VirtualPMem/Devices/0', 'host remove failed']]);
  });
});

describe('ScsiManager', () => {
  it('attaches, mounts at /run/mounts/scsi/m<n> or the given path, shares attachments and mounts, releases mount, unplug, detach', async () => {
    const r = new Recorder();
    const m = new ScsiManager({ controllers: ['0'], host: r.host, guest: r.guest });
    const l1 = await m.addVirtualDisk(files.a!, true, undefined, { options: ['ro'] });
    assert.deepEqual(r.take(), [
      { side: 'host', req: { ResourcePath: 'VirtualMachine/Devices/Scsi/0/Attachments/0', RequestType: 'Add', Settings: { Path: files.a, Type: 'VirtualDisk', ReadOnly: true } } },
      { side: 'guest', req: { ResourceType: 'MappedVirtualDisk', RequestType: 'Add', Settings: { MountPath: '/run/mounts/scsi/m0', ReadOnly: true, Options: ['ro'] } } },
    ]);
    assert.deepEqual([l1.controller, l1.lun, l1.guestPath], [0, 0, '/run/mounts/scsi/m0']);
    const l2 = await m.addVirtualDisk(files.a!, true, undefined, { options: ['ro'] });
    assert.equal(l2.guestPath, l1.guestPath);
    assert.deepEqual(r.take(), [], 'the same disk and mount config share both');
    const s = await m.addVirtualDisk(files.b!, false, '/run/gcs/c/x', { ensureFilesystem: true, filesystem: 'ext4' });
    assert.deepEqual(r.take(), [
      { side: 'host', req: { ResourcePath: 'VirtualMachine/Devices/Scsi/0/Attachments/1', RequestType: 'Add', Settings: { Path: files.b, Type: 'VirtualDisk', ReadOnly: false } } },
      { side: 'guest', req: { ResourceType: 'MappedVirtualDisk', RequestType: 'Add', Settings: { MountPath: '/run/gcs/c/x', Lun: 1, EnsureFilesystem: true, Filesystem: 'ext4' } } },
    ]);
    await assert.rejects(m.addVirtualDisk(files.c!, false, '/run/gcs/c/x', {}), /existing mountpoint/);
    assert.deepEqual(r.take().map((c) => [c.side, (c.req as { RequestType: string }).RequestType]), [['host', 'Add'], ['guest', 'Remove'], ['host', 'Remove']], 'the attachment is undone');
    await s.release();
    assert.deepEqual(r.take(), [
      { side: 'guest', req: { ResourceType: 'MappedVirtualDisk', RequestType: 'Remove', Settings: { MountPath: '/run/gcs/c/x', Lun: 1 } } },
      { side: 'guest', req: { ResourceType: 'SCSIDevice', RequestType: 'Remove', Settings: { Lun: 1 } } },
      { side: 'host', req: { ResourcePath: 'VirtualMachine/Devices/Scsi/0/Attachments/1', RequestType: 'Remove' } },
    ]);
    await l1.release();
    assert.deepEqual(r.take(), []);
    await l2.release();
    assert.equal(r.take().length, 3);
    assert.deepEqual([...m.attached], []);
  });

  it('is full after controllers x 64 LUNs (minus reserved slots); no controller at all is full at once', async () => {
    const r = new Recorder();
    const m = new ScsiManager({ controllers: ['0'], reserved: [{ controller: 0, lun: 0 }], host: r.host, guest: r.guest });
    for (let i = 1; i < 64; i++) {
      const f = join(dir, `n${i}.vhd`);
      await writeFile(f, '');
      assert.equal((await m.addVirtualDisk(f, true)).lun, i);
    }
    await assert.rejects(m.addVirtualDisk(files.a!, true), ScsiFullError);
    await assert.rejects(new ScsiManager({ controllers: [], host: r.host, guest: r.guest }).addVirtualDisk(files.a!, true), ScsiFullError);
  });
});

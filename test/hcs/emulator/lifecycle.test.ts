import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, HResult, isErrorCode } from '../../../src/errdefs/index.js';
import { EMULATED_OS_BUILD, createEmulatorHcsApi } from '../../../src/hcs/emulator/index.js';
import { HcsError, isNotExist, type HcsApi } from '../../../src/hcs/index.js';
import { emulatedVmDir } from '../../../src/transport/index.js';
import { createVhdx, fixedVhdFooter } from '../../../src/vhd/index.js';
import { buildBootFiles, lcowDocument, tempDir, testLogger, uniqueId } from './helpers.js';

const hcs = (hresult: number, op?: string, text?: RegExp) => (e: unknown): boolean =>
  e instanceof HcsError && e.hresult === hresult && (op === undefined || e.operation === op) && (text === undefined || text.test(e.message));

describe('emulator: create, properties, open, enumerate, modify, close', () => {
  let root: string;
  let vmRoot: string;
  let boot: string;
  let api: HcsApi;
  before(async () => {
    root = await tempDir('lcow-emu-life-');
    vmRoot = join(root, 'vm');
    boot = await buildBootFiles(join(root, 'out'));
    api = createEmulatorHcsApi({ root: vmRoot, log: testLogger(), osBuild: 17763 });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reports host info: emulated build (overridable), host processors, posix paths', async () => {
    const info = await api.hostInfo();
    assert.equal(api.backend, 'emulator');
    assert.equal(info.osBuild, 17763);
    assert.equal((await createEmulatorHcsApi({ log: testLogger() }).hostInfo()).osBuild, EMULATED_OS_BUILD);
    assert.ok(info.logicalProcessors >= 1);
    assert.equal(info.pathFlavour, 'posix');
  });

  it('creates a system with a RuntimeId and a 0700 VM dir, and reports its properties', async () => {
    const id = uniqueId('props');
    const sys = await api.createComputeSystem(id, lcowDocument(boot));
    const p = await sys.properties({});
    assert.equal(p.Id, id);
    assert.equal(p.State, 'Created');
    assert.equal(p.SystemType, 'VirtualMachine');
    assert.equal(p.RuntimeOsType, 'Linux');
    assert.equal(p.Owner, 'emulator-test');
    assert.match(p.RuntimeId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const vmDir = emulatedVmDir(p.RuntimeId as string, vmRoot);
    assert.equal((await stat(vmDir)).mode & 0o777, 0o700);
    const more = await sys.properties({ PropertyTypes: ['Memory', 'ProcessorTopology', 'TerminateOnLastHandleClosed', 'Statistics'] });
    assert.deepEqual(more['Memory'], { VirtualMachineMemory: { AssignedMemory: 262144 } });
    assert.deepEqual(more['ProcessorTopology'], { LogicalProcessorCount: 1 });
    assert.equal(more['TerminateOnLastHandleClosed'], true);
    assert.ok(typeof (more['Statistics'] as { Timestamp?: unknown }).Timestamp === 'string');
    await assert.rejects(sys.properties({ PropertyTypes: ['Bogus'] }), hcs(HResult.E_INVALIDARG, 'HcsGetComputeSystemProperties', /Bogus/));
    await sys.close(); // ShouldTerminateOnLastHandleClosed: the VM is terminated and forgotten
    assert.equal(existsSync(vmDir), false);
    await assert.rejects(api.openComputeSystem(id), (e) => isNotExist(e) && isErrorCode(e, ErrorCode.NotFound));
  });

  it('opens and enumerates systems of this process; handles are independent', async () => {
    const id = uniqueId('open');
    const doc = { ...lcowDocument(boot), ShouldTerminateOnLastHandleClosed: false };
    const sys = await api.createComputeSystem(id, doc);
    const again = await api.openComputeSystem(id);
    const rid = (await sys.properties()).RuntimeId;
    assert.equal((await again.properties()).RuntimeId, rid);
    const all = await api.enumerateComputeSystems();
    const row = all.find((s) => s.Id === id);
    assert.deepEqual(row, { Id: id, SystemType: 'VirtualMachine', Owner: 'emulator-test', RuntimeId: rid, State: 'Created' });
    assert.deepEqual((await api.enumerateComputeSystems({ Ids: [id] })).map((s) => s.Id), [id]);
    assert.deepEqual(await api.enumerateComputeSystems({ Owners: ['someone-else'] }), []);
    await again.close();
    await again.close(); // idempotent
    await assert.rejects(again.properties(), hcs(HResult.ErrInvalidHandle, 'HcsGetComputeSystemProperties', /closed/));
    assert.equal((await sys.properties()).State, 'Created', 'closing one handle leaves the system');
    await sys.close();
    // Not terminate-on-close: the created system stays, openable, until terminated.
    const h = await api.openComputeSystem(id);
    await h.terminate();
    assert.equal((await h.properties()).State, 'Stopped');
    await h.terminate(); // already stopped: success
    await h.shutdown();
    await assert.rejects(h.start(), hcs(HResult.ErrVmcomputeOperationInvalidState, 'HcsStartComputeSystem'));
    const exit = await h.waitExit();
    assert.deepEqual(exit, { hresult: 0, unexpected: false, data: JSON.stringify({ Status: 0, ExitType: 'ForcedExit' }) });
    await h.close();
    await assert.rejects(api.openComputeSystem(id), hcs(HResult.ErrComputeSystemDoesNotExist, 'HcsOpenComputeSystem'));
  });

  it('maps Plan9 shares, SCSI attachments and VPMem devices to symlinks in the VM dir', async () => {
    const sys = await api.createComputeSystem(uniqueId('modify'), lcowDocument(boot));
    const vmDir = emulatedVmDir((await sys.properties()).RuntimeId as string, vmRoot);
    const share = join(root, 'share');
    const disk = join(root, 'layer.img');
    await mkdir(share, { recursive: true });
    await writeFile(disk, 'x');

    await sys.modify({ ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Add', Settings: { Name: '0', AccessName: 'acc0', Path: share, Port: 564, Flags: 4 } });
    assert.equal(await readlink(join(vmDir, 'plan9', 'acc0')), share);
    await sys.modify({ ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Add', Settings: { Name: 'byname', Path: share, Port: 564 } });
    assert.equal(await readlink(join(vmDir, 'plan9', 'byname')), share);
    await assert.rejects(
      sys.modify({ ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Add', Settings: { Name: 'acc0', Path: share } }),
      hcs(0x800700b7, 'HcsModifyComputeSystem', /already added/),
    );
    await assert.rejects(
      sys.modify({ ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Add', Settings: { Name: 'x', Path: join(root, 'missing') } }),
      hcs(0x80070002, 'HcsModifyComputeSystem', /missing not found/),
    );
    await assert.rejects(
      sys.modify({ ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Add', Settings: { Name: '../evil', Path: share } }),
      hcs(HResult.E_INVALIDARG, 'HcsModifyComputeSystem'),
    );
    await sys.modify({ ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Remove', Settings: { Name: '0', AccessName: 'acc0', Port: 564 } });
    assert.equal(existsSync(join(vmDir, 'plan9', 'acc0')), false);
    await assert.rejects(
      sys.modify({ ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Remove', Settings: { Name: 'acc0' } }),
      hcs(HResult.ErrElementNotFound, 'HcsModifyComputeSystem'),
    );

    const scsi = 'VirtualMachine/Devices/Scsi/0/Attachments/3';
    await sys.modify({ ResourcePath: scsi, RequestType: 'Add', Settings: { Type: 'VirtualDisk', Path: disk, ReadOnly: true } });
    assert.equal(await readlink(join(vmDir, 'scsi', '0-3')), disk);
    await sys.modify({ ResourcePath: 'VirtualMachine/Devices/Scsi/0/Attachments/4', RequestType: 'Add', Settings: { Type: 'VirtualDisk', Path: share } });
    assert.equal(await readlink(join(vmDir, 'scsi', '0-4')), share);
    await assert.rejects(
      sys.modify({ ResourcePath: 'VirtualMachine/Devices/Scsi/df6d0690-79e5-55b6-a5ec-c1e2f77f580a/Attachments/1', RequestType: 'Add', Settings: { Type: 'VirtualDisk', Path: disk } }),
      hcs(HResult.E_INVALIDARG, 'HcsModifyComputeSystem', /no SCSI controller/),
    );
    await assert.rejects(sys.modify({ ResourcePath: 'VirtualMachine/Devices/Scsi/0/Attachments/64', RequestType: 'Add', Settings: { Path: disk } }), hcs(HResult.E_INVALIDARG, undefined, /LUN/));
    await sys.modify({ ResourcePath: scsi, RequestType: 'Remove' });
    assert.equal(existsSync(join(vmDir, 'scsi', '0-3')), false);

    // VPMem: a fixed VHD becomes a read-only loop device over the disk (footer excluded), detached on Remove.
    const vhd = join(root, 'layer.vhd');
    await writeFile(vhd, Buffer.concat([Buffer.alloc(1024 * 1024, 7), fixedVhdFooter(1024 * 1024)]));
    const vpmem = 'VirtualMachine/Devices/VirtualPMem/Devices/2';
    await assert.rejects(sys.modify({ ResourcePath: vpmem, RequestType: 'Add', Settings: { HostPath: disk, ReadOnly: true, ImageFormat: 'Vhd1' } }), hcs(HResult.E_INVALIDARG, undefined, /\.vhd/));
    await assert.rejects(sys.modify({ ResourcePath: 'VirtualMachine/Devices/VirtualPMem/Devices/4', RequestType: 'Add', Settings: { HostPath: vhd } }), hcs(HResult.E_INVALIDARG, undefined, /MaximumCount/));
    await sys.modify({ ResourcePath: vpmem, RequestType: 'Add', Settings: { HostPath: vhd, ReadOnly: true, ImageFormat: 'Vhd1' } });
    const dev = await readlink(join(vmDir, 'vpmem', '2'));
    assert.match(dev, /^\/dev\/loop\d+$/);
    const sys2 = join('/sys/block', dev.slice('/dev/'.length));
    assert.equal((await readFile(join(sys2, 'ro'), 'utf8')).trim(), '1', 'read-only');
    assert.equal(Number(await readFile(join(sys2, 'size'), 'utf8')) * 512, 1024 * 1024, 'the footer is not part of the device');
    assert.equal((await readFile(dev)).subarray(0, 4).toString('hex'), '07070707');
    await sys.modify({ ResourcePath: vpmem, RequestType: 'Remove' });
    assert.equal(existsSync(join(vmDir, 'vpmem', '2')), false);
    assert.equal((await readFile(join(sys2, 'loop', 'backing_file'), 'utf8').catch(() => '')).includes(vhd), false, 'the loop device is detached');
    // SCSI: a VHDX is attached read-write over its payload; a corrupt one is refused.
    const vhdx = join(root, 'disk.vhdx');
    const g = await createVhdx(vhdx, 4 * 1024 * 1024);
    await sys.modify({ ResourcePath: 'VirtualMachine/Devices/Scsi/0/Attachments/5', RequestType: 'Add', Settings: { Type: 'VirtualDisk', Path: vhdx } });
    const sdev = await readlink(join(vmDir, 'scsi', '0-5'));
    await writeFile(sdev, Buffer.from('through the device'));
    const raw = await readFile(vhdx);
    assert.equal(raw.subarray(g.payloadOffset, g.payloadOffset + 18).toString(), 'through the device', 'writes land in the VHDX payload');
    await sys.modify({ ResourcePath: 'VirtualMachine/Devices/Scsi/0/Attachments/5', RequestType: 'Remove' });
    const bad = join(root, 'bad.vhdx');
    await writeFile(bad, Buffer.alloc(1024 * 1024));
    await assert.rejects(sys.modify({ ResourcePath: 'VirtualMachine/Devices/Scsi/0/Attachments/6', RequestType: 'Add', Settings: { Path: bad } }), hcs(HResult.E_FAIL, undefined, /vhdxfile/));

    const svc = 'VirtualMachine/Devices/HvSocket/HvSocketConfig/ServiceTable/40000000-facb-11e6-bd58-64006a7986d3';
    await sys.modify({ ResourcePath: svc, RequestType: 'Add', Settings: { BindSecurityDescriptor: 'D:P(A;;FA;;;SY)', AllowWildcardBinds: true } });
    await sys.modify({ ResourcePath: svc, RequestType: 'Remove' });
    await assert.rejects(sys.modify({ ResourcePath: svc, RequestType: 'Remove' }), hcs(HResult.ErrElementNotFound));
    await sys.modify({ ResourcePath: 'VirtualMachine/ComputeTopology/Memory/SizeInMB', RequestType: 'Update', Settings: 2048 });
    assert.deepEqual((await sys.properties({ PropertyTypes: ['Memory'] }))['Memory'], { VirtualMachineMemory: { AssignedMemory: 524288 } });

    await assert.rejects(
      sys.modify({ ResourcePath: 'VirtualMachine/Devices/NetworkAdapters/abc', RequestType: 'Add', Settings: {} }),
      hcs(HResult.E_INVALIDARG, 'HcsModifyComputeSystem', /VirtualMachine\/Devices\/NetworkAdapters\/abc/),
    );
    await assert.rejects(sys.modify({ ResourcePath: scsi, RequestType: 'PreAdd' }), hcs(HResult.E_INVALIDARG, undefined, /PreAdd/));
    await assert.rejects(sys.modify({ RequestType: 'Add' }), hcs(HResult.E_INVALIDARG, undefined, /ResourcePath/));

    await sys.terminate();
    await assert.rejects(sys.modify({ ResourcePath: scsi, RequestType: 'Remove' }), hcs(HResult.ErrVmcomputeOperationInvalidState));
    assert.equal(existsSync(vmDir), false);
    assert.ok(existsSync(share) && existsSync(disk), 'removing the VM dir leaves the link targets alone');
    await sys.close();
  });

  it('applies devices the create document already carries', async () => {
    const share = join(root, 'share2');
    await mkdir(share, { recursive: true });
    const doc = lcowDocument(boot);
    const devices = doc.VirtualMachine?.Devices as Record<string, unknown>;
    devices['Plan9'] = { Shares: [{ Name: 'boot-share', Path: share, Port: 564 }] };
    devices['Scsi'] = { '0': { Attachments: { '1': { Type: 'VirtualDisk', Path: share } } } };
    const sys = await api.createComputeSystem(uniqueId('docdev'), doc);
    const vmDir = emulatedVmDir((await sys.properties()).RuntimeId as string, vmRoot);
    assert.equal(await readlink(join(vmDir, 'plan9', 'boot-share')), share);
    assert.equal(await readlink(join(vmDir, 'scsi', '0-1')), share);
    await sys.close();
  });

  it('start fails clearly for a command line it cannot boot, and for a missing guest entry', async () => {
    const bad = await api.createComputeSystem(uniqueId('badcmd'), lcowDocument(boot, 'quiet -- -e 1 /bin/vsockexec -e 109 /sbin/init'));
    await assert.rejects(bad.start(), hcs(HResult.E_INVALIDARG, 'HcsStartComputeSystem', /\/sbin\/init/));
    assert.equal((await bad.properties()).State, 'Created');
    await bad.close();
    const noEntry = createEmulatorHcsApi({ root: vmRoot, log: testLogger(), guestEntry: join(root, 'no-such-main.js') });
    const sys = await noEntry.createComputeSystem(uniqueId('noentry'), lcowDocument(boot));
    await assert.rejects(sys.start(), hcs(0x80070002, 'HcsStartComputeSystem', /no-such-main\.js/));
    await assert.rejects(sys.start({ signal: AbortSignal.abort() }), hcs(0x800704c7, 'HcsStartComputeSystem'));
    await sys.close();
  });
});

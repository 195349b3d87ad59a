import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, HResult, isErrorCode } from '../../../src/errdefs/index.js';
import { createEmulatorHcsApi } from '../../../src/hcs/emulator/index.js';
import { HcsError, type ComputeSystem, type HcsApi } from '../../../src/hcs/index.js';
import { buildBootFiles, lcowDocument, tempDir, testLogger, uniqueId } from './helpers.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function hcsCode(hresult: number, text?: RegExp) {
  return (e: unknown): boolean => e instanceof HcsError && e.hresult === hresult && e.operation === 'HcsCreateComputeSystem' && (text === undefined || text.test(e.message));
}

describe('emulator: create-time document validation', () => {
  let root: string;
  let boot: string;
  let api: HcsApi;
  before(async () => {
    root = await tempDir('lcow-emu-val-');
    boot = await buildBootFiles(join(root, 'out'));
    api = createEmulatorHcsApi({ root: join(root, 'vm'), log: testLogger() });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const mutate = (f: (d: Doc) => void): ComputeSystem => {
    const d = structuredClone(lcowDocument(boot)) as Doc;
    f(d);
    return d as ComputeSystem;
  };
  const create = (doc: unknown): Promise<unknown> => api.createComputeSystem(uniqueId('val'), doc as ComputeSystem);

  it('rejects a document that cannot be encoded as HCS JSON (InvalidJSON 0xC037010D)', async () => {
    await assert.rejects(create('not an object'), hcsCode(HResult.ErrVmcomputeInvalidJSON));
    await assert.rejects(create(mutate((d) => (d.VirtualMachine.ComputeTopology.Memory.SizeInMB = Number.NaN))), hcsCode(HResult.ErrVmcomputeInvalidJSON, /non-finite/));
  });

  it('requires SchemaVersion 2.1 or a later 2.x', async () => {
    await assert.rejects(create(mutate((d) => delete d.SchemaVersion)), hcsCode(HResult.ErrVmcomputeInvalidJSON, /SchemaVersion/));
    await assert.rejects(create(mutate((d) => (d.SchemaVersion = { Major: 2, Minor: 0 }))), hcsCode(HResult.ErrVmcomputeInvalidJSON, /SchemaVersion/));
    await assert.rejects(create(mutate((d) => (d.SchemaVersion = { Major: 1, Minor: 0 }))), hcsCode(HResult.ErrVmcomputeInvalidJSON));
    const ok = await api.createComputeSystem(uniqueId('v25'), mutate((d) => (d.SchemaVersion = { Major: 2, Minor: 5 })));
    await ok.terminate();
    await ok.close();
  });

  it('requires a VirtualMachine', async () => {
    await assert.rejects(create(mutate((d) => delete d.VirtualMachine)), hcsCode(HResult.E_INVALIDARG, /VirtualMachine/));
  });

  it('requires Memory.SizeInMB > 0 (an omitted 0 included)', async () => {
    await assert.rejects(create(mutate((d) => (d.VirtualMachine.ComputeTopology.Memory.SizeInMB = 0))), hcsCode(HResult.E_INVALIDARG, /SizeInMB/));
    await assert.rejects(create(mutate((d) => delete d.VirtualMachine.ComputeTopology)), hcsCode(HResult.E_INVALIDARG, /SizeInMB/));
    await assert.rejects(create(mutate((d) => (d.VirtualMachine.ComputeTopology.Memory.SizeInMB = 1.5))), hcsCode(HResult.E_INVALIDARG, /SizeInMB/));
  });

  it('requires Processor.Count within 1..host logical processors', async () => {
    const host = (await api.hostInfo()).logicalProcessors;
    await assert.rejects(create(mutate((d) => (d.VirtualMachine.ComputeTopology.Processor.Count = host + 1))), hcsCode(HResult.E_INVALIDARG, new RegExp(`outside 1..${host}`)));
    await assert.rejects(create(mutate((d) => (d.VirtualMachine.ComputeTopology.Processor.Count = -1))), hcsCode(HResult.E_INVALIDARG, /Processor.Count/));
  });

  it('requires a boot source', async () => {
    await assert.rejects(create(mutate((d) => (d.VirtualMachine.Chipset = {}))), hcsCode(HResult.E_INVALIDARG, /no boot source/));
    await assert.rejects(create(mutate((d) => delete d.VirtualMachine.Chipset.LinuxKernelDirect.KernelFilePath)), hcsCode(HResult.E_INVALIDARG, /KernelFilePath is required/));
  });

  it('fails with ERROR_FILE_NOT_FOUND (0x80070002) for a missing kernel or initrd', async () => {
    await assert.rejects(create(mutate((d) => (d.VirtualMachine.Chipset.LinuxKernelDirect.KernelFilePath = join(boot, 'vmlinux')))), hcsCode(0x80070002, /kernel .*vmlinux not found/));
    await assert.rejects(create(mutate((d) => (d.VirtualMachine.Chipset.LinuxKernelDirect.InitRdPath = join(boot, 'rootfs.vhd')))), hcsCode(0x80070002, /initrd .*rootfs\.vhd/));
    await assert.rejects(create(mutate((d) => (d.VirtualMachine.Chipset.LinuxKernelDirect.KernelFilePath = boot))), hcsCode(0x80070002), 'a folder is not a kernel file');
  });

  it('checks UEFI VmbFs boot files under the share root', async () => {
    const uefi = (bootThis: Doc): ComputeSystem => mutate((d) => (d.VirtualMachine.Chipset = { Uefi: { BootThis: bootThis } }));
    const good = { DeviceType: 'VmbFs', DevicePath: '\\kernel', VmbFsRootPath: boot, OptionalData: 'initrd=/initrd.img -- -e 1 /bin/gcs -v4' };
    const sys = await api.createComputeSystem(uniqueId('uefi'), uefi(good));
    await sys.terminate();
    await sys.close();
    await assert.rejects(create(uefi({ ...good, DevicePath: '\\vmlinux' })), hcsCode(0x80070002, /vmlinux/));
    await assert.rejects(create(uefi({ ...good, OptionalData: 'initrd=/missing.img' })), hcsCode(0x80070002, /missing\.img/));
    await assert.rejects(create(uefi({ ...good, VmbFsRootPath: join(root, 'nope') })), hcsCode(0x80070003, /VmbFsRootPath/));
    await assert.rejects(create(uefi({ ...good, DeviceType: 'ScsiDrive' })), hcsCode(HResult.E_INVALIDARG, /ScsiDrive/));
  });

  it('rejects a duplicate id with HCS_E_SYSTEM_ALREADY_EXISTS (AlreadyExists) and an empty id', async () => {
    const id = uniqueId('dup');
    const sys = await api.createComputeSystem(id, lcowDocument(boot));
    await assert.rejects(api.createComputeSystem(id, lcowDocument(boot)), (e) => hcsCode(HResult.HCS_E_SYSTEM_ALREADY_EXISTS)(e) && isErrorCode(e, ErrorCode.AlreadyExists));
    // Two concurrent creates of one id: exactly one wins.
    const id2 = uniqueId('race');
    const results = await Promise.allSettled([api.createComputeSystem(id2, lcowDocument(boot)), api.createComputeSystem(id2, lcowDocument(boot))]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'fulfilled') await (await r.value).close();
    await assert.rejects(api.createComputeSystem('', lcowDocument(boot)), hcsCode(HResult.E_INVALIDARG));
    await sys.close();
  });
  it('refuses a vNUMA topology that does not add up, and one on virtual memory (E_INVALIDARG)', async () => {
    const numa = (settings: object[], f: (d: Doc) => void = () => {}): ComputeSystem => mutate((d) => {
      d.VirtualMachine.ComputeTopology.Memory.AllowOvercommit = false;
      d.VirtualMachine.ComputeTopology.Memory.SizeInMB = 1024;
      d.VirtualMachine.ComputeTopology.Processor.Count = 2;
      d.VirtualMachine.ComputeTopology.Numa = { VirtualNodeCount: settings.length, Settings: settings };
      f(d);
    });
    const node = (v: number, cpus: number, mb: number, p = v): object => ({ VirtualNodeNumber: v, PhysicalNodeNumber: p, VirtualSocketNumber: v, CountOfProcessors: cpus, CountOfMemoryBlocks: mb, MemoryBackingType: 'Physical' });
    await assert.rejects(create(numa([node(0, 1, 512), node(1, 2, 512)])), hcsCode(HResult.E_INVALIDARG, /3 processors in the nodes, Processor.Count is 2/));
    await assert.rejects(create(numa([node(0, 1, 512), node(1, 1, 256)])), hcsCode(HResult.E_INVALIDARG, /768 MB in the nodes, Memory.SizeInMB is 1024/));
    await assert.rejects(create(numa([node(0, 1, 1024), node(0, 1, 0)])), hcsCode(HResult.E_INVALIDARG, /has no memory/));
    await assert.rejects(create(numa([node(0, 1, 512), node(0, 1, 512)])), hcsCode(HResult.E_INVALIDARG, /virtual node 0 is duplicated/));
    await assert.rejects(create(numa([node(0, 1, 512, 255), node(1, 1, 512)])), hcsCode(HResult.E_INVALIDARG, /mixes wildcard/));
    await assert.rejects(create(numa([node(0, 2, 1024)], (d) => (d.VirtualMachine.ComputeTopology.Memory.AllowOvercommit = true))), hcsCode(HResult.E_INVALIDARG, /physically backed/));
    await assert.rejects(create(numa([node(0, 2, 1024)], (d) => (d.VirtualMachine.ComputeTopology.Numa.VirtualNodeCount = 2))), hcsCode(HResult.E_INVALIDARG, /VirtualNodeCount 2 but 1 Settings/));
  });

  it('refuses a bad HvSocket service table: key not a GUID, descriptor not SDDL, flag not boolean (E_INVALIDARG)', async () => {
    const table = (t: object): ComputeSystem => mutate((d) => (d.VirtualMachine.Devices.HvSocket.HvSocketConfig.ServiceTable = t));
    await assert.rejects(create(table({ 'not-a-guid': {} })), hcsCode(HResult.E_INVALIDARG, /key "not-a-guid" is not a GUID/));
    const g = 'abcdef01-2345-6789-abcd-ef0123456789';
    await assert.rejects(create(table({ [g]: { BindSecurityDescriptor: 'everyone' } })), hcsCode(HResult.E_INVALIDARG, /BindSecurityDescriptor "everyone" is not an SDDL DACL/));
    await assert.rejects(create(table({ [g]: { ConnectSecurityDescriptor: 'D:P(A;;FA;;;WD' } })), hcsCode(HResult.E_INVALIDARG, /not an SDDL DACL/));
    await assert.rejects(create(table({ [g]: { AllowWildcardBinds: 'yes' } })), hcsCode(HResult.E_INVALIDARG, /AllowWildcardBinds is not a boolean/));
  });
});

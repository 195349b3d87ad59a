import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { toHcsJson, type HostInfo } from '../../src/hcs/index.js';
import { buildLCOWDocument, PreferredRootFSType, type OptionsLCOW } from '../../src/uvm/index.js';
import { lcowOptions, WIN_HOST } from './helpers.js';

const FIXTURES = 'test/uvm/fixtures';
const UEFI_HOST: HostInfo = { ...WIN_HOST, osBuild: 17763 };
const POSIX_HOST: HostInfo = { ...WIN_HOST, pathFlavour: 'posix' };

/** One golden document per branch of the seed's CreateLCOW. */
const CASES: Array<{ name: string; host?: HostInfo; opts: Partial<OptionsLCOW> }> = [
  { name: 'default-kerneldirect-initrd', opts: {} },
  { name: 'uefi-initrd', host: UEFI_HOST, opts: { KernelDirect: false } },
  { name: 'kerneldirect-vhd', opts: { PreferredRootFSType: PreferredRootFSType.VHD, RootFSFile: 'rootfs.vhd', KernelFile: 'vmlinux' } },
  { name: 'uefi-vhdx', host: UEFI_HOST, opts: { KernelDirect: false, PreferredRootFSType: PreferredRootFSType.VHD, RootFSFile: 'rootfs.VHDX' } },
  { name: 'console-pipe', opts: { ConsolePipe: '\\\\.\\pipe\\vmpipe' } },
  { name: 'graphics-console', opts: { EnableGraphicsConsole: true } },
  { name: 'vpci-boot-options', opts: { VPCIEnabled: true, KernelBootOptions: 'loglevel=7 debug' } },
  {
    name: 'resources',
    opts: {
      MemorySizeInMB: 2048,
      AllowOvercommit: true,
      EnableDeferredCommit: true,
      EnableColdDiscardHint: true,
      LowMMIOGapInMB: 256,
      HighMMIOBaseInMB: 65536,
      HighMMIOGapInMB: 8192,
      ProcessorCount: 4,
      ProcessorLimit: 50000,
      ProcessorWeight: 200,
      CPUGroupID: '00000000-0000-0000-0000-000000000001',
      StorageQoSIopsMaximum: 1000,
      StorageQoSBandwidthMaximum: 100000000,
    },
  },
  { name: 'resource-partition', opts: { ResourcePartitionID: 'a1b2c3d4-0000-0000-0000-000000000002', AllowOvercommit: false } },
  { name: 'hcs-guest-connection', opts: { ExternalGuestConnection: false } },
  { name: 'forward-stdout-only', opts: { ForwardStdout: true, ForwardStderr: false } },
  { name: 'no-forwarding', opts: { ForwardStdout: false, ForwardStderr: false } },
  { name: 'normalized', host: { ...WIN_HOST, logicalProcessors: 4 }, opts: { MemorySizeInMB: 4095, ProcessorCount: 16 } },
  { name: 'no-scsi-no-vpmem', opts: { SCSIControllerCount: 0, VPMemDeviceCount: 0 } },
  { name: 'posix-host', host: POSIX_HOST, opts: { ExecCommandLine: '/bin/gcs -v4 -log-format json -loglevel debug' } },
];

function build(c: (typeof CASES)[number]): ReturnType<typeof buildLCOWDocument> {
  const host = c.host ?? WIN_HOST;
  return buildLCOWDocument(lcowOptions(c.opts, host), host);
}

describe('buildLCOWDocument golden documents', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const json = `${toHcsJson(build(c).document)}\n`;
      const file = `${FIXTURES}/${c.name}.json`;
      if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, json);
      assert.equal(json, readFileSync(file, 'utf8'));
    });
  }
});

/** The kernel command line of a case (UEFI OptionalData or KernelDirect KernelCmdLine). */
function cmdline(c: Partial<OptionsLCOW>, host: HostInfo = WIN_HOST): string {
  const chipset = buildLCOWDocument(lcowOptions(c, host), host).document.VirtualMachine?.Chipset;
  const line = chipset?.LinuxKernelDirect?.KernelCmdLine ?? chipset?.Uefi?.BootThis?.OptionalData;
  assert.ok(line !== undefined);
  return line;
}

describe('buildLCOWDocument branches', () => {
  it('default: kernel direct with initrd, no leading space, ends with the GCS command', () => {
    const doc = build(CASES[0]!).document;
    const kd = doc.VirtualMachine?.Chipset?.LinuxKernelDirect;
    assert.equal(kd?.KernelFilePath, 'C:\\LCOW\\kernel');
    assert.equal(kd?.InitRdPath, 'C:\\LCOW\\initrd.img');
    assert.equal(
      kd?.KernelCmdLine,
      '8250_core.nr_uarts=0 panic=-1 quiet pci=off nr_cpus=2 brd.rd_nr=0 pmtmr=0 -- -e 1 /bin/vsockexec -e 109 /bin/gcs -v4 -log-format json -loglevel info',
    );
    assert.equal(doc.VirtualMachine?.GuestConnection, undefined);
    assert.equal(doc.VirtualMachine?.Chipset?.Uefi, undefined);
  });

  it('UEFI boot: VmbFs entry with initrd=/ argument', () => {
    const boot = build(CASES[1]!).document.VirtualMachine?.Chipset?.Uefi?.BootThis;
    assert.deepEqual(
      { ...boot, OptionalData: undefined },
      { DevicePath: '\\kernel', DeviceType: 'VmbFs', VmbFsRootPath: 'C:\\LCOW', OptionalData: undefined },
    );
    assert.match(boot?.OptionalData ?? '', /^initrd=\/initrd\.img 8250_core\.nr_uarts=0 /);
  });

  it('VHD root: VPMem device 0, read-only, root=/dev/pmem0, no InitRdPath', () => {
    const doc = build(CASES[2]!).document;
    const vpmem = doc.VirtualMachine?.Devices?.VirtualPMem;
    assert.deepEqual(vpmem?.Devices, { '0': { HostPath: 'C:\\LCOW\\rootfs.vhd', ReadOnly: true, ImageFormat: 'Vhd1' } });
    assert.equal(doc.VirtualMachine?.Chipset?.LinuxKernelDirect?.InitRdPath, undefined);
    assert.match(cmdline(CASES[2]!.opts), /^root=\/dev\/pmem0 ro rootwait init=\/init /);
  });

  it('VHDX root: image format by extension, case-insensitive, without the dot', () => {
    const dev = build(CASES[3]!).document.VirtualMachine?.Devices?.VirtualPMem?.Devices?.['0'];
    assert.equal(dev?.ImageFormat, 'Vhdx');
    const vhd = buildLCOWDocument(lcowOptions({ PreferredRootFSType: PreferredRootFSType.VHD, RootFSFile: 'vhdx' }), WIN_HOST);
    assert.equal(vhd.document.VirtualMachine?.Devices?.VirtualPMem?.Devices?.['0']?.ImageFormat, 'Vhd1');
  });

  it('console pipe: COM1 named pipe, uart arguments, shell with the entropy flag outside sh -c', () => {
    const doc = build(CASES[4]!).document;
    assert.deepEqual(doc.VirtualMachine?.Devices?.ComPorts, { '0': { NamedPipe: '\\\\.\\pipe\\vmpipe' } });
    const line = cmdline(CASES[4]!.opts);
    assert.match(line, /8250_core\.nr_uarts=1 8250_core\.skip_txen_test=1 console=ttyS0,115200/);
    assert.doesNotMatch(line, /panic=-1|quiet/);
    assert.ok(line.endsWith('-- -e 1 sh -c "/bin/vsockexec -e 109 /bin/gcs -v4 -log-format json -loglevel info & exec sh"'), line);
  });

  it('graphics console: keyboard, video, console=tty, shell', () => {
    const devices = build(CASES[5]!).document.VirtualMachine?.Devices;
    assert.deepEqual([devices?.Keyboard, devices?.EnhancedModeVideo, devices?.VideoMonitor], [{}, {}, {}]);
    const line = cmdline(CASES[5]!.opts);
    assert.match(line, /8250_core\.nr_uarts=0 console=tty nr_cpus|8250_core\.nr_uarts=0 console=tty pci=off/);
    assert.match(line, / sh -c "/);
  });

  it('VPCI on drops pci=off; kernel boot options come before it', () => {
    assert.doesNotMatch(cmdline({ VPCIEnabled: true }), /pci=off/);
    assert.match(cmdline({ KernelBootOptions: '  foo=1  ' }), /quiet foo=1 pci=off nr_cpus=2/);
  });

  it('CPU group is build-gated', () => {
    assert.throws(
      () => buildLCOWDocument(lcowOptions({ CPUGroupID: 'g' }), { ...WIN_HOST, osBuild: 20123 }),
      /CPUGroupID="g".*20124/,
    );
    const p = build(CASES[7]!).document.VirtualMachine?.ComputeTopology?.Processor;
    assert.deepEqual(p?.CpuGroup, { Id: '00000000-0000-0000-0000-000000000001' });
  });

  it('guest connection only when HCS (not the shim) owns it', () => {
    assert.deepEqual(build(CASES[9]!).document.VirtualMachine?.GuestConnection, { UseVsock: true, UseConnectedSuspend: true });
    const none = buildLCOWDocument(lcowOptions({ ExternalGuestConnection: false, UseGuestConnection: false }), WIN_HOST);
    assert.equal(none.document.VirtualMachine?.GuestConnection, undefined);
  });

  it('forwarding flags of vsockexec', () => {
    assert.match(cmdline({ ForwardStdout: true, ForwardStderr: true }), /-- -e 1 \/bin\/vsockexec -o 109 -e 109 \/bin\/gcs/);
    assert.match(cmdline({ ForwardStdout: true, ForwardStderr: false }), /-- -e 1 \/bin\/vsockexec -o 109 \/bin\/gcs/);
    assert.match(cmdline({ ForwardStdout: false, ForwardStderr: false }), /-- -e 1 \/bin\/vsockexec \/bin\/gcs/);
  });

  it('normalisation: even memory, clamped processors (also nr_cpus), with warnings', () => {
    const r = build(CASES[12]!);
    assert.equal(r.memorySizeInMB, 4096);
    assert.equal(r.processorCount, 4);
    assert.equal(r.document.VirtualMachine?.ComputeTopology?.Memory?.SizeInMB, 4096);
    assert.equal(r.document.VirtualMachine?.ComputeTopology?.Processor?.Count, 4);
    assert.match(cmdline(CASES[12]!.opts, CASES[12]!.host), / nr_cpus=4 /);
    assert.deepEqual(
      r.warnings.map((w) => [w.message, w.fields]),
      [
        ['Changing user requested CPUCount to current number of processors', { requested: 16, assigned: 4 }],
        ['Changing user requested MemorySizeInMB to align to 2MB', { requested: 4095, assigned: 4096 }],
      ],
    );
    assert.deepEqual(build(CASES[0]!).warnings, []);
  });

  it('no SCSI and no VPMem leave both devices out', () => {
    const d = build(CASES[13]!).document.VirtualMachine?.Devices;
    assert.equal(d?.Scsi, undefined);
    assert.equal(d?.VirtualPMem, undefined);
    assert.deepEqual(build(CASES[0]!).document.VirtualMachine?.Devices?.Scsi, { '0': { Attachments: {} } });
  });

  it('posix host joins paths with /', () => {
    const kd = build(CASES[14]!).document.VirtualMachine?.Chipset?.LinuxKernelDirect;
    assert.equal(kd?.KernelFilePath, '/opt/lcow/kernel');
    assert.equal(kd?.InitRdPath, '/opt/lcow/initrd.img');
  });

  it('is pure: the same input gives the same document and the options are not modified', () => {
    const opts = lcowOptions({ MemorySizeInMB: 1023 });
    const copy = structuredClone(opts);
    assert.equal(toHcsJson(buildLCOWDocument(opts, WIN_HOST).document), toHcsJson(buildLCOWDocument(opts, WIN_HOST).document));
    assert.deepEqual(opts, copy);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, isErrorCode } from '../../src/errdefs/index.js';
import { toHcsJson, type HostInfo } from '../../src/hcs/index.js';
import { buildLCOWDocument, parseOptionsJson, PreferredRootFSType, type OptionsLCOW } from '../../src/uvm/index.js';
import { lcowOptions, WIN_HOST } from './helpers.js';

const WS2025: HostInfo = { ...WIN_HOST, osBuild: 26100 };
const json = (opts: Partial<OptionsLCOW>, host: HostInfo = WS2025): Record<string, any> => // eslint-disable-line @typescript-eslint/no-explicit-any
  JSON.parse(toHcsJson(buildLCOWDocument(lcowOptions(opts, host), host).document));
const invalid = (re: RegExp) => (e: unknown): boolean => isErrorCode(e, ErrorCode.InvalidArgument) && re.test((e as Error).message);

describe('CreateLCOW document: vNUMA (hcsshim PrepareVNumaTopology / ValidateNumaForVM)', () => {
  const physical = { AllowOvercommit: false, MemorySizeInMB: 2048, ProcessorCount: 4 };

  it('explicit topology: Numa.Settings in hcsshim field order, SlitType FirmwareFallbackMeasured, zero fields omitted', () => {
    const d = json({ ...physical, NumaMappedPhysicalNodes: [0, 1], NumaProcessorCounts: [2, 2], NumaMemoryBlocksCounts: [1024, 1024], PreferredPhysicalNumaNodes: [1] });
    const topo = d.VirtualMachine.ComputeTopology;
    assert.equal(JSON.stringify(topo.Numa), JSON.stringify({
      VirtualNodeCount: 2,
      PreferredPhysicalNodes: [1],
      Settings: [
        { CountOfProcessors: 2, CountOfMemoryBlocks: 1024, MemoryBackingType: 'Physical' },
        { VirtualNodeNumber: 1, PhysicalNodeNumber: 1, VirtualSocketNumber: 1, CountOfProcessors: 2, CountOfMemoryBlocks: 1024, MemoryBackingType: 'Physical' },
      ],
    }));
    assert.equal(topo.Memory.SlitType, 'FirmwareFallbackMeasured');
    assert.equal(topo.Processor.NumaProcessorsSettings, undefined);
  });

  it('implicit topology: MaxSizePerNode and NumaProcessorsSettings.count_per_node.max', () => {
    const d = json({ ...physical, MaxProcessorsPerNumaNode: 2, MaxMemorySizePerNumaNode: 1024 });
    const topo = d.VirtualMachine.ComputeTopology;
    assert.deepEqual(topo.Numa, { MaxSizePerNode: 1024 });
    assert.deepEqual(topo.Processor.NumaProcessorsSettings, { count_per_node: { max: 2 } });
    assert.equal(topo.Memory.SlitType, 'FirmwareFallbackMeasured');
  });

  it('no topology without MaxProcessorsPerNumaNode or mapped nodes (partial settings ignored, as hcsshim)', () => {
    const d = json({ ...physical, MaxMemorySizePerNumaNode: 1024, NumaProcessorCounts: [4] });
    assert.equal(d.VirtualMachine.ComputeTopology.Numa, undefined);
    assert.equal(d.VirtualMachine.ComputeTopology.Memory.SlitType, undefined);
  });

  it('refuses what hcsshim refuses, naming the problem', () => {
    const explicit = { NumaMappedPhysicalNodes: [0, 1], NumaProcessorCounts: [2, 2], NumaMemoryBlocksCounts: [1024, 1024] };
    assert.throws(() => json({ ...physical, ...explicit }, WIN_HOST), invalid(/not supported on Windows build 20348/));
    assert.throws(() => json({ ...physical, ...explicit, AllowOvercommit: true }), invalid(/physically backed/));
    assert.throws(() => json({ ...physical, MaxProcessorsPerNumaNode: 2 }), invalid(/max size per node/));
    assert.throws(() => json({ ...physical, ...explicit, NumaProcessorCounts: [4] }), invalid(/2 mapped physical nodes but 1 processor counts/));
    assert.throws(() => json({ ...physical, ...explicit, NumaProcessorCounts: [2, 1] }), invalid(/total processor count 3 does not match the VM's 4/));
    assert.throws(() => json({ ...physical, ...explicit, NumaMemoryBlocksCounts: [1024, 512] }), invalid(/total memory 1536 MB does not match the VM's 2048 MB/));
    assert.throws(() => json({ ...physical, ...explicit, NumaMemoryBlocksCounts: [2048, 0] }), invalid(/without memory/));
    assert.throws(() => json({ ...physical, ...explicit, NumaMappedPhysicalNodes: [0, 64] }), invalid(/physical node number 64/));
    assert.throws(() => json({ ...physical, ...explicit, NumaMappedPhysicalNodes: [0xff, 1] }), invalid(/mix of wildcard/));
    // all wildcard is fine
    assert.equal(json({ ...physical, ...explicit, NumaMappedPhysicalNodes: [0xff, 0xff] }).VirtualMachine.ComputeTopology.Numa.Settings[0].PhysicalNodeNumber, 255);
  });
});

describe('CreateLCOW document: HvSocket service table', () => {
  it('service-table entries (keys lower-cased) and extra vsock ports as VsockServiceID entries, sorted like Go maps', () => {
    const d = json({
      AdditionalHyperVConfig: { 'ABCDEF01-2345-6789-ABCD-EF0123456789': { AllowWildcardBinds: true, BindSecurityDescriptor: 'D:P(A;;FA;;;WD)' } },
      ExtraVSockPorts: [8000, 0x4000],
    });
    const cfg = d.VirtualMachine.Devices.HvSocket.HvSocketConfig;
    assert.equal(cfg.DefaultBindSecurityDescriptor, 'D:P(A;;FA;;;SY)(A;;FA;;;BA)');
    assert.deepEqual(Object.keys(cfg.ServiceTable), ['00001f40-facb-11e6-bd58-64006a7986d3', '00004000-facb-11e6-bd58-64006a7986d3', 'abcdef01-2345-6789-abcd-ef0123456789']);
    assert.equal(JSON.stringify(cfg.ServiceTable['00001f40-facb-11e6-bd58-64006a7986d3']),
      '{"BindSecurityDescriptor":"D:P(A;;FA;;;WD)","ConnectSecurityDescriptor":"D:P(A;;FA;;;SY)(A;;FA;;;BA)","AllowWildcardBinds":true}');
    assert.deepEqual(cfg.ServiceTable['abcdef01-2345-6789-abcd-ef0123456789'], { BindSecurityDescriptor: 'D:P(A;;FA;;;WD)', AllowWildcardBinds: true });
  });

  it('an extra vsock port wins over a service-table annotation for the same service', () => {
    const d = json({ AdditionalHyperVConfig: { '00001f40-facb-11e6-bd58-64006a7986d3': { Disabled: true } }, ExtraVSockPorts: [8000] });
    assert.equal(d.VirtualMachine.Devices.HvSocket.HvSocketConfig.ServiceTable['00001f40-facb-11e6-bd58-64006a7986d3'].Disabled, undefined);
  });

  it('no ServiceTable by default (the document stays as before)', () => {
    assert.equal(json({}).VirtualMachine.Devices.HvSocket.HvSocketConfig.ServiceTable, undefined);
  });
});

describe('CreateLCOW: writable overlay directories (init -w)', () => {
  it('-w follows -e 1 for a VHD root, and is left out for an initrd root (already writable)', () => {
    const vhd = json({ WritableOverlayDirs: true, PreferredRootFSType: PreferredRootFSType.VHD, RootFSFile: 'rootfs.vhd' });
    assert.match(vhd.VirtualMachine.Chipset.LinuxKernelDirect.KernelCmdLine, / -- -e 1 -w \/bin\/vsockexec /);
    const initrd = json({ WritableOverlayDirs: true });
    assert.doesNotMatch(initrd.VirtualMachine.Chipset.LinuxKernelDirect.KernelCmdLine, / -w /);
  });
});

describe('options file: the new options', () => {
  it('reads lists and the service table, and names a wrong type', () => {
    const o = parseOptionsJson('{"NumaProcessorCounts":[1,2],"ExtraVSockPorts":[8000],"AdditionalHyperVConfig":{},"WritableOverlayDirs":true}');
    assert.deepEqual(o.NumaProcessorCounts, [1, 2]);
    assert.throws(() => parseOptionsJson('{"ExtraVSockPorts":[-1]}'), invalid(/"ExtraVSockPorts" must be an array of non-negative integers/));
    assert.throws(() => parseOptionsJson('{"AdditionalHyperVConfig":[]}'), invalid(/"AdditionalHyperVConfig" must be an object/));
  });
});

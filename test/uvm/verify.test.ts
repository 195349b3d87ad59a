import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import type { HostInfo } from '../../src/hcs/index.js';
import {
  checkBootFiles,
  normalizeMemorySize,
  normalizeProcessorCount,
  PreferredRootFSType,
  verifyOptions,
  type OptionsLCOW,
} from '../../src/uvm/index.js';
import { lcowOptions, WIN_HOST } from './helpers.js';

function rejects(opts: Partial<OptionsLCOW>, pattern: RegExp, host: HostInfo = WIN_HOST): void {
  assert.throws(
    () => verifyOptions(lcowOptions(opts, host), host),
    (err: unknown) => {
      assert.ok(err instanceof ShimError);
      assert.equal(err.code, ErrorCode.InvalidArgument);
      assert.match(err.message, /^UVM options incorrect: /);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('verifyOptions', () => {
  it('accepts the defaults', () => {
    verifyOptions(lcowOptions(), WIN_HOST);
  });

  it('EnableDeferredCommit requires AllowOvercommit', () => {
    rejects({ EnableDeferredCommit: true, AllowOvercommit: false }, /EnableDeferredCommit=true .*AllowOvercommit=false/);
    verifyOptions(lcowOptions({ EnableDeferredCommit: true, AllowOvercommit: true }), WIN_HOST);
  });

  it('SCSIControllerCount is 0 or 1', () => {
    rejects({ SCSIControllerCount: 2 }, /SCSIControllerCount=2: must be 0 or 1/);
    verifyOptions(lcowOptions({ SCSIControllerCount: 0 }), WIN_HOST);
  });

  it('VPMemDeviceCount at most 128', () => {
    rejects({ VPMemDeviceCount: 129 }, /VPMemDeviceCount=129: cannot be greater than 128/);
    verifyOptions(lcowOptions({ VPMemDeviceCount: 128 }), WIN_HOST);
  });

  it('VPMemSizeBytes a multiple of 4096 when VPMem is used', () => {
    rejects({ VPMemSizeBytes: 4097 }, /VPMemSizeBytes=4097: must be a multiple of 4096/);
    verifyOptions(lcowOptions({ VPMemSizeBytes: 4097, VPMemDeviceCount: 0 }), WIN_HOST);
  });

  it('a VHD root filesystem needs a VPMem device', () => {
    rejects(
      { VPMemDeviceCount: 0, PreferredRootFSType: PreferredRootFSType.VHD, RootFSFile: 'rootfs.vhd' },
      /PreferredRootFSType=VHD requires at least one VPMem device \(VPMemDeviceCount=0\)/,
    );
  });

  it('KernelDirect needs build 18286', () => {
    const old = { ...WIN_HOST, osBuild: 18285 };
    rejects({ KernelDirect: true }, /KernelDirect=true .*18286 \(host build 18285\)/, old);
    verifyOptions(lcowOptions({ KernelDirect: true }), { ...WIN_HOST, osBuild: 18286 });
  });

  it('EnableColdDiscardHint needs build 18967', () => {
    rejects({ EnableColdDiscardHint: true }, /EnableColdDiscardHint=true .*18967 \(host build 18966\)/, { ...WIN_HOST, osBuild: 18966 });
    verifyOptions(lcowOptions({ EnableColdDiscardHint: true }), { ...WIN_HOST, osBuild: 18967 });
  });

  it('CPUGroupID and ResourcePartitionID are mutually exclusive', () => {
    rejects({ CPUGroupID: 'a', ResourcePartitionID: 'b' }, /CPUGroupID="a" and ResourcePartitionID="b" are mutually exclusive/);
  });

  it('CPUGroupID needs build 20124', () => {
    rejects({ CPUGroupID: 'g' }, /CPUGroupID="g": .*20124 or higher \(host build 20000\)/, { ...WIN_HOST, osBuild: 20000 });
  });

  it('arm64 hosts have no VPMem', () => {
    const arm = { ...WIN_HOST, arch: 'arm64' as const };
    rejects({ VPMemDeviceCount: 1, KernelDirect: false }, /VPMemDeviceCount=1: must be 0 on arm64/, arm);
    verifyOptions(lcowOptions({ VPMemDeviceCount: 0, KernelDirect: false }, arm), arm);
  });

  it('numbers must be non-negative integers within their Go type, counts at least 1', () => {
    rejects({ MemorySizeInMB: 1.5 }, /MemorySizeInMB=1.5: must be an integer/);
    rejects({ ProcessorLimit: -1 }, /ProcessorLimit=-1/);
    rejects({ StorageQoSIopsMaximum: 2 ** 31 }, /StorageQoSIopsMaximum=2147483648/);
    rejects({ ProcessorCount: 0 }, /ProcessorCount=0: must be at least 1/);
    rejects({ MemorySizeInMB: 0 }, /MemorySizeInMB=0: must be at least 1/);
    rejects({ VPMemSizeBytes: Number.NaN }, /VPMemSizeBytes=NaN/);
    rejects({ PreferredRootFSType: 2 as PreferredRootFSType }, /PreferredRootFSType=2/);
  });
});

describe('checkBootFiles', () => {
  it('names the missing kernel first, then the root filesystem, in the seed words', () => {
    const opts = lcowOptions();
    const has = (paths: string[]) => (p: string) => paths.includes(p);
    assert.throws(() => checkBootFiles(opts, WIN_HOST, has([])), (e: unknown) => {
      assert.ok(e instanceof ShimError);
      assert.equal(e.code, ErrorCode.NotFound);
      assert.equal(e.message, "kernel: 'C:\\LCOW\\kernel' not found");
      return true;
    });
    assert.throws(() => checkBootFiles(opts, WIN_HOST, has(['C:\\LCOW\\kernel'])), {
      message: "boot file: 'C:\\LCOW\\initrd.img' not found",
    });
    checkBootFiles(opts, WIN_HOST, has(['C:\\LCOW\\kernel', 'C:\\LCOW\\initrd.img']));
  });
});

describe('normalisation', () => {
  it('memory rounds up to an even MB, with a warning only when changed', () => {
    assert.deepEqual(normalizeMemorySize(1024), { value: 1024 });
    const n = normalizeMemorySize(1025);
    assert.equal(n.value, 1026);
    assert.deepEqual(n.warning?.fields, { requested: 1025, assigned: 1026 });
    assert.match(n.warning?.message ?? '', /MemorySizeInMB to align to 2MB/);
  });

  it('processor count is clamped to the host, with a warning only when changed', () => {
    assert.deepEqual(normalizeProcessorCount(2, 8), { value: 2 });
    assert.deepEqual(normalizeProcessorCount(8, 8), { value: 8 });
    const n = normalizeProcessorCount(9, 8);
    assert.equal(n.value, 8);
    assert.deepEqual(n.warning?.fields, { requested: 9, assigned: 8 });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultExecCommandLine,
  defaultLCOWOSBootFilesPath,
  newDefaultOptionsLCOW,
  PreferredRootFSType,
  updateBootFilesPath,
} from '../../src/uvm/index.js';
import { facts, WIN_HOST } from './helpers.js';

const LOCAL = 'C:\\shim\\LinuxBootFiles';
const PF = 'C:\\Program Files\\Linux Containers';

describe('newDefaultOptionsLCOW', () => {
  it('has the seed defaults', () => {
    const o = newDefaultOptionsLCOW('id1', 'me', facts(WIN_HOST), 'info');
    assert.deepEqual(
      {
        ID: o.ID, Owner: o.Owner, MemorySizeInMB: o.MemorySizeInMB, AllowOvercommit: o.AllowOvercommit,
        EnableDeferredCommit: o.EnableDeferredCommit, FullyPhysicallyBacked: o.FullyPhysicallyBacked,
        ProcessorCount: o.ProcessorCount, ExternalGuestConnection: o.ExternalGuestConnection,
        BootFilesPath: o.BootFilesPath, KernelFile: o.KernelFile, KernelDirect: o.KernelDirect, RootFSFile: o.RootFSFile,
        SCSIControllerCount: o.SCSIControllerCount, UseGuestConnection: o.UseGuestConnection,
        ForwardStdout: o.ForwardStdout, ForwardStderr: o.ForwardStderr, VPMemDeviceCount: o.VPMemDeviceCount,
        VPMemSizeBytes: o.VPMemSizeBytes, PreferredRootFSType: o.PreferredRootFSType, VPCIEnabled: o.VPCIEnabled,
        ExecCommandLine: o.ExecCommandLine, CPUGroupID: o.CPUGroupID, NetworkConfigProxy: o.NetworkConfigProxy,
      },
      {
        ID: 'id1', Owner: 'me', MemorySizeInMB: 1024, AllowOvercommit: true, EnableDeferredCommit: false,
        FullyPhysicallyBacked: false, ProcessorCount: 2, ExternalGuestConnection: true, BootFilesPath: PF,
        KernelFile: 'kernel', KernelDirect: true, RootFSFile: 'initrd.img', SCSIControllerCount: 1,
        UseGuestConnection: true, ForwardStdout: false, ForwardStderr: true, VPMemDeviceCount: 64,
        VPMemSizeBytes: 4294967296, PreferredRootFSType: PreferredRootFSType.InitRd, VPCIEnabled: false,
        ExecCommandLine: '/bin/gcs -v4 -log-format json -loglevel info', CPUGroupID: '', NetworkConfigProxy: '',
      },
    );
  });

  it('generates a v4 UUID id and takes the executable name as owner when empty', () => {
    const o = newDefaultOptionsLCOW('', '', facts(WIN_HOST), 'info');
    assert.match(o.ID, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(o.Owner, 'containerd-shim-lcow-v1.exe');
    assert.notEqual(newDefaultOptionsLCOW('', '', facts(WIN_HOST)).ID, o.ID);
  });

  it('one processor on a one-CPU host', () => {
    assert.equal(newDefaultOptionsLCOW('a', 'b', facts({ ...WIN_HOST, logicalProcessors: 1 })).ProcessorCount, 1);
  });

  it('KernelDirect from build 18286', () => {
    assert.equal(newDefaultOptionsLCOW('a', 'b', facts({ ...WIN_HOST, osBuild: 18285 })).KernelDirect, false);
    assert.equal(newDefaultOptionsLCOW('a', 'b', facts({ ...WIN_HOST, osBuild: 18286 })).KernelDirect, true);
  });

  it('prefers LinuxBootFiles beside the executable', () => {
    const o = newDefaultOptionsLCOW('a', 'b', facts(WIN_HOST, [LOCAL]));
    assert.equal(o.BootFilesPath, LOCAL);
    const posix = facts({ ...WIN_HOST, pathFlavour: 'posix' }, ['/work/dist/bin/LinuxBootFiles'], '/work/dist/bin/containerd-shim-lcow-v1');
    assert.equal(defaultLCOWOSBootFilesPath(posix), '/work/dist/bin/LinuxBootFiles');
    assert.equal(newDefaultOptionsLCOW('', '', posix).Owner, 'containerd-shim-lcow-v1');
  });

  it('falls back to %ProgramFiles%\\Linux Containers', () => {
    const f = { ...facts(WIN_HOST), programFiles: 'D:\\Apps' };
    assert.equal(defaultLCOWOSBootFilesPath(f), 'D:\\Apps\\Linux Containers');
    assert.equal(defaultLCOWOSBootFilesPath({ ...f, programFiles: undefined }), PF);
  });

  it('detects rootfs.vhd and vmlinux', () => {
    const o = newDefaultOptionsLCOW('a', 'b', facts(WIN_HOST, [LOCAL, `${LOCAL}\\rootfs.vhd`, `${LOCAL}\\vmlinux`]));
    assert.equal(o.RootFSFile, 'rootfs.vhd');
    assert.equal(o.PreferredRootFSType, PreferredRootFSType.VHD);
    assert.equal(o.KernelFile, 'vmlinux');
  });

  it('ignores vmlinux without KernelDirect', () => {
    const o = newDefaultOptionsLCOW('a', 'b', facts({ ...WIN_HOST, osBuild: 17763 }, [LOCAL, `${LOCAL}\\vmlinux`]));
    assert.equal(o.KernelFile, 'kernel');
  });

  it('arm64: no VPMem, no KernelDirect, so no VHD root', () => {
    const arm = { ...WIN_HOST, arch: 'arm64' as const };
    const o = newDefaultOptionsLCOW('a', 'b', facts(arm, [LOCAL, `${LOCAL}\\rootfs.vhd`, `${LOCAL}\\vmlinux`]));
    assert.deepEqual([o.VPMemDeviceCount, o.KernelDirect, o.RootFSFile, o.KernelFile], [0, false, 'initrd.img', 'kernel']);
  });

  it('passes the log level to the GCS in logrus spelling', () => {
    assert.equal(defaultExecCommandLine('warn'), '/bin/gcs -v4 -log-format json -loglevel warning');
    assert.equal(defaultExecCommandLine('debug'), '/bin/gcs -v4 -log-format json -loglevel debug');
    assert.equal(defaultExecCommandLine('fatal'), '/bin/gcs -v4 -log-format json -loglevel error');
    assert.equal(newDefaultOptionsLCOW('a', 'b', facts(WIN_HOST), 'trace').ExecCommandLine, '/bin/gcs -v4 -log-format json -loglevel trace');
  });

  it('updateBootFilesPath redoes the detection in the new folder', () => {
    const f = facts(WIN_HOST, ['E:\\boot\\rootfs.vhd']);
    const o = newDefaultOptionsLCOW('a', 'b', f);
    updateBootFilesPath(o, 'E:\\boot', f);
    assert.deepEqual([o.BootFilesPath, o.RootFSFile, o.PreferredRootFSType, o.KernelFile], ['E:\\boot', 'rootfs.vhd', PreferredRootFSType.VHD, 'kernel']);
  });
});

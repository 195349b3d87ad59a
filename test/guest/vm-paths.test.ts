import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GuestError, validateContainerId, validateGuestPath, VmPaths } from '../../src/guest/index.js';

const isInvalidArg = (e: unknown): boolean => e instanceof GuestError && e.hresult === 0x80070057;

describe('guest path validation', () => {
  const paths = new VmPaths('/run/vm/abc/');

  it('lays out the VM dir per the emulator contract', () => {
    assert.equal(paths.vmDir, '/run/vm/abc');
    assert.equal(paths.rootfs, '/run/vm/abc/rootfs');
    assert.equal(paths.runcRoot, '/run/vm/abc/runc');
    assert.equal(paths.vsockPath(0x40000000), '/run/vm/abc/vsock/1073741824.sock');
    assert.equal(paths.vsockPath(1), '/run/vm/abc/vsock/1.sock');
    assert.equal(paths.plan9Link('0'), '/run/vm/abc/plan9/0');
    assert.equal(paths.scsiLink(0, 3), '/run/vm/abc/scsi/0-3');
    assert.equal(paths.bundleDir('c1'), '/run/vm/abc/rootfs/run/gcs/c/c1');
  });

  it('maps guest paths below the VM root', () => {
    assert.equal(paths.hostPath('/', 'p'), '/run/vm/abc/rootfs');
    assert.equal(paths.hostPath('/run/gcs/c/x/rootfs/', 'p'), '/run/vm/abc/rootfs/run/gcs/c/x/rootfs');
    assert.equal(paths.hostPath('//a//b/./c', 'p'), '/run/vm/abc/rootfs/a/b/c');
    assert.equal(paths.insideRootfs('/run/vm/abc/rootfs/a'), true);
    assert.equal(paths.insideRootfs('/run/vm/abc/rootfsx'), false);
    assert.equal(paths.insideRootfs('/run/vm/abc/rootfs/../x'), false);
  });

  for (const bad of ['', 'relative/path', '/a/../b', '/..', '/a/..', '/a\0b', 42, undefined]) {
    it(`rejects guest path ${JSON.stringify(bad)} with E_INVALIDARG naming the field`, () => {
      assert.throws(() => paths.hostPath(bad, 'MountPath'), (e) => isInvalidArg(e) && /MountPath/.test((e as Error).message));
    });
  }

  it('accepts dots inside names', () => {
    assert.equal(validateGuestPath('/a/..b/c..', 'p'), '/a/..b/c..');
  });

  for (const id of ['abc', 'A1', 'a'.repeat(64), 'pod_1.sandbox-x+y']) {
    it(`accepts container id ${id.slice(0, 20)}`, () => assert.equal(validateContainerId(id), id));
  }
  for (const id of ['', '.', '..', '../x', 'a/b', '-x', '_x', 'a b', 'a'.repeat(129), 7, null]) {
    it(`rejects container id ${JSON.stringify(id)}`, () => assert.throws(() => validateContainerId(id), isInvalidArg));
  }

  it('rejects share names and device numbers that are not single components', () => {
    for (const n of ['', '.', '..', 'a/b', undefined]) assert.throws(() => paths.plan9Link(n), isInvalidArg);
    assert.throws(() => paths.scsiLink(-1, 0), isInvalidArg);
    assert.throws(() => paths.scsiLink(0, 1.5), isInvalidArg);
    assert.throws(() => paths.vsockPath(0), isInvalidArg);
    assert.throws(() => new VmPaths('relative'), isInvalidArg);
  });
});

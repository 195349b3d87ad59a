import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode, isErrorCode } from '../../src/errdefs/index.js';
import {
  DEFAULT_EMULATOR_ROOT,
  emulatedHvSocketPath,
  emulatedVmDir,
  emulatedVsockPath,
  emulatorRoot,
  unixSocketPath,
  vsockServiceId,
} from '../../src/transport/index.js';

const RID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

describe('emulated paths', () => {
  const saved = process.env.LCOW_EMULATOR_ROOT;
  afterEach(() => {
    if (saved === undefined) delete process.env.LCOW_EMULATOR_ROOT;
    else process.env.LCOW_EMULATOR_ROOT = saved;
  });

  it('defaults to /run/containerd-shim-lcow-v1/vm, honours the env and an explicit root', () => {
    delete process.env.LCOW_EMULATOR_ROOT;
    assert.equal(emulatorRoot(), DEFAULT_EMULATOR_ROOT);
    assert.equal(emulatedVmDir(RID), `/run/containerd-shim-lcow-v1/vm/${RID}`);
    process.env.LCOW_EMULATOR_ROOT = '/tmp/emu';
    assert.equal(emulatedVmDir(RID), `/tmp/emu/${RID}`);
    assert.equal(emulatedVmDir(RID, '/x'), `/x/${RID}`);
  });

  it('names vsock sockets by decimal port', () => {
    assert.equal(emulatedVsockPath(RID, 0x40000000, '/r'), `/r/${RID}/vsock/1073741824.sock`);
    assert.equal(emulatedVsockPath(RID.toUpperCase(), 109, '/r'), `/r/${RID}/vsock/109.sock`);
    assert.equal(emulatedHvSocketPath({ vmId: RID, serviceId: vsockServiceId(0x40000001) }, '/r'), `/r/${RID}/vsock/1073741825.sock`);
  });

  it('refuses runtime ids that are not GUIDs (no path traversal) and non-vsock service ids', () => {
    assert.throws(() => emulatedVmDir('../etc', '/r'), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
    assert.throws(() => emulatedVsockPath(RID, -1, '/r'), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
    assert.throws(
      () => emulatedHvSocketPath({ vmId: RID, serviceId: 'e0e16197-dd56-4a10-9195-5ee7a155a838' }, '/r'),
      (e) => isErrorCode(e, ErrorCode.InvalidArgument) && /not a vsock service id/.test(String(e)),
    );
  });
});

describe('unixSocketPath', () => {
  it('strips unix:// and accepts 107 bytes', () => {
    assert.equal(unixSocketPath('unix:///run/x.sock'), '/run/x.sock');
    const p = '/' + 'a'.repeat(106);
    assert.equal(unixSocketPath(p), p);
  });

  it('rejects 108 bytes and more, empty and NUL, with a clear error', () => {
    assert.throws(() => unixSocketPath('/' + 'a'.repeat(107)), (e) => isErrorCode(e, ErrorCode.InvalidArgument) && /108 bytes, the limit is 107/.test(String(e)));
    assert.throws(() => unixSocketPath('/' + 'é'.repeat(54)), (e) => isErrorCode(e, ErrorCode.InvalidArgument)); // 109 bytes in UTF-8
    assert.throws(() => unixSocketPath('unix://'), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
    assert.throws(() => unixSocketPath('/a\0b'), (e) => isErrorCode(e, ErrorCode.InvalidArgument));
  });
});

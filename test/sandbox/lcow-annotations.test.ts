import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, isErrorCode } from '../../src/errdefs/index.js';
import { uvmOptionsFromAnnotations } from '../../src/sandbox/index.js';

const VM = 'io.microsoft.virtualmachine';
const code = (c: ErrorCode, re: RegExp) => (e: unknown): boolean => isErrorCode(e, c) && re.test((e as Error).message);

describe('annotations → CreateLCOW options: NUMA, HvSocket, VPMem, scratch, overlays, dumps', () => {
  it('maps every key to its option with hcsshim types', () => {
    const o = uvmOptionsFromAnnotations({
      [`${VM}.computetopology.processor.numa.max-processors-per-node`]: '4',
      [`${VM}.computetopology.processor.numa.max-size-per-node`]: '8192',
      [`${VM}.computetopology.numa.preferred-physical-nodes`]: '0,1',
      [`${VM}.computetopology.numa.mapped-physical-nodes`]: '0,1',
      [`${VM}.computetopology.numa.count-of-processors`]: '2,2',
      [`${VM}.computetopology.numa.count-of-memory-blocks`]: '1024,1024',
      [`${VM}.lcow.vpmem.nomultimapping`]: 'true',
      [`${VM}.lcow.extra-vsock-ports`]: '8000,8001',
      [`${VM}.lcow.writable-overlay-directories`]: 'true',
      [`${VM}.dump-directory-path`]: 'C:\\dumps',
      [`${VM}.storage.scratch.encrypted`]: 'false',
      [`${VM}.hv-socket.service-table.ABCDEF01-2345-6789-ABCD-EF0123456789`]: '{"AllowWildcardBinds":true,"BindSecurityDescriptor":"D:P(A;;FA;;;WD)"}',
    });
    assert.deepEqual(o, {
      MaxProcessorsPerNumaNode: 4,
      MaxMemorySizePerNumaNode: 8192,
      PreferredPhysicalNumaNodes: [0, 1],
      NumaMappedPhysicalNodes: [0, 1],
      NumaProcessorCounts: [2, 2],
      NumaMemoryBlocksCounts: [1024, 1024],
      VPMemNoMultiMapping: true,
      EnableScratchEncryption: false,
      ExtraVSockPorts: [8000, 8001],
      WritableOverlayDirs: true,
      DumpDirectoryPath: 'C:\\dumps',
      AdditionalHyperVConfig: { 'abcdef01-2345-6789-abcd-ef0123456789': { AllowWildcardBinds: true, BindSecurityDescriptor: 'D:P(A;;FA;;;WD)' } },
    });
  });

  it('an empty list is "not set", as hcsshim', () => {
    assert.deepEqual(uvmOptionsFromAnnotations({ [`${VM}.lcow.extra-vsock-ports`]: '' }), {});
  });

  it('bad values are InvalidArgument naming the annotation and the value', () => {
    const bad = (key: string, value: string, re: RegExp): void =>
      assert.throws(() => uvmOptionsFromAnnotations({ [key]: value }), code(ErrorCode.InvalidArgument, re));
    bad(`${VM}.lcow.extra-vsock-ports`, '8000, 8001', /extra-vsock-ports: '8000, 8001' is not a comma-separated list/);
    bad(`${VM}.lcow.extra-vsock-ports`, '4294967296', /4294967296 is larger than 4294967295/);
    bad(`${VM}.computetopology.numa.count-of-processors`, '2,-1', /count-of-processors: '2,-1'/);
    bad(`${VM}.computetopology.processor.numa.max-processors-per-node`, 'four', /max-processors-per-node: 'four'/);
    bad(`${VM}.lcow.vpmem.nomultimapping`, 'yes', /nomultimapping: 'yes' is not a boolean/);
    bad(`${VM}.lcow.writable-overlay-directories`, 'on', /writable-overlay-directories: 'on'/);
    bad(`${VM}.hv-socket.service-table.not-a-guid`, '{}', /service-table.not-a-guid: 'not-a-guid' is not a GUID/);
    const svc = `${VM}.hv-socket.service-table.abcdef01-2345-6789-abcd-ef0123456789`;
    bad(svc, '{AllowWildcardBinds:true}', /is not JSON/);
    bad(svc, '[]', /is not a JSON object/);
    bad(svc, '{"AllowWildcardBind":true}', /unknown HvSocketServiceConfig field "AllowWildcardBind"/);
    bad(svc, '{"AllowWildcardBinds":"true"}', /AllowWildcardBinds must be a boolean/);
  });

  it('storage.scratch.encrypted=true is refused as NotImplemented (no clear-text scratch behind the user\'s back)', () => {
    assert.throws(() => uvmOptionsFromAnnotations({ [`${VM}.storage.scratch.encrypted`]: 'true' }),
      code(ErrorCode.NotImplemented, /storage\.scratch\.encrypted=true: scratch encryption is not implemented/));
  });
});

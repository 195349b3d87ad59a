/**
 * The runhcs annotations that are not document options: disable-unsafe-operations expansion, the GCS
 * command line extras, and the spec.windows.resources fallback of the VM's size (effectiveAnnotations).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/errdefs/index.js';
import {
  Annotation, GuestAnnotation, effectiveAnnotations, expandAnnotations, gcsCommandLineExtras, uvmOptionsFromAnnotations,
} from '../../src/sandbox/index.js';

const code = (c: ErrorCode) => (e: { code?: ErrorCode }) => e.code === c;

describe('disable-unsafe-operations (runhcs ProcessAnnotations)', () => {
  it('expands to the annotations it stands for, with its own value', () => {
    const a = expandAnnotations({ [GuestAnnotation.DisableUnsafeOperations]: 'true', other: 'x' });
    assert.equal(a[GuestAnnotation.DisableWritableFileShares], 'true');
    assert.equal(a[GuestAnnotation.WcowDisableGmsa], 'true');
    assert.equal(a[GuestAnnotation.VsmbNoDirectMap], 'true');
    assert.equal(a[GuestAnnotation.DisableHostProcessContainer], 'true');
    assert.equal(a.other, 'x');
    assert.deepEqual(expandAnnotations({ a: 'b' }), { a: 'b' });
  });

  it('an expansion target already set to another value is a conflict (InvalidArgument naming both)', () => {
    assert.throws(
      () => expandAnnotations({ [GuestAnnotation.DisableUnsafeOperations]: 'true', [GuestAnnotation.DisableWritableFileShares]: 'false' }),
      (e: { code?: ErrorCode; message: string }) => e.code === ErrorCode.InvalidArgument && /annotation expansion conflict/.test(e.message) && e.message.includes(GuestAnnotation.DisableWritableFileShares),
    );
    // the same value is no conflict
    expandAnnotations({ [GuestAnnotation.DisableUnsafeOperations]: 'true', [GuestAnnotation.DisableWritableFileShares]: 'true' });
  });
});

describe('GCS command line extras (CreateLCOW)', () => {
  it('extra exec args, -disable-time-sync, -scrub-logs=false, -core-dump-location, in that order', () => {
    assert.equal(gcsCommandLineExtras({}), '');
    assert.equal(gcsCommandLineExtras({ [GuestAnnotation.DisableTimeSync]: 'false' }), '');
    assert.equal(
      gcsCommandLineExtras({
        [GuestAnnotation.ExtraExecArgs]: ' -loglevel trace ', [GuestAnnotation.DisableTimeSync]: 'true',
        [GuestAnnotation.ProcessDumpLocation]: '/dumps/core.%p',
      }, true),
      ' -loglevel trace -disable-time-sync -scrub-logs=false -core-dump-location /dumps/core.%p',
    );
  });

  it('bad values are InvalidArgument naming the annotation', () => {
    assert.throws(() => gcsCommandLineExtras({ [GuestAnnotation.DisableTimeSync]: 'yes' }), code(ErrorCode.InvalidArgument));
    assert.throws(() => gcsCommandLineExtras({ [GuestAnnotation.ProcessDumpLocation]: '/a b' }), /processdumplocation/);
  });
});

describe('spec.windows.resources fallback', () => {
  const windows = { resources: { cpu: { count: 4, maximum: 5000, shares: 300 }, memory: { limit: 3 * 1024 * 1024 * 1024 }, storage: { iops: 100, bps: 2000 } } };

  it('fills what neither the annotations nor the runtime options say', () => {
    const a = effectiveAnnotations({}, {}, windows);
    assert.equal(a[Annotation.ProcessorCount], '4');
    assert.equal(a[Annotation.ProcessorLimit], '5000');
    assert.equal(a[Annotation.ProcessorWeight], '300');
    assert.equal(a[Annotation.MemorySizeInMB], '3072');
    assert.equal(a[Annotation.StorageQoSIopsMaximum], '100');
    assert.equal(a[Annotation.StorageQoSBandwidthMaximum], '2000');
  });

  it('a spec annotation wins, then the runtime option, then windows resources; zero and junk are ignored', () => {
    const a = effectiveAnnotations({ [Annotation.ProcessorCount]: '1' }, { vmMemorySizeInMB: 512 }, windows);
    assert.equal(a[Annotation.ProcessorCount], '1');
    assert.equal(a[Annotation.MemorySizeInMB], '512');
    const b = effectiveAnnotations({}, {}, { resources: { cpu: { count: 0, maximum: 'x' }, memory: { limit: 1000 } } });
    assert.equal(b[Annotation.ProcessorCount], undefined);
    assert.equal(b[Annotation.ProcessorLimit], undefined);
    assert.equal(b[Annotation.MemorySizeInMB], undefined, 'less than 1 MB says nothing');
  });
});

describe('resource-partition-id', () => {
  it('a GUID sets ResourcePartitionID; anything else is InvalidArgument (runhcs ParseAnnotationsGUID errors too)', () => {
    const g = 'A0B1C2D3-0000-4000-8000-00000000ABCD';
    assert.equal(uvmOptionsFromAnnotations({ [Annotation.ResourcePartitionID]: g }).ResourcePartitionID, g.toLowerCase());
    assert.throws(() => uvmOptionsFromAnnotations({ [Annotation.ResourcePartitionID]: 'part-1' }), /resource-partition-id: 'part-1' is not a GUID/);
  });
});

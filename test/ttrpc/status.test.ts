import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, GrpcCode, ShimError, notFound, notImplemented } from '../../src/errdefs/index.js';
import { google } from '../../src/proto/index.js';
import {
  OversizedMessageError,
  TtrpcClosedError,
  TtrpcStatusError,
  fromStatus,
  toStatus,
  unmarshalPayload,
} from '../../src/ttrpc/index.js';

describe('toStatus', () => {
  const cases: Array<[string, unknown, number, string]> = [
    ['ShimError NotFound', notFound('container c1 not found'), GrpcCode.NotFound, 'container c1 not found'],
    ['NotImplemented', notImplemented('method Nope'), GrpcCode.Unimplemented, 'method Nope'],
    ['FailedPrecondition', new ShimError(ErrorCode.FailedPrecondition, 'not running'), GrpcCode.FailedPrecondition, 'not running'],
    ['DeadlineExceeded', new ShimError(ErrorCode.DeadlineExceeded, 'late'), GrpcCode.DeadlineExceeded, 'late'],
    ['oversized', new OversizedMessageError(5000000), GrpcCode.ResourceExhausted, 'message length 5000000 exceed maximum message size of 4194304'],
    ['closed', new TtrpcClosedError(), GrpcCode.Unavailable, 'ttrpc: closed'],
    ['plain Error', new Error('boom'), GrpcCode.Unknown, 'boom'],
    ['thrown string', 'text', GrpcCode.Unknown, 'text'],
    ['Node ENOENT', Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }), GrpcCode.NotFound, 'ENOENT: no such file'],
    ['relayed PermissionDenied keeps its exact code', new TtrpcStatusError(GrpcCode.PermissionDenied, 'nope'), GrpcCode.PermissionDenied, 'nope'],
    ['cause chain', new Error('outer', { cause: notFound('inner') }), GrpcCode.NotFound, 'outer'],
  ];
  for (const [name, err, code, message] of cases) {
    it(`maps ${name} to code ${code}`, () => {
      assert.deepEqual(toStatus(err), { code, message });
    });
  }

  it('never produces OK for an error', () => {
    assert.equal(toStatus(new TtrpcStatusError(GrpcCode.OK, 'odd')).code, GrpcCode.Unknown);
  });
});

describe('fromStatus', () => {
  it('treats an absent status and code 0 as success', () => {
    assert.equal(fromStatus(undefined), undefined);
    assert.equal(fromStatus(null), undefined);
    assert.equal(fromStatus({}), undefined);
    assert.equal(fromStatus({ code: 0, message: 'ignored' }), undefined);
  });

  it('turns a failure into a TtrpcStatusError with the gRPC code and the errdefs code', () => {
    const err = fromStatus({ code: GrpcCode.Unimplemented, message: 'method Foo' });
    assert.ok(err instanceof TtrpcStatusError);
    assert.ok(err instanceof ShimError);
    assert.equal(err.grpcCode, 12);
    assert.equal(err.code, ErrorCode.NotImplemented);
    assert.equal(err.message, 'method Foo');
  });

  it('maps codes containerd has no errdefs for to Unknown but keeps the number', () => {
    const err = fromStatus({ code: GrpcCode.PermissionDenied, message: 'x' });
    assert.equal(err?.code, ErrorCode.Unknown);
    assert.equal(err?.grpcCode, 7);
  });
});

describe('unmarshalPayload', () => {
  it('returns the decoded message', () => {
    const bytes = google.rpc.Status.encode({ code: 5, message: 'm' }).finish();
    assert.equal(unmarshalPayload(bytes, (b) => google.rpc.Status.decode(b)).code, 5);
  });

  it('turns a decode failure into Internal "ttrpc: error unmarshalling payload: …"', () => {
    assert.throws(
      () => unmarshalPayload(Buffer.from('0aff', 'hex'), (b) => google.rpc.Status.decode(b)),
      (err: unknown) => {
        assert.ok(err instanceof ShimError);
        assert.equal(err.code, ErrorCode.Internal);
        assert.match(err.message, /^ttrpc: error unmarshalling payload: .+/);
        assert.equal(toStatus(err).code, GrpcCode.Internal);
        assert.ok(err.cause instanceof Error);
        return true;
      },
    );
  });
});

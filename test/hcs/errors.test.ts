import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, HResult, ShimError, errorCodeForHresult, isErrorCode } from '../../src/errdefs/index.js';
import {
  HcsError,
  asHcsError,
  isAlreadyStopped,
  isNotExist,
  isPending,
  isTimeout,
} from '../../src/hcs/index.js';

test('HRESULTs are stored unsigned whatever sign they arrive with', () => {
  const e = new HcsError({ operation: 'HcsStartComputeSystem', hresult: -2143878889 });
  assert.equal(e.hresult, 0x80370117);
  assert.equal(new HcsError({ operation: 'x', hresult: 0xc037010e }).hresult, 0xc037010e);
});

test('HcsError is a ShimError with the code derived from the HRESULT', () => {
  const cases: Array<[number, ErrorCode]> = [
    [0xc037010e, ErrorCode.NotFound],
    [0x8037010e, ErrorCode.NotFound],
    [0x80070490, ErrorCode.NotFound],
    [0x80070005, ErrorCode.FailedPrecondition],
    [0x8037011b, ErrorCode.FailedPrecondition],
    [0x80370118, ErrorCode.DeadlineExceeded],
    [0xc0370118, ErrorCode.DeadlineExceeded],
    [0x800705b4, ErrorCode.DeadlineExceeded],
    [0xc037010d, ErrorCode.InvalidArgument],
    [0x8037010d, ErrorCode.InvalidArgument],
    [0x80070057, ErrorCode.InvalidArgument],
    [0x8007000d, ErrorCode.InvalidArgument],
    [0x8037010f, ErrorCode.AlreadyExists],
    [0x80004005, ErrorCode.Unknown],
    [0xc0370110, ErrorCode.FailedPrecondition],
    [0x80370105, ErrorCode.FailedPrecondition],
    [0x80004001, ErrorCode.NotImplemented],
  ];
  for (const [hr, code] of cases) {
    assert.equal(errorCodeForHresult(hr | 0), code, `0x${hr.toString(16)}`);
    const e = new HcsError({ operation: 'op', hresult: hr | 0 });
    assert.ok(e instanceof ShimError);
    assert.equal(e.code, code);
  }
});

test('message names operation, system, HRESULT and event messages; evidence is kept', () => {
  const events = [{ Message: 'The virtual machine could not be started', Provider: 'p', EventId: 12010 }];
  const e = new HcsError({ operation: 'HcsStartComputeSystem', hresult: 0x80370102, systemId: 'vm-ü-雪', events, message: 'Hyper-V missing' });
  assert.equal(
    e.message,
    'hcs::HcsStartComputeSystem vm-ü-雪: Hyper-V missing (hresult 0x80370102) [The virtual machine could not be started]',
  );
  assert.equal(e.systemId, 'vm-ü-雪');
  assert.deepEqual(e.events, events);
  assert.equal(e.name, 'HcsError');
  assert.equal(new HcsError({ operation: 'op', hresult: 0 }).events.length, 0);
});

test('predicates accept both the 0xC037 and the 0x8037 forms, through cause chains and as numbers', () => {
  const wrap = (hr: number): Error => new ShimError(ErrorCode.Unknown, 'outer', { cause: new HcsError({ operation: 'op', hresult: hr }) });
  for (const hr of [0xc037010e, 0x8037010e, 0x80070490]) assert.ok(isNotExist(wrap(hr)) && isNotExist(hr), hr.toString(16));
  for (const hr of [0xc0370110, 0x80370110, 0x8037011f, 0xc037011f, 0x80070490]) assert.ok(isAlreadyStopped(wrap(hr)), hr.toString(16));
  for (const hr of [0xc0370103, 0x80370103, 0x80370117]) assert.ok(isPending(wrap(hr)), hr.toString(16));
  for (const hr of [0x80370118, 0xc0370118, 0x800705b4]) assert.ok(isTimeout(wrap(hr)), hr.toString(16));
  // negatives: neighbours, other facilities, non-HCS errors
  assert.equal(isNotExist(0xc037010f), false);
  assert.equal(isNotExist(0x8007010e), false);
  assert.equal(isAlreadyStopped(0xc037010e), false);
  assert.equal(isPending(0x80370118), false);
  assert.equal(isTimeout(0x80370117), false);
  assert.equal(isNotExist(new Error('0xc037010e')), false);
  assert.equal(isNotExist(undefined), false);
  assert.ok(isErrorCode(wrap(0x8037010e), ErrorCode.Unknown));
  assert.equal(asHcsError(wrap(0xc0370110))?.hresult, HResult.ErrVmcomputeAlreadyStopped);
});

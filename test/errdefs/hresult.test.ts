import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, HResult, errorCodeForHresult, formatHresult, hresultFailed, isHcsCode } from '../../src/errdefs/index.js';

test('one HRESULT table: every layer maps the same HRESULT to the same code, signed or unsigned', () => {
  const cases: Array<[number, ErrorCode]> = [
    [HResult.ErrComputeSystemDoesNotExist, ErrorCode.NotFound],
    [HResult.HCS_E_SYSTEM_NOT_FOUND, ErrorCode.NotFound],
    [HResult.ErrElementNotFound, ErrorCode.NotFound],
    [HResult.ErrVmcomputeSystemAlreadyExists, ErrorCode.AlreadyExists],
    [HResult.HCS_E_SYSTEM_ALREADY_EXISTS, ErrorCode.AlreadyExists],
    [HResult.ErrAlreadyExists, ErrorCode.AlreadyExists],
    [HResult.ErrInvalidState, ErrorCode.FailedPrecondition],
    [HResult.ErrVmcomputeOperationInvalidState, ErrorCode.FailedPrecondition],
    [HResult.ErrVmcomputeAlreadyStopped, ErrorCode.FailedPrecondition],
    [HResult.HCS_E_SYSTEM_ALREADY_STOPPED, ErrorCode.FailedPrecondition],
    [HResult.ErrVmcomputeUnsupportedProtocolVersion, ErrorCode.FailedPrecondition],
    [HResult.E_ACCESSDENIED, ErrorCode.FailedPrecondition],
    [HResult.HCS_E_ACCESS_DENIED, ErrorCode.FailedPrecondition],
    [HResult.E_NOTIMPL, ErrorCode.NotImplemented],
    [HResult.ErrVmcomputeUnknownMessage, ErrorCode.NotImplemented],
    [HResult.ErrNotSupported, ErrorCode.NotImplemented],
    [HResult.E_INVALIDARG, ErrorCode.InvalidArgument],
    [HResult.ErrVmcomputeInvalidJSON, ErrorCode.InvalidArgument],
    [HResult.HCS_E_INVALID_JSON, ErrorCode.InvalidArgument],
    [HResult.ErrInvalidData, ErrorCode.InvalidArgument],
    [HResult.ErrVmcomputeTimeout, ErrorCode.DeadlineExceeded],
    [HResult.HCS_E_OPERATION_TIMEOUT, ErrorCode.DeadlineExceeded],
    [HResult.ErrTimeout, ErrorCode.DeadlineExceeded],
    [HResult.ErrCancelled, ErrorCode.Canceled],
    [HResult.E_ABORT, ErrorCode.Canceled],
    [HResult.E_FAIL, ErrorCode.Unknown],
    [HResult.ErrVmcomputeUnexpectedExit, ErrorCode.Unknown],
    [0x12345678, ErrorCode.Unknown],
  ];
  for (const [hr, code] of cases) {
    assert.equal(errorCodeForHresult(hr), code, formatHresult(hr));
    assert.equal(errorCodeForHresult(hr | 0), code, `${formatHresult(hr)} as a signed int32`);
  }
});

test('every name is an unsigned 32-bit value, and no value has two names of the same family', () => {
  for (const [name, value] of Object.entries(HResult)) {
    assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, name);
  }
  const values = Object.values(HResult);
  assert.equal(new Set(values).size, values.length, 'one name per HRESULT');
});

test('isHcsCode accepts both the 0xC037 and the 0x8037 forms and nothing else', () => {
  assert.ok(isHcsCode(0xc037010e, 0x010e));
  assert.ok(isHcsCode(0x8037010e | 0, 0x010e));
  assert.ok(!isHcsCode(0x8007010e, 0x010e));
  assert.ok(!isHcsCode(0xc037010f, 0x010e));
});

test('the one hex spelling, and the severity bit', () => {
  assert.equal(formatHresult(-2147467259), '0x80004005');
  assert.equal(formatHresult(0x10e), '0x0000010e');
  assert.ok(hresultFailed(HResult.E_FAIL | 0));
  assert.ok(!hresultFailed(HResult.S_OK));
});
